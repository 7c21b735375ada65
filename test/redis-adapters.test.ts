import { createTokenIssuer, type TokenIssuer } from '@jwtauth/issuer';
import { createRedisStore } from '@jwtauth/redis';
import type Redis from 'ioredis';
import type { RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnesses, type RunningServer } from './harness/index.js';
import { connectBothClients, startRedis, type RedisServer } from './redis-server.js';

// Over real HTTP, through every adapter: the app's servers are several instances sharing one Redis.
// Instance A logs users in and out (its issuer over node-redis); the server under test verifies
// with instance B's issuer (over ioredis): what A revokes, B refuses at once.

const KEY = 'redis-adapters-test-secret-long-enough-for-hs256';

async function get(server: RunningServer, token: string) {
  const started = performance.now();
  const response = await fetch(`${server.url}/protected`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown>, ms: performance.now() - started };
}

/** Polls until `check` holds, or throws after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(harnesses.map((h) => [h.name, h] as const))('%s with the Redis store shared by two instances', (_name, harness) => {
  let redis: RedisServer;
  let clients: Awaited<ReturnType<typeof connectBothClients>>;
  let nodeRedis: RedisClientType;
  let ioredis: Redis;
  let instanceA: TokenIssuer;
  let instanceB: TokenIssuer;
  let failOpenB: TokenIssuer;
  let server: RunningServer;
  let failOpenServer: RunningServer;

  beforeAll(async () => {
    redis = await startRedis();
    clients = await connectBothClients(redis.url);
    ({ nodeRedis, ioredis } = clients);
    instanceA = createTokenIssuer({ key: KEY, store: createRedisStore({ client: nodeRedis }) });
    instanceB = createTokenIssuer({ key: KEY, store: createRedisStore({ client: ioredis }) });
    failOpenB = createTokenIssuer({ key: KEY, store: createRedisStore({ client: ioredis, failOpen: true }) });
    server = await harness.start({ ...instanceB.verifierOptions });
    failOpenServer = await harness.start({ ...failOpenB.verifierOptions });
  });
  afterAll(async () => {
    await server?.close();
    await failOpenServer?.close();
    clients?.close();
    await redis?.close();
  });

  it('a token revoked through instance A is refused by a server verifying with instance B', async () => {
    const tokens = await instanceA.issue('alice');
    expect((await get(server, tokens.accessToken)).status).toBe(200);
    expect(await instanceA.revoke(tokens.accessToken)).toEqual({ ok: true });
    const refused = await get(server, tokens.accessToken);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_token', error_description: expect.any(String), code: 'token_revoked' });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('Redis down: 503 store_unavailable with Retry-After in under 3 s (failOpen: 200); back up: recovery, and a token revoked before is still refused', async () => {
    const live = await instanceA.issue('alice');
    const revoked = await instanceA.issue('mallory');
    await instanceA.revoke(revoked.refreshToken);
    await redis.stop();
    try {
      for (const token of [live.accessToken, revoked.accessToken]) {
        const answer = await get(server, token);
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({ error: 'temporarily_unavailable', code: 'store_unavailable' });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(answer.headers.get('www-authenticate')).toBeNull();
        expect(answer.ms).toBeLessThan(3000);
      }
      // The trade-off failOpen makes: valid tokens keep working while Redis is away.
      expect((await get(failOpenServer, live.accessToken)).status).toBe(200);
    } finally {
      await redis.start();
    }
    await eventually(async () => (await get(server, live.accessToken)).status === 200, 10_000, 'the live token is accepted again');
    expect((await get(server, revoked.accessToken)).body).toMatchObject({ code: 'token_revoked' });
    expect((await get(failOpenServer, revoked.accessToken)).status).toBe(401);
  });
});
