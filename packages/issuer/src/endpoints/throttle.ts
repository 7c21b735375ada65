import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import RateLimiterMemory from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import RateLimiterRedis from 'rate-limiter-flexible/lib/RateLimiterRedis.js';

/** One limit: at most `points` attempts per `duration` seconds. */
export interface LoginLimit {
  /** Attempts allowed in the window. */
  points: number;
  /** The window, in seconds; it starts at the first attempt. */
  duration: number;
}

/**
 * A connected [node-redis](https://github.com/redis/node-redis) client (v4, v5 or later, as
 * `createClient()` returns it): the limiter counts in it with `MULTI` and `EVAL`.
 */
export interface ThrottleRedisClient {
  /** node-redis has it, ioredis (whose command names differ) not: it tells them apart. */
  readonly isOpen: boolean;
  /** Used for the count's `INCRBY` + `PTTL`. */
  multi(): unknown;
  /** Used for the count's atomic increment-with-expiry script. */
  eval(...args: never[]): unknown;
}

/** Options of the login throttle (`throttle` of `createTokenEndpoints`). */
export interface ThrottleOptions {
  /**
   * Failed logins per username (whatever the address), counted until a login of that username
   * succeeds, which starts it over. Usernames are compared after Unicode NFKC and lower-casing,
   * so `Alice` and `alice` share a count. `false` turns it off. Default `{ points: 5, duration: 900 }`
   * (5 per 15 minutes).
   */
  username?: LoginLimit | false;
  /**
   * Logins per client address (`address` of the request), failed or not. `false` turns it off.
   * Default `{ points: 20, duration: 60 }`.
   */
  address?: LoginLimit | false;
  /**
   * Counts in Redis, shared by every process using it (rate-limiter-flexible's `RateLimiterRedis`
   * with `useRedisPackage: true`). While Redis cannot answer, each process counts in its own
   * memory instead, so a Redis outage never opens the door to guessing. Default: memory.
   */
  redis?: ThrottleRedisClient;
  /** Prefix of the Redis keys. Default `jwtauth:login`. */
  keyPrefix?: string;
  /** Milliseconds to wait for Redis before counting in this process's memory instead. Default `500`. */
  redisTimeout?: number;
}

/** What the throttle says about one login attempt. */
export type ThrottleVerdict = { ok: true; succeeded(): Promise<void> } | { ok: false; retryAfter: number };

/** Decides, before the password is checked, whether a login attempt may go on. */
export interface LoginThrottle {
  attempt(username: string, address: string | undefined): Promise<ThrottleVerdict>;
}

const DEFAULT_USERNAME: LoginLimit = { points: 5, duration: 900 };
const DEFAULT_ADDRESS: LoginLimit = { points: 20, duration: 60 };

function fail(message: string): never {
  throw new TypeError(`createTokenEndpoints: ${message}`);
}

function checkLimit(name: string, limit: LoginLimit | false | undefined, fallback: LoginLimit): LoginLimit | undefined {
  if (limit === false) return undefined;
  if (limit === undefined) return fallback;
  if (typeof limit !== 'object' || limit === null) fail(`"throttle.${name}" must be { points, duration } or false.`);
  if (!Number.isSafeInteger(limit.points) || limit.points < 1) fail(`"throttle.${name}.points" must be a whole number of attempts, at least 1.`);
  if (!Number.isSafeInteger(limit.duration) || limit.duration < 1) fail(`"throttle.${name}.duration" must be whole seconds, at least 1.`);
  return limit;
}

/** A limiter, and for Redis the per-process one that stands in while Redis cannot answer. */
interface Limiter {
  primary: RateLimiterAbstract;
  fallback?: RateLimiterAbstract;
}

function limiter(limit: LoginLimit, keyPrefix: string, redis: ThrottleRedisClient | undefined): Limiter {
  const memory = new RateLimiterMemory({ points: limit.points, duration: limit.duration, keyPrefix });
  if (redis === undefined) return { primary: memory };
  const shared = new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    points: limit.points,
    duration: limit.duration,
    keyPrefix,
    // Fail closed but available: an outage counts per process rather than not at all.
    insuranceLimiter: memory,
  });
  return { primary: shared, fallback: memory };
}

/** Seconds until the next attempt is allowed, at least 1. */
function retryAfter(refusal: unknown): number {
  const ms = typeof refusal === 'object' && refusal !== null ? (refusal as RateLimiterRes).msBeforeNext : undefined;
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
}

/** An `Error` is the store failing (with no insurance left); anything else is rate-limiter-flexible's refusal. */
async function consumeFrom(rateLimiter: RateLimiterAbstract, key: string): Promise<number | undefined> {
  try {
    await rateLimiter.consume(key);
    return undefined;
  } catch (refusal) {
    if (refusal instanceof Error) throw refusal;
    return retryAfter(refusal);
  }
}

/**
 * Takes a point: seconds to wait when refused, `undefined` when allowed. A Redis that does not
 * answer within `timeout` ms (hung, not down: a closed connection fails at once and goes to the
 * insurance limiter) is passed over for this process's count, so a login never waits on it.
 */
async function consume(limiter: Limiter, key: string, timeout: number): Promise<number | undefined> {
  if (limiter.fallback === undefined) return consumeFrom(limiter.primary, key);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeout)));
  // A failure the insurance limiter did not absorb counts as no answer. A late answer may still
  // come; nothing waits for it then.
  const shared = consumeFrom(limiter.primary, key).catch(() => 'late' as const);
  try {
    const first = await Promise.race([shared, late]);
    return first === 'late' ? await consumeFrom(limiter.fallback, key) : first;
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the `throttle` option and builds its limiters, or `undefined` for `throttle: false`. */
export function createLoginThrottle(options: ThrottleOptions | false | undefined): LoginThrottle | undefined {
  if (options === false) return undefined;
  const given = options ?? {};
  if (typeof given !== 'object' || given === null) fail('"throttle" must be an object of options, or false.');
  const usernameLimit = checkLimit('username', given.username, DEFAULT_USERNAME);
  const addressLimit = checkLimit('address', given.address, DEFAULT_ADDRESS);
  const redis = given.redis;
  if (
    redis !== undefined &&
    (typeof redis !== 'object' || redis === null || typeof redis.isOpen !== 'boolean' || typeof redis.multi !== 'function' || typeof redis.eval !== 'function')
  ) {
    fail('"throttle.redis" must be a node-redis client, as createClient() of the redis package returns it (ioredis is not supported).');
  }
  const prefix = given.keyPrefix ?? 'jwtauth:login';
  if (typeof prefix !== 'string' || prefix === '') fail('"throttle.keyPrefix" must be a non-empty string.');
  const timeout = given.redisTimeout ?? 500;
  if (!Number.isSafeInteger(timeout) || timeout < 1) fail('"throttle.redisTimeout" must be whole milliseconds, at least 1.');
  if (usernameLimit === undefined && addressLimit === undefined) return undefined;

  const byUsername = usernameLimit && limiter(usernameLimit, `${prefix}:user`, redis);
  const byAddress = addressLimit && limiter(addressLimit, `${prefix}:addr`, redis);

  return {
    async attempt(username, address) {
      // A missing address is one shared bucket: refusing too much beats not counting at all.
      const addressWait = byAddress && (await consume(byAddress, address || 'unknown', timeout));
      if (addressWait !== undefined) return { ok: false, retryAfter: addressWait };
      const userKey = username.normalize('NFKC').toLowerCase();
      // The point is taken before the password is checked, so that concurrent guesses cannot all
      // pass a check made before any of them failed; a success gives it back (and the rest).
      const userWait = byUsername && (await consume(byUsername, userKey, timeout));
      if (userWait !== undefined) return { ok: false, retryAfter: userWait };
      return {
        ok: true,
        async succeeded() {
          if (byUsername === undefined) return;
          // Both counts: the success may have been counted in either while Redis was away.
          const reset = Promise.all([byUsername.primary.delete(userKey), byUsername.fallback?.delete(userKey)]);
          reset.catch(() => undefined);
          let timer: ReturnType<typeof setTimeout> | undefined;
          // A hung Redis must not hold a good login: the reset then lands later, or not at all.
          await Promise.race([reset, new Promise((resolve) => (timer = setTimeout(resolve, timeout)))]).finally(() => clearTimeout(timer));
        },
      };
    },
  };
}
