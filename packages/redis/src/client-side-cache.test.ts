import { StoreUnavailable } from '@jwtauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from './redis-store.js';
import { connectNodeRedis, eventually, inspector, seconds, startRedis, type Inspector, type RedisServer } from './test-redis.js';

// node-redis client-side caching (RESP3 `CLIENT TRACKING`): repeated checks of one token are
// answered from the client's cache, and Redis pushes an invalidation on the same connection when
// one of the keys changes.

describe('node-redis client-side caching', () => {
  let redis: RedisServer;
  let look: Inspector;
  const closers: (() => Promise<void>)[] = [];
  const cachedClient = async () => {
    const connected = await connectNodeRedis(redis.url, { RESP: 3, clientSideCache: { ttl: 0, maxEntries: 10_000 } });
    closers.push(connected.close);
    return connected;
  };
  const plainClient = async () => {
    const connected = await connectNodeRedis(redis.url);
    closers.push(connected.close);
    return connected;
  };

  beforeAll(async () => {
    redis = await startRedis();
    look = await inspector(redis.url);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await look?.close();
    await redis?.close();
  });

  it('answers repeated checks of a token without a round trip', async () => {
    const { client } = await cachedClient();
    const store = createRedisStore({ client });
    await look.reset();
    for (let i = 0; i < 50; i++) expect(await store.anyRevoked(['jti-1', 'sid-1'])).toBe(false);
    expect((await look.calls()).exists).toBe(1);
  });

  it('takes a revocation made through another client into account as soon as its invalidation arrives', async () => {
    const cached = await cachedClient();
    const store = createRedisStore({ client: cached.client });
    const other = createRedisStore({ client: (await plainClient()).client });
    const ids = ['jti-2', 'sid-2'];
    expect(await store.anyRevoked(ids)).toBe(false);
    expect(await store.anyRevoked(ids)).toBe(false); // cached now
    await other.revoke('sid-2', seconds() + 60);
    // Redis sent the invalidation on the cached connection before it answered anything later on
    // that connection, so one round trip there is enough for it to have been applied.
    await cached.raw.ping();
    expect(await store.anyRevoked(ids)).toBe(true);
    // And an unrelated token stays cached.
    await look.reset();
    expect(await store.anyRevoked(['jti-3', 'sid-3'])).toBe(false);
    expect(await store.anyRevoked(['jti-3', 'sid-3'])).toBe(false);
    expect((await look.calls()).exists).toBe(1);
  });

  it('a revocation made through the caching client itself takes effect at once', async () => {
    const { client } = await cachedClient();
    const store = createRedisStore({ client });
    const ids = ['jti-4', 'sid-4'];
    expect(await store.anyRevoked(ids)).toBe(false);
    await store.revoke('sid-4', seconds() + 60);
    expect(await store.anyRevoked(ids)).toBe(true);
  });

  it('answers nothing from the cache once the connection is lost: StoreUnavailable, then fresh answers after the restart', async () => {
    const cached = await cachedClient();
    const store = createRedisStore({ client: cached.client });
    const ids = ['jti-5', 'sid-5'];
    expect(await store.anyRevoked(ids)).toBe(false);
    expect(await store.anyRevoked(ids)).toBe(false);
    await redis.stop();
    try {
      // Once the client has noticed (its socket closed), the cache is gone.
      await eventually(async () => !cached.raw.isReady, 5000, 'the client notices the lost connection');
      await expect(store.anyRevoked(ids)).rejects.toThrow(StoreUnavailable);
    } finally {
      await redis.start();
    }
    // Revoked while this client was cut off (by another process, say).
    await (await plainClient()).raw.set('jwtauth:{sid-5}:revoked', String(Date.now() + 60_000), { PX: 60_000 });
    await eventually(() => store.anyRevoked(ids), 10_000, 'the revocation made during the outage is seen');
  });
});
