import { MemoryRevocationStore } from '@jwtauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from './redis-store.js';
import { expected, play, SCENARIOS } from './test-contract.js';
import { CLIENTS, startRedis, type Connected, type RedisServer } from './test-redis.js';

// One contract (test-contract.ts), every store.

describe('the store contract, MemoryRevocationStore (the reference)', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    expect(await play(new MemoryRevocationStore(), scenario, 'memory')).toEqual(expected(scenario));
  });
});

describe.each(CLIENTS.map((c) => [c.name, c] as const))('the store contract, Redis store over %s', (name, under) => {
  let redis: RedisServer;
  let connected: Connected;
  beforeAll(async () => {
    redis = await startRedis();
    connected = await under.connect(redis.url);
  });
  afterAll(async () => {
    await connected?.close();
    await redis?.close();
  });

  it.each(SCENARIOS.map((s, index) => [s.name, s, index] as const))('%s', async (_name, scenario, index) => {
    const store = createRedisStore({ client: connected.client });
    expect(await play(store, scenario, `${name}-${index}`)).toEqual(expected(scenario));
    expect(connected.errors).toEqual([]);
  });
});
