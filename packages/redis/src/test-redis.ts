// Test support (not part of the package): the Redis clients the store is tested with, each
// connected to a real redis-server (test/redis-server.ts), and a plain client to look inside.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    raw: client,
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

/** A plain client for looking at keys, expiries and command counts directly. */
export interface Inspector {
  keys(pattern?: string): Promise<string[]>;
  /** Absolute expiry of a key in ms since the epoch (-1: none, -2: no such key). */
  expiresAt(key: string): Promise<number>;
  get(key: string): Promise<string | null>;
  command(args: string[]): Promise<unknown>;
  /** How many times each command ran since the last `reset()` (INFO commandstats). */
  calls(): Promise<Record<string, number>>;
  reset(): Promise<unknown>;
  close(): Promise<void>;
}

export async function inspector(url: string): Promise<Inspector> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return {
    async keys(pattern = '*'): Promise<string[]> {
      return (await client.keys(pattern)).map(String).sort();
    },
    async expiresAt(key: string): Promise<number> {
      return Number(await client.sendCommand(['PEXPIRETIME', key]));
    },
    get: async (key: string) => {
      const value = await client.get(key);
      return value === null ? null : String(value);
    },
    command: (args: string[]) => client.sendCommand(args),
    async calls(): Promise<Record<string, number>> {
      const info = String(await client.sendCommand<string>(['INFO', 'commandstats']));
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

/**
 * A one-node Redis Cluster on 127.0.0.1 holding all 16384 slots: enough to prove that the store's
 * commands are Cluster-safe, since a node refuses a multi-key command across slots (`CROSSSLOT`)
 * even when it serves all of them.
 */
export async function startClusterNode(): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const dir = mkdtempSync(join(tmpdir(), 'jwtauth-redis-cluster-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-announce-ip',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const admin = createClient({ url, socket: { reconnectStrategy: 50 } });
  admin.on('error', () => {});
  const close = async () => {
    if (admin.isOpen) admin.destroy();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Retries every 50 ms until the node listens.
    await admin.connect();
    await admin.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    await eventually(async () => String(await admin.sendCommand<string>(['CLUSTER', 'INFO'])).includes('cluster_state:ok'), 10_000, 'the cluster is ok');
  } catch (error) {
    await close();
    throw error;
  }
  return { port, url, close };
}
