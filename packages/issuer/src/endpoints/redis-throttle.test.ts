import type { IncomingMessage } from 'node:http';
import { createTokenIssuer } from '@jwtauth/issuer';
import { createTokenEndpoints } from '@jwtauth/issuer';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../../../test/redis-server.js';
import { post, serve, type TestServer } from './test-server.js';

let redis: RedisServer;
const clients: Array<{ isOpen: boolean; destroy(): void }> = [];
const servers: TestServer[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const client of clients) if (client.isOpen) client.destroy();
  await redis.close();
});

/** One "process": its own endpoints and its own node-redis client on the shared Redis. */
async function instance(keyPrefix: string) {
  const client = createClient({ url: redis.url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  const server = await serve(
    createTokenEndpoints<IncomingMessage>({
      issuer: createTokenIssuer({ key: 'a-test-secret-of-at-least-32-bytes!!' }),
      verifyCredentials: (username, password) => (password === 'right' ? { subject: username } : null),
      throttle: { redis: client, keyPrefix, redisTimeout: 200 },
    }),
  );
  servers.push(server);
  return server.url;
}

describe('login throttling in Redis', () => {
  it('counts the guesses of every process sharing the Redis, and a success resets them for all', async () => {
    const [a, b] = [await instance('t1'), await instance('t1')];
    const guess = (api: string, i: number) => post(`${api}/token`, { username: 'carol', password: `g${i}` }, { 'X-Forwarded-For': `10.3.0.${i}` });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await guess(i % 2 ? b : a, i)).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((await post(`${b}/token`, { username: 'carol', password: 'right' }, { 'X-Forwarded-For': '10.3.1.1' })).status).toBe(200);
    for (let i = 0; i < 5; i += 1) statuses.push((await guess(i % 2 ? a : b, 10 + i)).status);
    const refused = await guess(a, 20);
    expect(statuses.slice(4)).toEqual([401, 401, 401, 401, 401]);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await guess(b, 21)).status).toBe(429);
  });

  it('goes on counting in memory while Redis is hung or down: still 429, never a hang or a 500', async () => {
    const api = await instance('t2');
    const guess = (i: number) => post(`${api}/token`, { username: 'dave', password: `g${i}` }, { 'X-Forwarded-For': `10.4.0.${i}` });
    redis.pause();
    try {
      const hung = [];
      for (let i = 0; i < 6; i += 1) hung.push((await guess(i)).status);
      expect(hung).toEqual([401, 401, 401, 401, 401, 429]);
    } finally {
      redis.resume();
    }
    await redis.stop();
    try {
      const down = await guess(10);
      expect(down.status).toBe(429);
      expect(down.body.code).toBe('too_many_requests');
    } finally {
      await redis.start();
    }
  });
});
