import { MemoryRevocationStore, type RevocationStore } from '@jwtauth/core';
import type { ThrottleRedisClient } from '@jwtauth/issuer';
import { createRedisStore } from '@jwtauth/redis';
import { createClient } from 'redis';
import type { Config } from './config.js';
import type { Logger } from './log.js';

/** The key prefix of everything the examples keep in Redis. */
export const REDIS_PREFIX = 'jwtauth:';

/**
 * Milliseconds a Redis command may take before the request is answered `503 store_unavailable`
 * (`@jwtauth/redis`'s `timeout`): Redis on the same network answers in well under a millisecond.
 */
export const REDIS_TIMEOUT_MS = 500;

/** How long start-up waits for the first Redis connection before it listens anyway. */
export const REDIS_STARTUP_WAIT_MS = 5000;

/** The revocation store a server runs with, and how to let go of it at shutdown. */
export interface OpenedStore {
  store: RevocationStore;
  /** The Redis client, when there is one: the token endpoints' login throttle counts in it too. */
  redis?: ThrottleRedisClient;
  /** Closes the Redis connection (nothing to do for the memory store). */
  close: () => Promise<void>;
}

/** `url` with its password (if any) replaced, for logs. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * Waits between reconnection attempts: 50 ms doubling up to 1 s, plus up to 100 ms of jitter so
 * that many processes do not reconnect in step. node-redis's own default goes up to 2.2 s, which
 * would keep a process answering 503 for up to two seconds after Redis is back.
 */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100);
}

/**
 * The store of `config`: Redis (`REDIS_URL`, node-redis) shared by every process, or a memory
 * store for this process alone, which it says on start-up (a `warn` log line).
 *
 * With Redis, start-up waits (at most {@link REDIS_STARTUP_WAIT_MS}) for the first connection, so
 * that a process that just started does not answer 503 to its first requests; when Redis cannot
 * be reached, the process starts anyway and answers `503 store_unavailable` (with `Retry-After`)
 * where a token must be checked, until the client, which keeps reconnecting, gets through.
 */
export async function openStore(config: Config, logger: Logger): Promise<OpenedStore> {
  if (config.redisUrl === undefined) {
    logger.warn(
      { type: 'store', store: 'memory' },
      'REDIS_URL is not set: revocations, logouts and refresh rotation stay in this process; run a single process, or set REDIS_URL to share them',
    );
    return { store: new MemoryRevocationStore(), close: async () => {} };
  }

  const url = redactUrl(config.redisUrl);
  const client = createClient({
    url: config.redisUrl,
    // While the connection is down, commands fail at once (503) instead of queueing up.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: reconnectDelay },
  });
  // node-redis throws an `error` event nobody listens to, which would end the process: log it,
  // once per outage (the client reports every failed reconnection attempt).
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error({ type: 'store.error', store: 'redis', url, err: error }, 'cannot reach Redis: token checks answer 503 store_unavailable until it can');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ type: 'store.ready', store: 'redis', url }, 'Redis connection back');
  });

  const connecting = client.connect();
  // Rejected only when the client is closed during shutdown while still connecting.
  connecting.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, REDIS_STARTUP_WAIT_MS, 'timeout')));
  const first = await Promise.race([connecting.then(() => 'ready' as const), waited]);
  clearTimeout(timer);
  if (first === 'timeout') {
    logger.error(
      { type: 'store', store: 'redis', url },
      `Redis did not answer within ${REDIS_STARTUP_WAIT_MS} ms: starting anyway; token checks answer 503 store_unavailable until it does`,
    );
  } else {
    logger.info({ type: 'store', store: 'redis', url }, 'revocations, logouts and refresh rotation are shared through Redis');
  }

  return {
    store: createRedisStore({ client, prefix: REDIS_PREFIX, timeout: REDIS_TIMEOUT_MS }),
    redis: client,
    async close() {
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}
