import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createClient, type RedisClientType } from 'redis';

/**
 * A real redis-server on 127.0.0.1 for tests: its own free port and data directory (append-only
 * file on, as production should run it), started and stopped by the test. `stop()` then `start()`
 * is a restart with the same data; `pause()` freezes it (SIGSTOP) to play a server that hangs.
 */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Starts it (again, on the same port and data). */
  start(): Promise<void>;
  /** Shuts it down cleanly (`SIGTERM`: the data is saved). */
  stop(): Promise<void>;
  /** Freezes the process: connections stay open, nothing is answered. */
  pause(): void;
  resume(): void;
  /** Stops it and deletes its data directory. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the server answers `PING`, or rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('+PONG')) {
          socket.end();
          resolve(true);
        }
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a redis-server (it must be installed: `scripts/ensure-redis.sh`). */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jwtauth-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ];
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitForPong(port, 10_000);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`);
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    running.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Two instances' clients of one Redis, one per library the store supports: node-redis and ioredis,
 * both reconnecting within 300 ms (tests stop and restart the server) and with their connection
 * errors silenced (a stopped server is the point of those tests).
 */
export async function connectBothClients(url: string): Promise<{ nodeRedis: RedisClientType; ioredis: Redis; close(): void }> {
  const nodeRedis: RedisClientType = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(50 * retries, 300) } });
  nodeRedis.on('error', () => {});
  await nodeRedis.connect();
  const ioredis = new Redis(url, { retryStrategy: (times) => Math.min(50 * times, 300) });
  ioredis.on('error', () => {});
  return {
    nodeRedis,
    ioredis,
    close() {
      nodeRedis.destroy();
      ioredis.disconnect();
    },
  };
}
