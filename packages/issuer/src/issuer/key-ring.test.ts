import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, MemoryRevocationStore, type AuthErrorCode } from '@jwtauth/core';
import { createTokenIssuer } from './issuer.js';
import type { TokenIssuer, TokenIssuerOptions } from './options.js';
import type { SigningKeyInput } from './signing-key.js';

// Publishing keys and rotating them: the default kid is the key's RFC 7638 thumbprint, the JWK
// Set holds public members only, and a previous key keeps verifying (and stays published) until
// every token it can have signed has expired, then drops out by itself.

const NOW = new Date('2030-01-01T00:00:00Z');
const SECRET = 'issuer-test-secret-that-is-long-enough-for-hs256';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** A private key as a PKCS #8 PEM, and its public JWK. */
async function keyPair(alg: string): Promise<{ pem: string; spki: string; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { pem: await exportPKCS8(privateKey), spki: await exportSPKI(publicKey), publicJwk: await exportJWK(publicKey) };
}

/** What the app's jwtAuth() answers for an access token. */
async function middlewareCode(issuer: TokenIssuer, token: string, now: Date): Promise<AuthErrorCode | 'ok'> {
  const authenticator = createAuthenticator({ ...issuer.verifierOptions, currentDate: () => now });
  const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
  return result.ok ? 'ok' : result.error.code;
}

const codeOf = (result: { ok: true } | { ok: false; error: { code: AuthErrorCode } }) => (result.ok ? 'ok' : result.error.code);

describe('jwks(): the public JWK Set', () => {
  it.each([
    ['RS256', { kty: 'RSA', n: expect.any(String), e: 'AQAB' }],
    ['ES256', { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519', x: expect.any(String) }],
  ])('%s: one key with its thumbprint as kid, alg, use "sig", and no private member', async (alg, members) => {
    const { pem, publicJwk } = await keyPair(alg);
    const issuer = createTokenIssuer({ key: pem });
    const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
    const set = await issuer.jwks();
    expect(set).toEqual({ keys: [{ ...members, kid: thumbprint, alg, use: 'sig' }] });
    for (const member of PRIVATE_MEMBERS) expect(set.keys[0]).not.toHaveProperty(member);
    expect(issuer.algorithm).toBe(alg);
    // Tokens name that key, so that a verifier holding the set picks it.
    const { accessToken, refreshToken } = await issuer.issue('alice');
    expect(decodeProtectedHeader(accessToken)).toEqual({ alg, typ: 'at+jwt', kid: thumbprint });
    expect(decodeProtectedHeader(refreshToken).kid).toBe(thumbprint);
    // And a verifier given only the published set accepts them.
    const verifier = createAuthenticator({ jwks: set });
    expect((await verifier.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${accessToken}` } }), null)).ok).toBe(true);
  });

  it('publishes no private member of a private JWK given as the key, and keeps a kid given explicitly', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = pair.privateKey.export({ format: 'jwk' }) as SigningKeyInput;
    const issuer = createTokenIssuer({ key: jwk, kid: 'signing-2030' });
    const [key] = (await issuer.jwks()).keys;
    expect(Object.keys(key!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(key).toMatchObject({ kid: 'signing-2030', alg: 'RS256' });
  });

  it('refuses to publish an HMAC secret: jwks() rejects with a TypeError that says what to do, and no kid is made up', async () => {
    const issuer = createTokenIssuer({ key: SECRET });
    await expect(issuer.jwks()).rejects.toThrow(TypeError);
    await expect(issuer.jwks()).rejects.toThrow(/HMAC secret .* must never be published.*private key/);
    expect(decodeProtectedHeader((await issuer.issue('alice')).accessToken)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
  });
});

describe('previousKeys: rotation', () => {
  const clock = { now: NOW };
  const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

  /** The old deployment (signing with `old`), then the new one (signing with `next`, `old` retired now), on one store. */
  async function rotation(
    alg: string,
    previous: (old: Awaited<ReturnType<typeof keyPair>>) => SigningKeyInput = (old) => old.pem,
    options: Partial<TokenIssuerOptions> = {},
  ) {
    const store = new MemoryRevocationStore();
    const old = await keyPair(alg);
    const next = await keyPair(alg);
    const base = { issuer: 'https://auth.test', audience: 'api', store, currentDate: () => clock.now, ...options };
    const before = createTokenIssuer({ ...base, key: old.pem });
    const after = createTokenIssuer({ ...base, key: next.pem, previousKeys: [{ key: previous(old), retiredAt: NOW }] });
    return { before, after, oldKid: await calculateJwkThumbprint(old.publicJwk), newKid: await calculateJwkThumbprint(next.publicJwk) };
  }

  it.each(['RS256', 'ES256', 'EdDSA'])(
    '%s: a token of the previous key still refreshes, verifies and passes jwtAuth; new tokens carry the new kid',
    async (alg) => {
      clock.now = NOW;
      const { before, after, newKid, oldKid } = await rotation(alg);
      const old = await before.issue('alice', { scope: 'read' });
      expect(decodeProtectedHeader(old.accessToken).kid).toBe(oldKid);

      expect(codeOf(await after.verify(old.accessToken))).toBe('ok');
      expect(await middlewareCode(after, old.accessToken, NOW)).toBe('ok');
      const refreshed = await after.refresh(old.refreshToken);
      expect(codeOf(refreshed)).toBe('ok');
      const tokens = refreshed.ok ? refreshed.tokens : undefined;
      expect(decodeProtectedHeader(tokens!.accessToken)).toMatchObject({ alg, kid: newKid });
      expect(await middlewareCode(after, tokens!.accessToken, NOW)).toBe('ok');
      // The old deployment knows nothing of the new key: the new tokens are not its own.
      expect(codeOf(await before.verify(tokens!.accessToken))).toBe('invalid_signature');
      // Logout with a token of the previous key still ends the session.
      expect(codeOf(await after.revoke(old.accessToken))).toBe('ok');
      expect(codeOf(await after.verify(tokens!.accessToken))).toBe('token_revoked');
    },
  );

  it('publishes the current key first and the previous one until retiredAt + the longest token lifetime + revocationGrace, then drops it', async () => {
    clock.now = NOW;
    const { after, newKid, oldKid } = await rotation('EdDSA');
    const kids = async () => (await after.jwks()).keys.map((key) => key.kid);
    // Default lifetimes: refresh tokens live a day (86400 s), revocations outlive them by 300 s.
    const window = 86400 + 300;
    expect(await kids()).toEqual([newKid, oldKid]);
    clock.now = at(window);
    expect(await kids()).toEqual([newKid, oldKid]);
    clock.now = at(window + 1);
    expect(await kids()).toEqual([newKid]);
  });

  it('stops accepting the previous key once its window is over', async () => {
    clock.now = NOW;
    const { before, after } = await rotation('ES256', undefined, { accessTokenTtl: '1h', refreshTokenTtl: '1h', revocationGrace: '5m' });
    const old = await before.issue('alice');
    clock.now = at(3600 + 300 + 1);
    // Expired in any case; beyond the window the key itself is gone, so the signature no longer verifies.
    const revoked = await after.revoke(old.refreshToken);
    expect(codeOf(revoked)).toBe('ok');
    expect(codeOf(await after.verify(old.accessToken))).toBe('invalid_signature');
  });

  it('caps the window by sessionLifetime: no token outlives its session', async () => {
    clock.now = NOW;
    const { after, newKid } = await rotation('ES256', undefined, { sessionLifetime: '2h' });
    clock.now = at(2 * 3600 + 300 + 1);
    expect((await after.jwks()).keys.map((key) => key.kid)).toEqual([newKid]);
    clock.now = at(2 * 3600 + 300);
    expect((await after.jwks()).keys).toHaveLength(2);
  });

  it.each<[string, (old: Awaited<ReturnType<typeof keyPair>>) => SigningKeyInput]>([
    ['an SPKI PEM', (old) => old.spki],
    ['a public JWK', (old) => old.publicJwk],
  ])('takes the previous key as %s alone, publishes it with its thumbprint, and verifies its tokens', async (_, publicOnly) => {
    clock.now = NOW;
    const { before, after, oldKid } = await rotation('RS256', publicOnly);
    const old = await before.issue('alice');
    expect((await after.jwks()).keys[1]).toMatchObject({ kid: oldKid, alg: 'RS256', use: 'sig' });
    expect(codeOf(await after.refresh(old.refreshToken))).toBe('ok');
    expect(await middlewareCode(after, old.accessToken, NOW)).toBe('ok');
  });

  it('keeps accepting HMAC tokens of a previous secret (with no kid), and still publishes nothing', async () => {
    clock.now = NOW;
    const store = new MemoryRevocationStore();
    const oldSecret = 'the-previous-secret-which-is-also-long-enough!';
    const before = createTokenIssuer({ key: oldSecret, store, currentDate: () => clock.now });
    const after = createTokenIssuer({ key: SECRET, store, currentDate: () => clock.now, previousKeys: [{ key: oldSecret, retiredAt: NOW.toISOString() }] });
    const old = await before.issue('alice');
    expect(codeOf(await after.refresh(old.refreshToken))).toBe('ok');
    expect(await middlewareCode(after, old.accessToken, NOW)).toBe('ok');
    await expect(after.jwks()).rejects.toThrow(TypeError);
  });

  it('verifies a token without kid (issued before kids were the default) against every live key', async () => {
    clock.now = NOW;
    const old = await keyPair('ES256');
    const after = createTokenIssuer({
      key: (await keyPair('ES256')).pem,
      issuer: 'https://auth.test',
      currentDate: () => clock.now,
      previousKeys: [{ key: old.pem, retiredAt: NOW }],
    });
    const iat = Math.floor(NOW.getTime() / 1000);
    const claims = { sub: 'alice', token_type: 'access', sid: 's1', jti: 'j1', iss: 'https://auth.test', iat, exp: iat + 300 };
    const legacy = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(await importPKCS8(old.pem, 'ES256'));
    expect(await middlewareCode(after, legacy, NOW)).toBe('ok');
    expect(codeOf(await after.verify(legacy))).toBe('ok');
  });

  it('finds a previous key by the explicit kid its tokens carry', async () => {
    clock.now = NOW;
    const old = await keyPair('ES256');
    const next = await keyPair('ES256');
    const before = createTokenIssuer({ key: old.pem, kid: '2029', currentDate: () => clock.now });
    const after = createTokenIssuer({
      key: next.pem,
      kid: '2030',
      currentDate: () => clock.now,
      previousKeys: [{ key: old.pem, kid: '2029', retiredAt: NOW }],
    });
    const token = (await before.issue('alice')).accessToken;
    expect((await after.jwks()).keys.map((key) => key.kid)).toEqual(['2030', '2029']);
    expect(await middlewareCode(after, token, NOW)).toBe('ok');
    // A token naming a kid the issuer does not have is not its own.
    const stranger = createTokenIssuer({ key: (await keyPair('ES256')).pem, kid: '2029' });
    expect(await middlewareCode(after, (await stranger.issue('alice')).accessToken, NOW)).toBe('invalid_signature');
  });
});

describe('previousKeys: misconfigurations are TypeErrors at creation that say what to fix', () => {
  it.each<[string, () => Promise<TokenIssuerOptions>, RegExp]>([
    [
      'an HMAC secret next to a private key',
      async () => ({ key: (await keyPair('ES256')).pem, previousKeys: [{ key: SECRET, retiredAt: NOW }] }),
      /is an HMAC secret but "key" is a private key: keep one kind/,
    ],
    [
      'a private key next to an HMAC secret',
      async () => ({ key: SECRET, previousKeys: [{ key: (await keyPair('ES256')).pem, retiredAt: NOW }] }),
      /is a public or private key but "key" is an HMAC secret: keep one kind/,
    ],
    [
      'a kid used twice',
      async () => ({ key: (await keyPair('ES256')).pem, kid: 'a', previousKeys: [{ key: (await keyPair('ES256')).pem, kid: 'a', retiredAt: NOW }] }),
      /kid "a" is also the kid of "kid"/,
    ],
    [
      'the current key listed again',
      async () => {
        const { pem } = await keyPair('ES256');
        return { key: pem, previousKeys: [{ key: `\n${pem}`, retiredAt: NOW }] };
      },
      /previousKeys\[0\]"\.key is the same key as "key"/,
    ],
    [
      'no retiredAt',
      async () => ({ key: (await keyPair('ES256')).pem, previousKeys: [{ key: (await keyPair('ES256')).pem } as never] }),
      /"previousKeys\[0\]"\.retiredAt must be a Date or an ISO 8601 string/,
    ],
    [
      'a retiredAt that is no date',
      async () => ({ key: (await keyPair('ES256')).pem, previousKeys: [{ key: (await keyPair('ES256')).pem, retiredAt: 'last tuesday' }] }),
      /retiredAt must be a Date/,
    ],
    [
      'a key that cannot verify its algorithm',
      async () => ({ key: (await keyPair('ES256')).pem, previousKeys: [{ key: (await keyPair('ES256')).publicJwk, algorithm: 'RS256', retiredAt: NOW }] }),
      /"previousKeys\[0\]"\.key cannot verify the tokens it signed: this key cannot verify RS256/,
    ],
    [
      'an unset key',
      async () => ({ key: (await keyPair('ES256')).pem, previousKeys: [{ key: undefined as never, retiredAt: NOW }] }),
      /"previousKeys\[0\]"\.key is missing/,
    ],
    [
      'a PKCS #1 public key',
      async () => ({
        key: (await keyPair('ES256')).pem,
        previousKeys: [{ key: '-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----', retiredAt: NOW }],
      }),
      /PKCS #1 RSA PUBLIC KEY/,
    ],
    ['previousKeys that is not an array', async () => ({ key: SECRET, previousKeys: { key: SECRET } as never }), /"previousKeys" must be an array/],
    ['an empty kid', async () => ({ key: (await keyPair('ES256')).pem, kid: '' }), /"kid" must be a non-empty string/],
  ])('refuses %s', async (_, options, message) => {
    const resolved = await options();
    expect(() => createTokenIssuer(resolved)).toThrow(TypeError);
    expect(() => createTokenIssuer(resolved)).toThrow(message);
  });
});
