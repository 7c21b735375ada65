import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import { createProtectedResource } from '../resource-metadata.js';
import { MemoryRevocationStore, StoreUnavailable } from '../revocation-store.js';
import { createDpopNonces } from './nonce.js';

// The authenticator's DPoP path without HTTP; test/cases-dpop.ts runs the answers through every
// adapter, test/dpop.test.ts the frameworks' origins and Redis.

const SECRET = 'a-dpop-test-secret-of-at-least-32-bytes';
const ORIGIN = 'https://api.example';

async function fixture() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk);
  const key = new TextEncoder().encode(SECRET);
  const token = await new SignJWT({ sub: 'u', cnf: { jkt } }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(key);
  const proof = async (claims: Record<string, unknown> = {}) => {
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
    return new SignJWT({ jti: crypto.randomUUID(), htm: 'GET', htu: `${ORIGIN}/r`, iat: Math.floor(Date.now() / 1000), ath, ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(privateKey);
  };
  return { jkt, token, proof };
}

const request = (token: string, proof: string | undefined, extra: Record<string, string> = {}) => ({
  method: 'GET',
  url: '/r',
  headers: { authorization: `DPoP ${token}`, ...(proof === undefined ? {} : { dpop: proof }), ...extra },
});

describe('jwtAuth({ dpop }) options', () => {
  const create = (dpop: unknown) => () => createAuthenticator({ secret: SECRET, dpop: dpop as never });
  it.each([
    ['a string', 'required', '"dpop" must be an object'],
    ['an unknown mode', { mode: 'optional' }, '"dpop.mode"'],
    ['an unknown field', { modes: 'required' }, 'unknown option "dpop.modes"'],
    ['HS256 among the algorithms', { algorithms: ['ES256', 'HS256'] }, 'only asymmetric'],
    ['none among the algorithms', { algorithms: ['none'] }, 'only asymmetric'],
    ['no algorithms', { algorithms: [] }, 'non-empty array'],
    ['an iatWindow of 0', { iatWindow: 0 }, '"dpop.iatWindow"'],
    ['an iatWindow of a day', { iatWindow: '1d' }, '"dpop.iatWindow"'],
    ['nonces that are not createDpopNonces()', { nonces: {} }, 'createDpopNonces'],
    ['a replay store without markUsed', { replayStore: {} }, 'markUsed'],
    ['an origin with a path', { origin: 'https://api.example/v1' }, '"dpop.origin"'],
    ['an origin that is not a URL', { origin: 'api.example' }, '"dpop.origin"'],
  ])('refuses %s at start-up with a TypeError', (_what, dpop, message) => {
    expect(create(dpop)).toThrow(TypeError);
    expect(create(dpop)).toThrow(message);
  });

  it('accepts an empty object (mode "allowed") and every documented field', () => {
    expect(create({})).not.toThrow();
    const nonces = createDpopNonces({ secret: SECRET });
    expect(
      create({ mode: 'required', algorithms: ['EdDSA'], iatWindow: '30s', nonces, replayStore: new MemoryRevocationStore(), origin: ORIGIN }),
    ).not.toThrow();
  });
});

describe('the authenticator with dpop', () => {
  it('attaches the thumbprint of the proof key', async () => {
    const { jkt, token, proof } = await fixture();
    const auth = createAuthenticator({ secret: SECRET, dpop: { origin: ORIGIN } });
    const result = await auth.authenticate(request(token, await proof()), undefined);
    expect(result).toMatchObject({ ok: true, auth: { dpop: { jkt } } });
  });

  it('takes htu from an absolute request URL (Fetch) and from the request origin (Node)', async () => {
    const { token, proof } = await fixture();
    const auth = createAuthenticator({ secret: SECRET, dpop: {} });
    const fetchRequest = { ...request(token, await proof()), url: `${ORIGIN}/r` };
    expect((await auth.authenticate(fetchRequest, undefined)).ok).toBe(true);
    const nodeRequest = { ...request(token, await proof()), origin: ORIGIN };
    expect((await auth.authenticate(nodeRequest, undefined)).ok).toBe(true);
  });

  it('throws a TypeError that says what to set when a Node request has no origin and none is configured', async () => {
    const { token, proof } = await fixture();
    const auth = createAuthenticator({ secret: SECRET, dpop: {} });
    await expect(auth.authenticate(request(token, await proof()), undefined)).rejects.toThrow(/dpop\.origin/);
  });

  it('defaults the origin to that of the resource option', async () => {
    const { token } = await fixture();
    const key = new TextEncoder().encode(SECRET);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const bound = await new SignJWT({ aud: `${ORIGIN}/mcp`, cnf: { jkt: await calculateJwkThumbprint(jwk) } })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(key);
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(bound))).toString('base64url');
    const proof = await new SignJWT({ jti: 'j', htm: 'POST', htu: `${ORIGIN}/mcp`, iat: Math.floor(Date.now() / 1000), ath })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(privateKey);
    const auth = createAuthenticator({ secret: SECRET, resource: { resource: `${ORIGIN}/mcp` }, dpop: {} });
    const result = await auth.authenticate({ method: 'POST', url: '/mcp', headers: { authorization: `DPoP ${bound}`, dpop: proof } }, undefined);
    expect(result.ok).toBe(true);
    expect(token).not.toBe(bound);
  });

  it('answers store_unavailable when the replay store cannot answer, and lets the store error of another kind through', async () => {
    const { token, proof } = await fixture();
    const down = { markUsed: () => Promise.reject(new StoreUnavailable('redis is down')) };
    const result = await createAuthenticator({ secret: SECRET, dpop: { origin: ORIGIN, replayStore: down } }).authenticate(
      request(token, await proof()),
      undefined,
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'store_unavailable', status: 503, headers: { 'Retry-After': '5' } } });
    const broken = { markUsed: () => Promise.reject(new Error('a bug')) };
    await expect(
      createAuthenticator({ secret: SECRET, dpop: { origin: ORIGIN, replayStore: broken } }).authenticate(request(token, await proof()), undefined),
    ).rejects.toThrow('a bug');
  });

  it('reads the DPoP scheme only with the option: without it, DPoP credentials are another scheme', async () => {
    const { token, proof } = await fixture();
    const result = await createAuthenticator({ secret: SECRET }).authenticate(request(token, await proof()), undefined);
    expect(result).toMatchObject({ ok: false, error: { code: 'missing_token', headers: { 'WWW-Authenticate': 'Bearer' } } });
  });

  it('refuses a bound token sent as Bearer also without the option', async () => {
    const { token } = await fixture();
    const result = await createAuthenticator({ secret: SECRET }).authenticate({ headers: { authorization: `Bearer ${token}` } }, undefined);
    expect(result).toMatchObject({ ok: false, error: { code: 'token_bound', status: 401, error: 'invalid_token' } });
    expect(result.ok === false && result.error.headers['WWW-Authenticate']).toBe(
      'Bearer error="invalid_token", error_description="The token is bound to a DPoP key: send it as Authorization: DPoP with a proof"',
    );
  });

  it('puts the realm and resource_metadata in both challenges', async () => {
    const auth = createAuthenticator({ secret: SECRET, realm: 'api', resource: { resource: `${ORIGIN}/mcp` }, dpop: { algorithms: ['ES256'] } });
    const result = await auth.authenticate({ headers: {} }, undefined);
    const metadata = `${ORIGIN}/.well-known/oauth-protected-resource/mcp`;
    expect(result.ok === false && result.error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${metadata}", DPoP realm="api", resource_metadata="${metadata}", algs="ES256"`,
    );
  });
});

describe('RFC 9728 metadata with dpop', () => {
  it('publishes the proof algorithms and whether bound tokens are required', () => {
    const resource = { resource: `${ORIGIN}/mcp` };
    expect(createProtectedResource({ resource, dpop: { algorithms: ['ES256', 'EdDSA'] } }).metadata).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: false,
    });
    expect(createProtectedResource({ resource, dpop: { mode: 'required' } }).metadata).toMatchObject({ dpop_bound_access_tokens_required: true });
    expect(createProtectedResource({ resource }).metadata).not.toHaveProperty('dpop_signing_alg_values_supported');
    expect(() => createProtectedResource({ resource, dpop: { mode: 'sometimes' as never } })).toThrow(/^protectedResourceMetadata: "dpop.mode"/);
  });
});
