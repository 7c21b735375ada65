import Redis, { Cluster } from 'ioredis';
import Redis5 from 'ioredis5';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStoreClient } from './client.js';
import { createRedisStore } from './redis-store.js';
import { expected, play, SCENARIOS } from './test-contract.js';
import { seconds, startClusterNode } from './test-redis.js';

// Redis Cluster: a node refuses a multi-key command or script whose keys hash to different slots
// (CROSSSLOT), even when it serves every slot. The store keeps a session's two keys in one slot
// ({sid} hash tag) and checks a token's id and its session's id with one EXISTS each.

interface ClusterClient {
  name: string;
  connect(port: number): Promise<{ client: RedisStoreClient; close(): Promise<void> }>;
}

const ioredisCluster = (name: string, Client: typeof Cluster): ClusterClient => ({
  name,
  async connect(port) {
    const client = new Client([{ host: '127.0.0.1', port }], { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    return { client, close: async () => client.disconnect() };
  },
});

const CLUSTER_CLIENTS: ClusterClient[] = [
  {
    name: 'node-redis 6 createCluster()',
    async connect(port) {
      const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
      client.on('error', () => {});
      await client.connect();
      return { client, close: async () => client.destroy() };
    },
  },
  ioredisCluster('ioredis 6 Cluster', Cluster),
  ioredisCluster('ioredis 5 Cluster', (Redis5 as unknown as typeof Redis).Cluster),
];

describe.each(CLUSTER_CLIENTS.map((c) => [c.name, c] as const))('the Redis store on a Cluster, over %s', (name, under) => {
  let node: Awaited<ReturnType<typeof startClusterNode>>;
  let connected: Awaited<ReturnType<ClusterClient['connect']>>;
  beforeAll(async () => {
    node = await startClusterNode();
    connected = await under.connect(node.port);
  });
  afterAll(async () => {
    await connected?.close();
    await node?.close();
  });

  it.each(SCENARIOS.map((s, index) => [s.name, s, index] as const))('keeps the store contract: %s', async (_name, scenario, index) => {
    const store = createRedisStore({ client: connected.client });
    expect(await play(store, scenario, `${name}-${index}`)).toEqual(expected(scenario));
  });

  it('checks ids that hash to different slots together', async () => {
    const store = createRedisStore({ client: connected.client });
    // "a" and "b" are in slots 15495 and 3300.
    await store.revoke('b', seconds() + 60);
    expect(await store.anyRevoked(['a', 'b'])).toBe(true);
    expect(await store.anyRevoked(['a', 'c'])).toBe(false);
  });
});
