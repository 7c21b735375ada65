// Test support (not part of the package): the Redis clients the store is tested with, each
// connected to a real redis-server (test/redis-server.ts), and a plain client to look inside.
import Redis, { type RedisOptions } from 'ioredis';
import Redis5 from 'ioredis5';
import { createClient, type RedisClientOptions } from 'redis';
import type { RedisStoreClient } from './client.js';

export { startRedis, type RedisServer } from '../../../test/redis-server.js';

/** A connected client under test; errors it emits are collected, not thrown. */
export interface Connected {
  client: RedisStoreClient;
  errors: Error[];
  close(): Promise<void>;
}

export interface ClientUnderTest {
  name: string;
  connect(url: string): Promise<Connected>;
}

/** node-redis with extra createClient() options (RESP3, client-side caching). */
export async function connectNodeRedis(url: string, options: RedisClientOptions = {}): Promise<Connected & { raw: ReturnType<typeof createClient> }> {
  const errors: Error[] = [];
  // Reconnect quickly, so that recovery tests do not wait out a long backoff.
  const client = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(50 * retries, 300) }, ...options });
  client.on('error', (error: Error) => errors.push(error));
  await client.connect();
  return {
    client,
    raw: client as ReturnType<typeof createClient>,
    errors,
    close: async () => {
      if (client.isOpen) client.destroy();
    },
  };
}

function ioredis(name: string, Client: typeof Redis): ClientUnderTest {
  return {
    name,
    async connect(url) {
      const errors: Error[] = [];
      const options: RedisOptions = { retryStrategy: (times) => Math.min(50 * times, 300), lazyConnect: true };
      const client = new Client(url, options);
      client.on('error', (error: Error) => errors.push(error));
      await client.connect();
      return {
        client,
        errors,
        close: async () => client.disconnect(),
      };
    },
  };
}

/** Every client library and major version the store supports. */
export const CLIENTS: readonly ClientUnderTest[] = [
  { name: 'node-redis 6', connect: (url) => connectNodeRedis(url) },
  ioredis('ioredis 6', Redis),
  ioredis('ioredis 5', Redis5 as unknown as typeof Redis),
];

/** A node-redis client for looking at keys and TTLs directly. */
export async function inspector(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return {
    async keys(pattern = '*'): Promise<string[]> {
      return (await client.keys(pattern)).map(String).sort();
    },
    /** Absolute expiry of a key in ms since the epoch (-1: none, -2: no such key). */
    async expiresAt(key: string): Promise<number> {
      return Number(await client.sendCommand(['PEXPIRETIME', key]));
    },
    get: (key: string) => client.get(key),
    command: (args: string[]) => client.sendCommand(args),
    /** How many times each command ran since the last `reset()` (INFO commandstats). */
    async calls(): Promise<Record<string, number>> {
      const info = String(await client.sendCommand(['INFO', 'commandstats']));
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
      return calls;
    },
    reset: () => client.sendCommand(['CONFIG', 'RESETSTAT']),
    close: async () => client.destroy(),
  };
}

export const seconds = () => Math.floor(Date.now() / 1000);

/** Polls `check` until it resolves true, or throws after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
