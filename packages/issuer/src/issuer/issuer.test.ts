import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, MemoryRevocationStore, StoreUnavailable, type AuthErrorCode, type RevocationStore } from '@jwtauth/core';
import { createTokenIssuer } from './issuer.js';
import type { TokenIssuer, TokenIssuerOptions } from './options.js';
import type { SigningKeyInput } from './signing-key.js';

const SECRET = 'issuer-test-secret-that-is-long-enough-for-hs256';
const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;

function issuerAt(clock: { now: Date }, options: Partial<TokenIssuerOptions> = {}): TokenIssuer {
  return createTokenIssuer({ key: SECRET, issuer: 'https://app.test', audience: 'api', currentDate: () => clock.now, ...options });
}

/** What the app's jwtAuth() answers for an access token. */
async function middlewareCode(issuer: TokenIssuer, token: string, clock = { now: NOW }): Promise<AuthErrorCode | 'ok'> {
  const authenticator = createAuthenticator({ ...issuer.verifierOptions, currentDate: () => clock.now });
  const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
  return result.ok ? 'ok' : result.error.code;
}

const codeOf = (result: { ok: true } | { ok: false; error: { code: AuthErrorCode } }) => (result.ok ? 'ok' : result.error.code);

describe('issue()', () => {
  it('issues an RFC 9068 access token and a refresh token of one session', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice', { scope: 'read' });
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 300, refreshExpiresIn: 86400 });
    expect(decodeProtectedHeader(pair.accessToken)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    expect(decodeProtectedHeader(pair.refreshToken)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const access = decodeJwt(pair.accessToken);
    const refresh = decodeJwt(pair.refreshToken);
    expect(access).toMatchObject({ sub: 'alice', scope: 'read', token_type: 'access', iss: 'https://app.test', aud: 'api', iat: NOW_S, exp: NOW_S + 300 });
    expect(refresh).toMatchObject({ sub: 'alice', scope: 'read', token_type: 'refresh', iat: NOW_S, exp: NOW_S + 86400 });
    expect(access.sid).toBe(refresh.sid);
    expect(access.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(access.jti).not.toBe(refresh.jti);
  });

  it('takes lifetimes as durations', async () => {
    const pair = await issuerAt({ now: NOW }, { accessTokenTtl: '15m', refreshTokenTtl: '7 days' }).issue('alice');
    expect(pair.expiresIn).toBe(900);
    expect(decodeJwt(pair.refreshToken).exp).toBe(NOW_S + 7 * 86400);
  });

  it('makes access tokens that jwtAuth with verifierOptions accepts, and refresh tokens it refuses', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    expect(await middlewareCode(issuer, pair.accessToken)).toBe('ok');
    expect(await middlewareCode(issuer, pair.refreshToken)).toBe('wrong_token_type');
    // Past exp and the verifier's default 5 s clock tolerance.
    expect(await middlewareCode(issuer, pair.accessToken, { now: new Date(NOW.getTime() + 306_000) })).toBe('token_expired');
  });

  it.each(['sub', 'exp', 'jti', 'sid', 'token_type', 'iss'])('refuses a reserved %s claim', async (claim) => {
    await expect(issuerAt({ now: NOW }).issue('alice', { [claim]: 'x' })).rejects.toThrow(TypeError);
  });

  it('refuses an empty subject', async () => {
    await expect(issuerAt({ now: NOW }).issue('')).rejects.toThrow(TypeError);
  });
});

describe('refresh()', () => {
  it('rotates: a new pair of the same session, and the old refresh token is revoked', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock);
    const first = await issuer.issue('alice', { scope: 'read admin' });
    clock.now = new Date(NOW.getTime() + 60_000);
    const refreshed = await issuer.refresh(first.refreshToken);
    if (!refreshed.ok) throw refreshed.error;
    expect(refreshed.tokens.refreshToken).not.toBe(first.refreshToken);
    const access = decodeJwt(refreshed.tokens.accessToken);
    expect(access).toMatchObject({ sub: 'alice', scope: 'read admin', sid: decodeJwt(first.refreshToken).sid, iat: NOW_S + 60 });
    expect(await middlewareCode(issuer, refreshed.tokens.accessToken, clock)).toBe('ok');
  });

  it('treats a rotated refresh token used again after the reuse interval as theft: the whole session is revoked', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock);
    const first = await issuer.issue('alice');
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    clock.now = new Date(NOW.getTime() + 11_000);
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('token_revoked');
    expect(codeOf(await issuer.refresh(second.tokens.refreshToken))).toBe('token_revoked');
    expect(await middlewareCode(issuer, second.tokens.accessToken)).toBe('token_revoked');
    expect(await middlewareCode(issuer, first.accessToken)).toBe('token_revoked');
  });

  it('keeps the session on reuse when revokeFamilyOnReuse is false', async () => {
    const issuer = issuerAt({ now: NOW }, { revokeFamilyOnReuse: false, reuseInterval: 0 });
    const first = await issuer.issue('alice');
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('token_revoked');
    expect(codeOf(await issuer.refresh(second.tokens.refreshToken))).toBe('ok');
  });

  it('lets only one of two concurrent refreshes with the same token succeed when reuseInterval is 0 (strict)', async () => {
    const issuer = issuerAt({ now: NOW }, { revokeFamilyOnReuse: false, reuseInterval: 0 });
    const { refreshToken } = await issuer.issue('alice');
    const codes = (await Promise.all([issuer.refresh(refreshToken), issuer.refresh(refreshToken)])).map(codeOf).sort();
    expect(codes).toEqual(['ok', 'token_revoked']);
  });

  it('returns the same refresh token with a new access token when rotation is off', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock, { rotateRefreshTokens: false });
    const first = await issuer.issue('alice');
    clock.now = new Date(NOW.getTime() + 3600_000);
    const again = await issuer.refresh(first.refreshToken);
    if (!again.ok) throw again.error;
    expect(again.tokens.refreshToken).toBe(first.refreshToken);
    expect(again.tokens.refreshExpiresIn).toBe(86400 - 3600);
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('ok');
  });

  it.each<[string, (issuer: TokenIssuer) => Promise<string>, AuthErrorCode]>([
    ['an access token', async (issuer) => (await issuer.issue('alice')).accessToken, 'wrong_token_type'],
    ['garbage', async () => 'not.a.jwt', 'malformed_token'],
    ['an empty string', async () => '', 'malformed_token'],
    ['a token of another issuer', async () => (await createTokenIssuer({ key: 'x'.repeat(32) }).issue('alice')).refreshToken, 'invalid_signature'],
    [
      'a tampered token',
      async (issuer) => {
        const [header, , signature] = (await issuer.issue('alice')).refreshToken.split('.');
        const payload = Buffer.from(JSON.stringify({ sub: 'admin', token_type: 'refresh' })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
      'invalid_signature',
    ],
    [
      'a JWT signed with the secret but not issued as a refresh token',
      async () =>
        new SignJWT({ sub: 'alice', token_type: 'refresh', iss: 'https://app.test', aud: 'api' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt(NOW_S)
          .setExpirationTime(NOW_S + 60)
          .sign(new TextEncoder().encode(SECRET)),
      'claim_invalid',
    ],
  ])('refuses %s', async (_, make, code) => {
    const issuer = issuerAt({ now: NOW });
    expect(codeOf(await issuer.refresh(await make(issuer)))).toBe(code);
  });

  it('refuses an expired refresh token', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock);
    const { refreshToken } = await issuer.issue('alice');
    clock.now = new Date(NOW.getTime() + 86401_000);
    expect(codeOf(await issuer.refresh(refreshToken))).toBe('token_expired');
  });
});

describe('revoke() and verify()', () => {
  it('logs out: revoking the refresh token revokes every token of the session', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    const other = await issuer.issue('alice');
    expect(codeOf(await issuer.revoke(pair.refreshToken))).toBe('ok');
    expect(await middlewareCode(issuer, pair.accessToken)).toBe('token_revoked');
    expect(codeOf(await issuer.refresh(pair.refreshToken))).toBe('token_revoked');
    expect(await middlewareCode(issuer, other.accessToken)).toBe('ok');
  });

  it("logs out with the access token too: its session's refresh token stops working", async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    const other = await issuer.issue('alice');
    expect(codeOf(await issuer.revoke(pair.accessToken))).toBe('ok');
    expect(await middlewareCode(issuer, pair.accessToken)).toBe('token_revoked');
    expect(codeOf(await issuer.refresh(pair.refreshToken))).toBe('token_revoked');
    expect(await middlewareCode(issuer, other.accessToken)).toBe('ok');
  });

  it('answers success for a token already revoked, and again for the same token (RFC 7009 §2.2)', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    expect(codeOf(await issuer.revoke(pair.refreshToken))).toBe('ok');
    expect(codeOf(await issuer.revoke(pair.refreshToken))).toBe('ok');
    expect(codeOf(await issuer.revoke(pair.accessToken))).toBe('ok');
  });

  it('ends the session of an expired access token and answers success', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock);
    const pair = await issuer.issue('alice');
    clock.now = new Date(NOW.getTime() + 600_000);
    expect(codeOf(await issuer.verify(pair.accessToken))).toBe('token_expired');
    expect(codeOf(await issuer.revoke(pair.accessToken))).toBe('ok');
    expect(codeOf(await issuer.refresh(pair.refreshToken))).toBe('token_revoked');
  });

  it.each([
    ['garbage', async () => 'garbage'],
    [
      'a token of another key',
      async () =>
        new SignJWT({ sid: 's', token_type: 'refresh', exp: NOW_S + 60 })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256')),
    ],
  ])('answers success for %s and revokes nothing (RFC 7009 §2.2)', async (_, token) => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    expect(codeOf(await issuer.revoke(await token()))).toBe('ok');
    expect(await middlewareCode(issuer, pair.accessToken)).toBe('ok');
  });

  it('ends the session when logout races a refresh of it', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    const [refreshed, revoked] = await Promise.all([issuer.refresh(pair.refreshToken), issuer.revoke(pair.refreshToken)]);
    expect(codeOf(revoked)).toBe('ok');
    // Whichever ran first, nothing of the session is usable afterwards.
    if (refreshed.ok) {
      expect(await middlewareCode(issuer, refreshed.tokens.accessToken)).toBe('token_revoked');
      expect(codeOf(await issuer.refresh(refreshed.tokens.refreshToken))).toBe('token_revoked');
    }
    expect(await middlewareCode(issuer, pair.accessToken)).toBe('token_revoked');
  });

  it('verifies both token types and reports which', async () => {
    const issuer = issuerAt({ now: NOW });
    const pair = await issuer.issue('alice');
    const access = await issuer.verify(pair.accessToken);
    const refresh = await issuer.verify(pair.refreshToken);
    expect(access.ok && access.tokenType).toBe('access');
    expect(refresh.ok && refresh.tokenType).toBe('refresh');
    await issuer.revoke(pair.refreshToken);
    expect(codeOf(await issuer.verify(pair.accessToken))).toBe('token_revoked');
    expect(codeOf(await issuer.verify('garbage'))).toBe('malformed_token');
  });
});

describe('signing keys', () => {
  const pairs = {
    rs: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ec: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    ed: generateKeyPairSync('ed25519'),
  };

  it.each<[string, () => Promise<SigningKeyInput>, string]>([
    ['a PKCS #8 RSA PEM', async () => pairs.rs.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'RS256'],
    ['a P-384 private JWK', async () => pairs.ec.privateKey.export({ format: 'jwk' }), 'ES384'],
    ['an Ed25519 KeyObject', async () => pairs.ed.privateKey, 'EdDSA'],
    ['an extractable PS256 CryptoKey', async () => (await generateKeyPair('PS256', { extractable: true })).privateKey, 'PS256'],
    ['a PKCS #8 PEM made by jose', async () => exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey), 'ES256'],
  ])('signs with %s, and jwtAuth verifies with the derived public key', async (_, key, alg) => {
    const issuer = createTokenIssuer({ key: await key(), kid: 'k1' });
    const { accessToken } = await issuer.issue('alice');
    expect(decodeProtectedHeader(accessToken)).toEqual({ alg, typ: 'at+jwt', kid: 'k1' });
    expect(await middlewareCode(issuer, accessToken, { now: new Date() })).toBe('ok');
  });

  it.each<[string, () => Promise<TokenIssuerOptions>, RegExp]>([
    ['a 16-byte secret', async () => ({ key: 'x'.repeat(16) }), /at least 32 bytes/],
    ['HS512 with a 32-byte secret', async () => ({ key: 'x'.repeat(32), algorithm: 'HS512' }), /cannot sign HS512/],
    ['a public key PEM', async () => ({ key: pairs.rs.publicKey.export({ type: 'spki', format: 'pem' }) as string }), /public key cannot sign/],
    ['a public JWK', async () => ({ key: await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey) }), /public JWK cannot sign/],
    ['a non-extractable private CryptoKey', async () => ({ key: (await generateKeyPair('ES256')).privateKey }), /must be extractable/],
    [
      'ES512 with a P-384 key',
      async () => ({ key: pairs.ec.privateKey.export({ format: 'jwk' }) as SigningKeyInput, algorithm: 'ES512' }),
      /cannot sign ES512/,
    ],
    ['a zero lifetime', async () => ({ key: SECRET, accessTokenTtl: 0 }), /accessTokenTtl/],
    [
      'an 8-byte HMAC CryptoKey',
      async () => ({
        key: await crypto.subtle.importKey('raw', new Uint8Array(8), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
      }),
      /at least 32 bytes/,
    ],
    [
      'a 1024-bit RSA CryptoKey',
      async () => ({
        key: (
          await crypto.subtle.generateKey(
            { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
            true,
            ['sign', 'verify'],
          )
        ).privateKey,
      }),
      /1024 bits/,
    ],
  ])('refuses %s at creation', async (_, options, message) => {
    const resolved = await options();
    expect(() => createTokenIssuer(resolved)).toThrow(TypeError);
    expect(() => createTokenIssuer(resolved)).toThrow(message);
  });
});

describe('revocation holds while any token of the session could be accepted', () => {
  it('ends the session when logout uses a refresh token that was already rotated', async () => {
    const issuer = issuerAt({ now: NOW }, { revokeFamilyOnReuse: false });
    const first = await issuer.issue('alice');
    const stolen = await issuer.refresh(first.refreshToken);
    if (!stolen.ok) throw stolen.error;
    expect(codeOf(await issuer.revoke(first.refreshToken))).toBe('ok');
    expect(codeOf(await issuer.refresh(stolen.tokens.refreshToken))).toBe('token_revoked');
  });

  it('keeps a logged-out session revoked for as long as its access tokens live', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock, { accessTokenTtl: '1h', refreshTokenTtl: '30m' });
    const pair = await issuer.issue('alice');
    await issuer.revoke(pair.refreshToken);
    clock.now = new Date(NOW.getTime() + 31 * 60_000);
    expect(await middlewareCode(issuer, pair.accessToken, clock)).toBe('token_revoked');
  });

  it('keeps a revoked access token revoked within a verifier clock tolerance', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock);
    const pair = await issuer.issue('alice');
    await issuer.revoke(pair.accessToken);
    clock.now = new Date(NOW.getTime() + 330_000);
    const tolerant = createAuthenticator({ ...issuer.verifierOptions, clockTolerance: 60, currentDate: () => clock.now });
    const result = await tolerant.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${pair.accessToken}` } }), null);
    expect(result.ok ? 'ok' : result.error.code).toBe('token_revoked');
  });

  it("refuses, at creation, a verifier clockTolerance longer than the issuer's revocation grace", () => {
    const issuer = issuerAt({ now: NOW });
    expect(() => createAuthenticator({ ...issuer.verifierOptions, clockTolerance: '10m' })).toThrow(TypeError);
    expect(() => createAuthenticator({ ...issuer.verifierOptions, clockTolerance: '10m' })).toThrow(/revocationGrace: 600/);
    expect(() => createAuthenticator({ ...issuer.verifierOptions, clockTolerance: '5m' })).not.toThrow();
  });

  it('keeps revocations for a longer revocationGrace, so a verifier may allow that much skew', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock, { accessTokenTtl: '5m', refreshTokenTtl: '5m', revocationGrace: '10m' });
    const pair = await issuer.issue('alice');
    await issuer.revoke(pair.accessToken);
    // 9 minutes past exp: forgotten with the default 5-minute grace, yet a verifier allowing
    // 10 minutes of skew still takes the token for unexpired.
    clock.now = new Date(NOW.getTime() + 300_000 + 540_000);
    const tolerant = createAuthenticator({ ...issuer.verifierOptions, clockTolerance: '10m', currentDate: () => clock.now });
    const result = await tolerant.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${pair.accessToken}` } }), null);
    expect(result.ok ? 'ok' : result.error.code).toBe('token_revoked');
  });

  it('lets only one of two refreshes through in strict mode even when the store is slow (atomic rotate)', async () => {
    const memory = new MemoryRevocationStore();
    const later = <T>(value: () => T) => new Promise<T>((resolve) => setTimeout(() => resolve(value()), 20));
    const slowStore: RevocationStore = {
      revoke: (id, at) => later(() => memory.revoke(id, at)),
      isRevoked: (id) => later(() => memory.isRevoked(id)),
      rotate: (sid, generation, options) => later(() => memory.rotate(sid, generation, options)),
    };
    const issuer = createTokenIssuer({ key: SECRET, store: slowStore, revokeFamilyOnReuse: false, reuseInterval: 0 });
    const { refreshToken } = await issuer.issue('alice');
    const first = issuer.refresh(refreshToken);
    await new Promise((resolve) => setTimeout(resolve, 25));
    const codes = (await Promise.all([first, issuer.refresh(refreshToken)])).map(codeOf).sort();
    expect(codes).toEqual(['ok', 'token_revoked']);
  });

  it('lets concurrent refreshes through when rotation is off (two browser tabs)', async () => {
    const issuer = issuerAt({ now: NOW }, { rotateRefreshTokens: false });
    const { refreshToken } = await issuer.issue('alice');
    const codes = (await Promise.all([issuer.refresh(refreshToken), issuer.refresh(refreshToken)])).map(codeOf);
    expect(codes).toEqual(['ok', 'ok']);
    expect(codeOf(await issuer.refresh(refreshToken))).toBe('ok');
  });
});

describe('refresh rotation per session (one entry per session, two tabs, replays)', () => {
  it('keeps one store entry per session however often it is refreshed', async () => {
    const store = new MemoryRevocationStore();
    const issuer = issuerAt({ now: NOW }, { store });
    let { refreshToken } = await issuer.issue('alice');
    for (let i = 0; i < 10_000; i++) {
      const next = await issuer.refresh(refreshToken);
      if (!next.ok) throw next.error;
      refreshToken = next.tokens.refreshToken;
    }
    expect(store.size).toBe(1);
    expect(decodeJwt(refreshToken).gen).toBe(10_000);
  });

  it('gives 50 concurrent refreshes of one token (several tabs) working tokens, all of one generation', async () => {
    const issuer = issuerAt({ now: NOW });
    const { refreshToken } = await issuer.issue('alice');
    const results = await Promise.all(Array.from({ length: 50 }, () => issuer.refresh(refreshToken)));
    expect(results.map(codeOf)).toEqual(Array(50).fill('ok'));
    const tokens = results.map((result) => (result.ok ? result.tokens : undefined)!);
    expect(new Set(tokens.map((pair) => decodeJwt(pair.refreshToken).gen))).toEqual(new Set([1]));
    for (const pair of tokens.slice(0, 5)) expect(await middlewareCode(issuer, pair.accessToken)).toBe('ok');
    // Any of the answers carries the session on.
    const onward = await issuer.refresh(tokens[17]!.refreshToken);
    expect(codeOf(onward)).toBe('ok');
  });

  it('still treats the previous token as theft once the reuse interval is over', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock, { reuseInterval: '5s' });
    const first = await issuer.issue('alice');
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    clock.now = new Date(NOW.getTime() + 5_000);
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('ok');
    clock.now = new Date(NOW.getTime() + 6_000);
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('token_revoked');
    expect(await middlewareCode(issuer, second.tokens.accessToken, clock)).toBe('token_revoked');
  });

  it('treats a token two generations old as theft even within the interval', async () => {
    const issuer = issuerAt({ now: NOW });
    const first = await issuer.issue('alice');
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    const third = await issuer.refresh(second.tokens.refreshToken);
    if (!third.ok) throw third.error;
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('token_revoked');
    expect(codeOf(await issuer.refresh(third.tokens.refreshToken))).toBe('token_revoked');
  });

  it('gives exactly one of 50 concurrent refreshes a pair in strict mode (reuseInterval 0), and ends the session', async () => {
    const issuer = issuerAt({ now: NOW }, { reuseInterval: 0 });
    const { refreshToken } = await issuer.issue('alice');
    const results = await Promise.all(Array.from({ length: 50 }, () => issuer.refresh(refreshToken)));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => !result.ok).map(codeOf)).toEqual(Array(49).fill('token_revoked'));
  });

  it('refuses a rotated token whose session state is gone (the store lost it): fail closed', async () => {
    const issuer = issuerAt({ now: NOW });
    const first = await issuer.issue('alice');
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    const amnesiac = issuerAt({ now: NOW }, { store: new MemoryRevocationStore() });
    expect(codeOf(await amnesiac.refresh(second.tokens.refreshToken))).toBe('token_revoked');
  });
});

describe('sessionLifetime', () => {
  it('never extends a session past its absolute lifetime, whatever the refreshes', async () => {
    const clock = { now: NOW };
    const issuer = issuerAt(clock, { sessionLifetime: '1h', accessTokenTtl: '15m', refreshTokenTtl: '45m' });
    const first = await issuer.issue('alice');
    expect(decodeJwt(first.refreshToken).exp).toBe(NOW_S + 2700);
    clock.now = new Date(NOW.getTime() + 40 * 60_000);
    const second = await issuer.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    expect(decodeJwt(second.tokens.refreshToken).exp).toBe(NOW_S + 3600);
    expect(second.tokens.refreshExpiresIn).toBe(20 * 60);
    clock.now = new Date(NOW.getTime() + 50 * 60_000);
    const third = await issuer.refresh(second.tokens.refreshToken);
    if (!third.ok) throw third.error;
    expect(decodeJwt(third.tokens.accessToken).exp).toBe(NOW_S + 3600);
    expect(third.tokens.expiresIn).toBe(10 * 60);
    expect(decodeJwt(third.tokens.accessToken).auth_time).toBe(NOW_S);
    clock.now = new Date(NOW.getTime() + 3600_000);
    expect(codeOf(await issuer.refresh(third.tokens.refreshToken))).toBe('token_expired');
  });
});

describe('refreshClaims', () => {
  it('gives the next tokens the claims it returns: a demoted admin loses admin at the next refresh', async () => {
    const roles: Record<string, string> = { alice: 'read admin' };
    const issuer = issuerAt({ now: NOW }, { refreshClaims: (subject, claims) => ({ ...claims, scope: roles[subject] }) });
    const first = await issuer.issue('alice', { scope: 'read admin', team: 'blue' });
    roles.alice = 'read';
    const next = await issuer.refresh(first.refreshToken);
    if (!next.ok) throw next.error;
    expect(decodeJwt(next.tokens.accessToken)).toMatchObject({ scope: 'read', team: 'blue' });
  });

  it('ends the session when it returns null (a deleted user)', async () => {
    const issuer = issuerAt({ now: NOW }, { refreshClaims: () => null });
    const first = await issuer.issue('alice');
    expect(codeOf(await issuer.refresh(first.refreshToken))).toBe('token_revoked');
    expect(await middlewareCode(issuer, first.accessToken)).toBe('token_revoked');
  });

  it('rejects with a TypeError when it returns a claim the issuer sets itself', async () => {
    const issuer = issuerAt({ now: NOW }, { refreshClaims: (_subject, claims) => ({ ...claims, sub: 'admin' }) });
    const first = await issuer.issue('alice');
    await expect(issuer.refresh(first.refreshToken)).rejects.toThrow(/sub, which the issuer sets itself/);
  });
});

describe('a store that cannot answer', () => {
  const down: RevocationStore = {
    revoke: () => Promise.reject(new StoreUnavailable('redis: connection refused')),
    isRevoked: () => Promise.reject(new StoreUnavailable('redis: connection refused')),
    anyRevoked: () => Promise.reject(new StoreUnavailable('redis: connection refused')),
    rotate: () => Promise.reject(new StoreUnavailable('redis: connection refused')),
  };

  it('makes refresh, verify and revoke answer store_unavailable, never throw', async () => {
    const issuer = issuerAt({ now: NOW }, { store: down });
    const pair = await issuer.issue('alice');
    expect(codeOf(await issuer.refresh(pair.refreshToken))).toBe('store_unavailable');
    expect(codeOf(await issuer.verify(pair.accessToken))).toBe('store_unavailable');
    expect(codeOf(await issuer.revoke(pair.refreshToken))).toBe('store_unavailable');
  });

  it('makes jwtAuth answer 503 store_unavailable with Retry-After, not a 500 and not a 200', async () => {
    const issuer = issuerAt({ now: NOW }, { store: down });
    const pair = await issuer.issue('alice');
    const authenticator = createAuthenticator({ ...issuer.verifierOptions, currentDate: () => NOW });
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${pair.accessToken}` } }), null);
    if (result.ok) throw new Error('expected store_unavailable');
    expect(result.error).toMatchObject({ code: 'store_unavailable', status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '5' } });
    expect((result.error.cause as Error).message).toBe('redis: connection refused');
  });

  it('still sends other errors of the store to the error path', async () => {
    const broken = { ...down, anyRevoked: () => Promise.reject(new RangeError('a bug')) };
    const issuer = issuerAt({ now: NOW }, { store: broken });
    const pair = await issuer.issue('alice');
    const authenticator = createAuthenticator({ ...issuer.verifierOptions, currentDate: () => NOW });
    await expect(
      authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${pair.accessToken}` } }), null),
    ).rejects.toThrow(RangeError);
  });
});
