import { createAuthenticator, type AuthErrorCode } from '@jwtauth/core';
import { createTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from '@jwtauth/issuer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from './redis-store.js';
import { CLIENTS, eventually, startRedis, type Connected, type RedisServer } from './test-redis.js';

// Two token issuers, as two processes of one app would run them: the same signing key, each its
// own Redis connection (one node-redis, one ioredis: both libraries share one key layout), one Redis.

const KEY = 'redis-issuers-test-secret-long-enough-for-hs256';
/** The claims of a token (already verified elsewhere). */
const decodeJwt = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const codeOf = (result: { ok: true } | { ok: false; error: { code: AuthErrorCode } }) => (result.ok ? 'ok' : result.error.code);

/** What jwtAuth() answers for an access token, verified by `issuer`'s verifierOptions. */
async function middleware(issuer: TokenIssuer, token: string) {
  const authenticator = createAuthenticator({ ...issuer.verifierOptions });
  const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
  return result.ok ? { code: 'ok' as const } : { code: result.error.code, status: result.error.status, headers: result.error.headers };
}

describe('two issuers sharing one Redis', () => {
  let redis: RedisServer;
  const connections: Connected[] = [];
  /** Issuer A over node-redis and issuer B over ioredis, with the same options. */
  let pair: (options?: Partial<TokenIssuerOptions>, clockOffsetB?: number) => [TokenIssuer, TokenIssuer];

  beforeAll(async () => {
    redis = await startRedis();
    const a = await CLIENTS[0]!.connect(redis.url);
    const b = await CLIENTS[1]!.connect(redis.url);
    connections.push(a, b);
    pair = (options = {}, clockOffsetB = 0) => [
      createTokenIssuer({ key: KEY, store: createRedisStore({ client: a.client }), ...options }),
      createTokenIssuer({ key: KEY, store: createRedisStore({ client: b.client }), currentDate: () => new Date(Date.now() + clockOffsetB), ...options }),
    ];
  });
  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await redis?.close();
  });

  it('a logout on one instance is refused by the other', async () => {
    const [a, b] = pair();
    const tokens = await a.issue('alice');
    expect((await middleware(b, tokens.accessToken)).code).toBe('ok');
    expect(await a.revoke(tokens.accessToken)).toEqual({ ok: true });
    expect((await middleware(b, tokens.accessToken)).code).toBe('token_revoked');
    expect(codeOf(await b.refresh(tokens.refreshToken))).toBe('token_revoked');
    expect(codeOf(await b.verify(tokens.refreshToken))).toBe('token_revoked');
  });

  it('a rotation on one instance retires the old refresh token on the other: replayed after the reuse interval, it ends the session everywhere', async () => {
    // B's clock runs 30 s ahead: its replay comes after A's rotation's 10 s reuse interval.
    const [a, b] = pair({}, 30_000);
    const first = await a.issue('alice');
    const second = await a.refresh(first.refreshToken);
    if (!second.ok) throw second.error;
    expect(decodeJwt(second.tokens.refreshToken).gen).toBe(1);
    expect(codeOf(await b.refresh(first.refreshToken))).toBe('token_revoked');
    // The replay revoked the session: the tokens of the rightful rotation are refused too.
    expect((await middleware(a, second.tokens.accessToken)).code).toBe('token_revoked');
    expect(codeOf(await a.refresh(second.tokens.refreshToken))).toBe('token_revoked');
  });

  it('100 concurrent refreshes of one token over both instances (default 10 s reuse interval): all answer working tokens of the next generation', async () => {
    const [a, b] = pair();
    const first = await a.issue('alice', { scope: 'read' });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).refresh(first.refreshToken)));
    const tokens = results.map((result) => {
      if (!result.ok) throw result.error;
      return result.tokens;
    });
    expect(tokens.map((t) => decodeJwt(t.refreshToken).gen)).toEqual(Array(100).fill(1));
    for (const [i, t] of tokens.entries()) expect((await middleware(i % 2 === 0 ? b : a, t.accessToken)).code).toBe('ok');
    // Any of the answers carries on the session, on either instance.
    const next = await b.refresh(tokens[17]!.refreshToken);
    expect(codeOf(next)).toBe('ok');
    expect(codeOf(await a.refresh(tokens[42]!.refreshToken))).toBe('ok');
  });

  it('100 concurrent refreshes of one token over both instances, strict (reuseInterval 0): exactly one wins, and the concurrent reuse ends the session', async () => {
    const [a, b] = pair({ reuseInterval: 0 });
    const first = await a.issue('alice');
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).refresh(first.refreshToken)));
    const winners = results.filter((result) => result.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => !result.ok).map(codeOf)).toEqual(Array(99).fill('token_revoked'));
    // Strict mode reads the 99 others as theft: the winner's tokens are refused as well.
    expect((await middleware(b, winners[0]!.tokens.accessToken)).code).toBe('token_revoked');
  });

  it('Redis hung: a verified request answers 503 store_unavailable within the timeout, and 200 again once Redis answers', async () => {
    const [a] = pair();
    const tokens = await a.issue('alice');
    redis.pause();
    try {
      const started = performance.now();
      expect(await middleware(a, tokens.accessToken)).toMatchObject({ code: 'store_unavailable', status: 503 });
      expect(codeOf(await a.refresh(tokens.refreshToken))).toBe('store_unavailable');
      expect(performance.now() - started).toBeLessThan(2 * 3000);
    } finally {
      redis.resume();
    }
    await eventually(async () => (await middleware(a, tokens.accessToken)).code === 'ok', 10_000, 'the token is accepted again');
  });

  it('Redis stopped: checks, refreshes and logouts answer store_unavailable (503, Retry-After) within 3 s; login still works; all recover with Redis', async () => {
    const [a, b] = pair();
    const before = await a.issue('alice');
    const revoked = await a.issue('mallory');
    await a.revoke(revoked.accessToken);
    const leaving = await a.issue('carol');
    await redis.stop();
    try {
      const started = performance.now();
      const answer = await middleware(b, before.accessToken);
      expect(answer).toMatchObject({ code: 'store_unavailable', status: 503 });
      expect(answer.headers).toHaveProperty('Retry-After');
      expect(codeOf(await b.refresh(before.refreshToken))).toBe('store_unavailable');
      // (A logout answered 503 may still be applied when Redis returns, if the command had left.)
      expect(codeOf(await b.revoke(leaving.accessToken))).toBe('store_unavailable');
      expect(codeOf(await b.verify(before.accessToken))).toBe('store_unavailable');
      expect(performance.now() - started).toBeLessThan(4 * 3000);
      // A new session needs nothing stored.
      expect((await a.issue('bob')).accessToken).toBeTypeOf('string');
    } finally {
      await redis.start();
    }
    await eventually(async () => (await middleware(b, before.accessToken)).code === 'ok', 10_000, 'B accepts the live token again');
    expect((await middleware(b, revoked.accessToken)).code).toBe('token_revoked');
    expect(codeOf(await a.refresh(before.refreshToken))).toBe('ok');
  });
});
