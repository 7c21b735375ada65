import { type RevocationStore } from '@jwtauth/core';
import { createTokenIssuer } from '@jwtauth/issuer';
import Redis, { Cluster } from 'ioredis';
import Redis5, { Cluster as Cluster5 } from 'ioredis5';
import { createClient, createCluster, createSentinel } from 'redis';
import { expectTypeOf, test } from 'vitest';
import { createRedisStore, type RedisStore } from './index.js';

test('createRedisStore() accepts every node-redis client, as created, with RESP3 and client-side caching too', () => {
  createRedisStore({ client: createClient() });
  createRedisStore({ client: createClient({ RESP: 3, clientSideCache: { ttl: 0, maxEntries: 10_000 } }) });
  createRedisStore({ client: createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }) });
  createRedisStore({ client: createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] }) });
});

test('createRedisStore() accepts ioredis 5 and 6 Redis and Cluster instances', () => {
  createRedisStore({ client: new Redis({ lazyConnect: true }) });
  createRedisStore({ client: new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }) });
  createRedisStore({ client: new Redis5({ lazyConnect: true }) });
  createRedisStore({ client: new Cluster5([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }) });
});

test('createRedisStore() refuses what is not a client, and options of the wrong type', () => {
  // @ts-expect-error: a URL is not a client
  createRedisStore({ client: 'redis://127.0.0.1:6379' });
  // @ts-expect-error: the client is required
  createRedisStore({ prefix: 'app:' });
  // @ts-expect-error: an object without the commands the store sends
  createRedisStore({ client: { get: async () => null } });
  // @ts-expect-error: timeout is a number of milliseconds
  createRedisStore({ client: createClient(), timeout: '500ms' });
  // @ts-expect-error: failOpen is a boolean
  createRedisStore({ client: createClient(), failOpen: 'yes' });
});

test('the store is a RevocationStore whose methods are all asynchronous, with anyRevoked and markUsed always present', () => {
  const store = createRedisStore({
    client: createClient(),
    prefix: 'app:',
    timeout: 250,
    failOpen: false,
    onError: (error) => expectTypeOf(error.message).toBeString(),
  });
  expectTypeOf(store).toEqualTypeOf<RedisStore>();
  expectTypeOf(store).toMatchTypeOf<RevocationStore>();
  expectTypeOf(store.anyRevoked).returns.toEqualTypeOf<Promise<boolean>>();
  expectTypeOf(store.markUsed).parameters.toEqualTypeOf<[key: string, expiresAt: number]>();
  expectTypeOf(store.markUsed).returns.toEqualTypeOf<Promise<boolean>>();
  // Optional on the interface: a store of your own need not implement it.
  expectTypeOf<RevocationStore['markUsed']>().toEqualTypeOf<((key: string, expiresAt: number) => boolean | Promise<boolean>) | undefined>();
  expectTypeOf(store.rotate).returns.resolves.toMatchTypeOf<{ outcome: string }>();
  createTokenIssuer({ key: 'a-secret-of-at-least-32-characters!!', store });
});
