import type { Script } from './scripts.js';

/** Any function: the store checks only that the methods it calls exist, whatever their overloads. */
type Method = (...args: never[]) => unknown;

/**
 * A node-redis client (`redis` 5 or 6): `createClient()`, `createCluster()` or `createSentinel()`,
 * connected by you with your own URL, TLS and reconnection settings. Typed by the methods the store
 * calls, so that no version of `redis` is imported by these types.
 */
export interface NodeRedisClient {
  /** `EXISTS`, for every revocation check. */
  exists: Method;
  /** `EVALSHA`, for rotation and revocation. */
  evalSha: Method;
  /** `EVAL`, once when Redis has lost its script cache (`NOSCRIPT`). */
  eval: Method;
}

/** An ioredis `Redis` or `Cluster` instance (ioredis 5 or 6), with your own settings. */
export interface IoRedisClient {
  /** `EXISTS`, for every revocation check. */
  exists: Method;
  /** `EVALSHA`, for rotation and revocation. */
  evalsha: Method;
  /** `EVAL`, once when Redis has lost its script cache (`NOSCRIPT`). */
  eval: Method;
}

/** The client the store talks through: node-redis or ioredis. */
export type RedisStoreClient = NodeRedisClient | IoRedisClient;

/** What the store sends to Redis, the same whichever client library carries it. */
export interface Driver {
  /** `node-redis` or `ioredis`, and whether it is a Cluster client. */
  readonly kind: string;
  readonly cluster: boolean;
  /** How many of `keys` exist. */
  exists(keys: readonly string[]): Promise<unknown>;
  /** Runs `script` by its SHA1, and in full once if Redis answers `NOSCRIPT` (its script cache was emptied by a restart). */
  run(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

// The call shapes of each library, as used here.
interface NodeRedisCalls {
  exists(keys: string[]): Promise<unknown>;
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(source: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  withCommandOptions?(options: { timeout: number }): NodeRedisCalls;
  getSlotMaster?: unknown;
}
interface IoRedisCalls {
  exists(...keys: string[]): Promise<unknown>;
  evalsha(sha: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(source: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  isCluster?: unknown;
}

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/** Evaluates by SHA, falling back to the full source when the server does not know the script. */
async function withFallback(bySha: () => Promise<unknown>, bySource: () => Promise<unknown>): Promise<unknown> {
  try {
    return await bySha();
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return bySource();
  }
}

/**
 * Wraps the user's client, or returns `undefined` when it is neither library's. A Cluster client
 * gets one `EXISTS` per key, sent at once: a token's id and its session's id hash to different
 * slots, and one multi-key command across slots is refused (`CROSSSLOT`).
 */
export function driverFor(client: unknown, timeout: number): Driver | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const candidate = client as Partial<Record<string, unknown>>;
  if (typeof candidate.evalSha === 'function' && typeof candidate.exists === 'function' && typeof candidate.eval === 'function') {
    const raw = client as NodeRedisCalls;
    // node-redis ≥ 5.6 drops a command still waiting in its offline queue once `timeout` passes,
    // so that an outage does not pile up commands to replay later; older versions ignore it.
    const calls = typeof raw.withCommandOptions === 'function' ? raw.withCommandOptions({ timeout }) : raw;
    const cluster = typeof raw.getSlotMaster === 'function';
    return {
      kind: cluster ? 'node-redis Cluster' : 'node-redis',
      cluster,
      exists: cluster ? (keys) => sum(keys.map((key) => calls.exists([key]))) : (keys) => calls.exists([...keys]),
      run: (script, keys, args) => {
        const options = { keys: [...keys], arguments: [...args] };
        return withFallback(
          () => calls.evalSha(script.sha, options),
          () => calls.eval(script.source, options),
        );
      },
    };
  }
  if (typeof candidate.evalsha === 'function' && typeof candidate.exists === 'function' && typeof candidate.eval === 'function') {
    const calls = client as IoRedisCalls;
    const cluster = calls.isCluster === true;
    return {
      kind: cluster ? 'ioredis Cluster' : 'ioredis',
      cluster,
      exists: cluster ? (keys) => sum(keys.map((key) => calls.exists(key))) : (keys) => calls.exists(...keys),
      run: (script, keys, args) =>
        withFallback(
          () => calls.evalsha(script.sha, keys.length, ...keys, ...args),
          () => calls.eval(script.source, keys.length, ...keys, ...args),
        ),
    };
  }
  return undefined;
}

async function sum(counts: Promise<unknown>[]): Promise<number> {
  let total = 0;
  for (const count of await Promise.all(counts)) total += Number(count);
  return total;
}
