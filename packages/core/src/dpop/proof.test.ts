import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { accessTokenHash, verifyDpopProof } from './proof.js';

// RFC 9449 §7.1 Figure 13: a request to a protected resource, and its proof (iat 1562262618).
const RFC_ACCESS_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
const RFC_PROOF = [
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik',
  'VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR',
  'nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE',
  'QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIj',
  'oiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0Z',
  'WRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF',
  'c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E',
  'OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA',
].join('');
// RFC 9449 §6.1: the thumbprint of the key in the RFC's proofs.
const RFC_JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
const RFC_REQUEST = { method: 'GET', url: 'https://resource.example.org/protectedresource', accessToken: RFC_ACCESS_TOKEN };
const POLICY = { algorithms: ['ES256', 'EdDSA'], iatWindow: 60, now: 1562262618 };

describe('RFC 9449 test vectors', () => {
  it('ath of the §7.1 access token', async () => {
    expect(await accessTokenHash(RFC_ACCESS_TOKEN)).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('verifies the §7.1 proof at its iat, with the §6.1 thumbprint', async () => {
    const verified = await verifyDpopProof(RFC_PROOF, RFC_REQUEST, POLICY);
    expect(verified).toMatchObject({ ok: true, jkt: RFC_JKT, jti: 'e1j3V_bKic8-LAEB', iat: 1562262618, nonce: undefined });
  });

  it('matches htu after URL normalisation, ignoring the query (§4.3)', async () => {
    const url = 'HTTPS://Resource.Example.ORG:443/protectedresource?page=2#top';
    expect(await verifyDpopProof(RFC_PROOF, { ...RFC_REQUEST, url }, POLICY)).toMatchObject({ ok: true });
  });

  it.each([
    ['another method', { ...RFC_REQUEST, method: 'POST' }, POLICY, 'htm'],
    ['another path', { ...RFC_REQUEST, url: 'https://resource.example.org/other' }, POLICY, 'htu'],
    ['another scheme', { ...RFC_REQUEST, url: 'http://resource.example.org/protectedresource' }, POLICY, 'htu'],
    ['another port', { ...RFC_REQUEST, url: 'https://resource.example.org:8443/protectedresource' }, POLICY, 'htu'],
    ['another access token', { ...RFC_REQUEST, accessToken: 'other' }, POLICY, 'ath'],
    ['a minute and a second later', RFC_REQUEST, { ...POLICY, now: POLICY.now + 61 }, 'iat'],
    ['a minute and a second earlier', RFC_REQUEST, { ...POLICY, now: POLICY.now - 61 }, 'iat'],
    ['ES256 not allowed', RFC_REQUEST, { ...POLICY, algorithms: ['EdDSA'] }, 'alg'],
  ])('refuses it for %s', async (_what, request, policy, named) => {
    const refused = await verifyDpopProof(RFC_PROOF, request, policy);
    expect(refused.ok).toBe(false);
    expect(refused.ok === false && refused.reason).toContain(named);
  });

  it('refuses it with a changed signature', async () => {
    const tampered = `${RFC_PROOF.slice(0, -2)}${RFC_PROOF.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(await verifyDpopProof(tampered, RFC_REQUEST, POLICY)).toMatchObject({ ok: false, reason: expect.stringContaining('signature') });
  });
});

describe('verifyDpopProof', () => {
  const request = { method: 'GET', url: 'https://api.example/r' };
  const now = Math.floor(Date.now() / 1000);
  const policy = { algorithms: ['ES256', 'EdDSA', 'PS256'], iatWindow: 60, now };

  async function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const proof = await new SignJWT({ jti: 'j1', htm: 'GET', htu: 'https://api.example/r', iat: now, ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
      .sign(privateKey);
    return { proof, jwk, privateJwk: await exportJWK(privateKey) };
  }

  it('gives the thumbprint, the public key, jti, iat and nonce of a good proof', async () => {
    const { proof, jwk } = await signed({ nonce: 'n-1' });
    expect(await verifyDpopProof(proof, request, policy)).toEqual({ ok: true, jkt: await calculateJwkThumbprint(jwk), jwk, jti: 'j1', iat: now, nonce: 'n-1' });
  });

  it('needs no ath without an access token (a token endpoint)', async () => {
    expect(await verifyDpopProof((await signed({})).proof, request, policy)).toMatchObject({ ok: true });
  });

  it.each([
    ['no jti', { jti: undefined }, 'jti'],
    ['an empty jti', { jti: '' }, 'jti'],
    ['a jti of 257 characters', { jti: 'x'.repeat(257) }, 'jti'],
    ['no iat', { iat: undefined }, 'iat'],
    ['a string iat', { iat: String(now) }, 'iat'],
    ['a number nonce', { nonce: 7 }, 'nonce'],
    ['no htu', { htu: undefined }, 'htu'],
    ['an htu that is no URL', { htu: '/r' }, 'htu'],
    ['an expired exp', { exp: now - 10 }, 'expired'],
  ])('refuses a proof with %s', async (_what, claims, named) => {
    const refused = await verifyDpopProof((await signed(claims)).proof, request, policy);
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining(named) });
  });

  it('refuses a proof that carries its private key', async () => {
    const { privateJwk } = await signed({});
    const { proof } = await signed({}, { jwk: privateJwk });
    expect(await verifyDpopProof(proof, request, policy)).toMatchObject({ ok: false });
  });

  it.each([['JWT'], ['at+jwt'], [undefined]])('refuses typ %s', async (typ) => {
    const { proof } = await signed({}, { typ });
    expect(await verifyDpopProof(proof, request, policy)).toMatchObject({ ok: false, reason: expect.stringContaining('typ') });
  });

  it('refuses a proof without a jwk, and one of more than 8 KiB', async () => {
    const { proof } = await signed({}, { jwk: undefined });
    expect(await verifyDpopProof(proof, request, policy)).toMatchObject({ ok: false });
    expect(await verifyDpopProof('a'.repeat(8193), request, policy)).toEqual({ ok: false, reason: 'the DPoP proof is too long' });
  });

  it('refuses a proof that names crit or b64: no extension is understood here', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const claims = { jti: 'j1', htm: 'GET', htu: 'https://api.example/r', iat: now };
    const withCrit = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, crit: ['b64'], b64: true }).sign(privateKey);
    expect(await verifyDpopProof(withCrit, request, policy)).toMatchObject({ ok: false, reason: expect.stringContaining('crit') });
  });

  it('refuses garbage without throwing', async () => {
    for (const garbage of ['', 'a.b.c', '...', 'eyJhbGciOiJub25lIn0.e30.', `${'e30.'.repeat(2)}`]) {
      expect(await verifyDpopProof(garbage, request, policy)).toMatchObject({ ok: false });
    }
  });
});
