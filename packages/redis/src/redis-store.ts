import { StoreUnavailable, type RevocationStore, type RotateOptions, type RotateResult } from '@jwtauth/core';
import { driverFor, type Driver, type RedisStoreClient } from './client.js';
import { MARK_USED, REVOKE, ROTATE } from './scripts.js';

/** Default `timeout`: far above a healthy round trip (well under 1 ms on a LAN), far below a client's patience. */
export const DEFAULT_TIMEOUT = 500;

/**
 * How much later than its timeout a rotation may still reach Redis and apply: room for the clocks
 * of this host and the Redis server to differ. A rotation later than that is dropped by the script.
 */
export const LATE_TOLERANCE = 5000;

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * Your connected client: node-redis (`createClient()`, `createCluster()`, `createSentinel()` of
   * `redis` 5 or 6) or ioredis (`new Redis()`, `new Cluster()`, ioredis 5 or 6). The store
   * neither connects nor closes it; its reconnection, TLS and Sentinel/Cluster settings stay yours.
   */
  client: RedisStoreClient;
  /**
   * Put before every key (`<prefix>{<id>}:revoked`, `<prefix>{<sid>}:session`,
   * `<prefix>{<key>}:used`), so that several apps can share one Redis. Must not contain `{` or
   * `}`: the store adds the hash tag itself. Default `"jwtauth:"`.
   */
  prefix?: string;
  /**
   * Milliseconds one store operation may take before it fails with `StoreUnavailable` (answered
   * `503 store_unavailable` with `Retry-After`): a Redis server that is down, unreachable or hung
   * never makes a request wait longer. Default `500`.
   */
  timeout?: number;
  /**
   * When Redis cannot answer, `isRevoked` and `anyRevoked` answer "not revoked" instead of failing:
   * requests with valid access tokens keep being served during an outage, at the price of honouring
   * tokens revoked meanwhile (or before, if Redis lost them). `markUsed` answers "first use" the
   * same way: DPoP proofs are accepted during an outage, at the price of accepting a replayed one.
   * `rotate` and `revoke` always fail closed. Default `false` (fail closed: `503 store_unavailable`).
   */
  failOpen?: boolean;
  /**
   * Told of every operation Redis could not answer, including those `failOpen` answered ("not
   * revoked", "first use"): log it, count it. A hook that throws changes nothing. Default: none.
   */
  onError?: (error: StoreUnavailable) => void;
}

/** A {@link RevocationStore} shared through Redis by every process that uses the same Redis and prefix. */
export interface RedisStore extends RevocationStore {
  /** Marks `id` revoked until `expiresAt` (seconds since the epoch), keeping a later expiry already held. */
  revoke(id: string, expiresAt: number): Promise<void>;
  /** Whether `id` is revoked now: one `EXISTS`. */
  isRevoked(id: string): Promise<boolean>;
  /** Whether any of `ids` is revoked: one `EXISTS` for all of them (one per id, sent together, on a Cluster). */
  anyRevoked(ids: readonly string[]): Promise<boolean>;
  /** The refresh of session `sid`, decided by one atomic script with the decision table of `MemoryRevocationStore.rotate`. */
  rotate(sid: string, generation: number, options: RotateOptions): Promise<RotateResult>;
  /**
   * Marks `key` used until `expiresAt` (seconds since the epoch): `true` for its first use, `false`
   * while an earlier mark holds. One `SET <prefix>{<key>}:used 1 NX EXAT <expiresAt>` (in a script),
   * atomic across every process; nothing is written for an `expiresAt` already past.
   */
  markUsed(key: string, expiresAt: number): Promise<boolean>;
}

function fail(message: string): never {
  throw new TypeError(`createRedisStore: ${message}`);
}

/** The reply of the rotate script, checked: anything else means Redis did not answer as it should. */
function rotateResult(reply: unknown): RotateResult | 'late' | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [code, generation] = reply.map(Number);
  if (code === 0) return { outcome: 'revoked' };
  if (code === 3) return { outcome: 'replayed' };
  if (code === 4) return 'late';
  if ((code === 1 || code === 2) && Number.isSafeInteger(generation)) return { outcome: code === 1 ? 'rotated' : 'reused', generation: generation! };
  return undefined;
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

class RedisRevocationStore implements RedisStore {
  readonly #driver: Driver;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #failOpen: boolean;
  readonly #onError: ((error: StoreUnavailable) => void) | undefined;

  constructor(driver: Driver, prefix: string, timeout: number, failOpen: boolean, onError: ((error: StoreUnavailable) => void) | undefined) {
    this.#driver = driver;
    this.#prefix = prefix;
    this.#timeout = timeout;
    this.#failOpen = failOpen;
    this.#onError = onError;
  }

  // `{id}` is the Cluster hash tag: a session's two keys share a slot, so one script can use both.
  // A one-time-use mark is one key alone; it takes the same shape so that `prefix` means one thing.
  #revokedKey = (id: string) => `${this.#prefix}{${id}}:revoked`;
  #sessionKey = (sid: string) => `${this.#prefix}{${sid}}:session`;
  #usedKey = (key: string) => `${this.#prefix}{${key}}:used`;

  async revoke(id: string, expiresAt: number): Promise<void> {
    if (typeof id !== 'string') throw new TypeError('RedisStore.revoke: the id must be a string.');
    if (!finite(expiresAt)) throw new TypeError('RedisStore.revoke: expiresAt must be a number of seconds since the epoch.');
    await this.#run('revoke', () => this.#driver.run(REVOKE, [this.#revokedKey(id)], [String(Math.ceil(expiresAt * 1000))]));
  }

  isRevoked(id: string): Promise<boolean> {
    return this.anyRevoked([id]);
  }

  async anyRevoked(ids: readonly string[]): Promise<boolean> {
    if (ids.length === 0) return false;
    if (ids.some((id) => typeof id !== 'string')) throw new TypeError('RedisStore.anyRevoked: every id must be a string.');
    try {
      const count = await this.#run('EXISTS', () => this.#driver.exists(ids.map(this.#revokedKey)));
      if (typeof count !== 'number' || !Number.isInteger(count)) throw this.#unavailable(`Redis answered EXISTS with ${typeof count}, not a count`);
      return count > 0;
    } catch (error) {
      // Reported already by #run; only a store that may fail open swallows it.
      if (this.#failOpen && error instanceof StoreUnavailable) return false;
      throw error;
    }
  }

  async markUsed(key: string, expiresAt: number): Promise<boolean> {
    if (typeof key !== 'string') throw new TypeError('RedisStore.markUsed: the key must be a string.');
    if (!finite(expiresAt)) throw new TypeError('RedisStore.markUsed: expiresAt must be a number of seconds since the epoch.');
    // A mark that has expired already would be forgotten at once: nothing to remember, as in MemoryRevocationStore.
    if (expiresAt * 1000 <= Date.now()) return true;
    try {
      // EXAT takes whole seconds: rounded up, so the mark never ends before `expiresAt`.
      const reply = await this.#run('markUsed', () => this.#driver.run(MARK_USED, [this.#usedKey(key)], [String(Math.ceil(expiresAt))]));
      if (reply !== 0 && reply !== 1) throw this.#unavailable('Redis answered the markUsed script with something unexpected');
      return reply === 1;
    } catch (error) {
      // Reported already; only a store that may fail open swallows it (documented on `failOpen`).
      if (this.#failOpen && error instanceof StoreUnavailable) return true;
      throw error;
    }
  }

  async rotate(sid: string, generation: number, options: RotateOptions): Promise<RotateResult> {
    if (typeof sid !== 'string') throw new TypeError('RedisStore.rotate: the session id must be a string.');
    if (!Number.isSafeInteger(generation) || generation < 0) throw new TypeError('RedisStore.rotate: the generation must be a whole number, 0 or more.');
    const { now, reuseInterval, expiresAt, revokeOnReplay } = options;
    if (!finite(now) || !finite(reuseInterval) || !finite(expiresAt)) {
      throw new TypeError('RedisStore.rotate: now, reuseInterval and expiresAt must be numbers of seconds.');
    }
    const deadline = Date.now() + this.#timeout + LATE_TOLERANCE;
    const args = [
      String(generation),
      String(now),
      String(reuseInterval),
      String(expiresAt),
      String(Math.ceil(expiresAt * 1000)),
      revokeOnReplay ? '1' : '0',
      String(deadline),
    ];
    const reply = await this.#run('rotate', () => this.#driver.run(ROTATE, [this.#revokedKey(sid), this.#sessionKey(sid)], args));
    const result = rotateResult(reply);
    if (result === 'late') {
      // Answered in time, yet past the deadline by Redis's clock: the clocks disagree.
      throw this.#unavailable(
        `Redis's clock is more than ${LATE_TOLERANCE / 1000} s ahead of this host's, so it drops every rotation as late: synchronise the clocks (NTP)`,
      );
    }
    if (result === undefined) throw this.#unavailable('Redis answered the rotate script with something unexpected');
    return result;
  }

  /**
   * Runs one operation within the timeout; whatever goes wrong (a refused connection, a closed
   * client, an error reply, no answer in time) becomes `StoreUnavailable`. A reply that comes after
   * the timeout is dropped, never an unhandled rejection.
   */
  async #run(operation: string, work: () => Promise<unknown>): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pending = (async () => work())();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailable(`Redis did not answer ${operation} within ${this.#timeout} ms (${this.#driver.kind})`)),
        this.#timeout,
      );
    });
    try {
      return await Promise.race([pending, late]);
    } catch (error) {
      pending.catch(() => {});
      const unavailable =
        error instanceof StoreUnavailable
          ? error
          : new StoreUnavailable(`Redis could not ${operation} (${this.#driver.kind}): ${error instanceof Error ? error.message : String(error)}`, {
              cause: error,
            });
      this.#report(unavailable);
      throw unavailable;
    } finally {
      clearTimeout(timer);
    }
  }

  #unavailable(message: string): StoreUnavailable {
    const error = new StoreUnavailable(`${message} (${this.#driver.kind})`);
    this.#report(error);
    return error;
  }

  #report(error: StoreUnavailable): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(error);
    } catch {
      // A logging hook must not change an answer.
    }
  }
}

/**
 * A {@link RevocationStore} over your connected Redis client, for `createTokenIssuer({ store })`:
 * revocations, logouts and refresh rotation shared by every process. Options are checked here; a
 * mistake is a `TypeError` saying what to fix.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null) fail('options are required: { client }.');
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) fail('"timeout" must be a number of milliseconds above 0, such as 500.');
  const driver = driverFor(options.client, timeout);
  if (driver === undefined) {
    fail(
      '"client" must be a node-redis client (createClient(), createCluster() or createSentinel() from "redis") or an ioredis instance (new Redis() or new Cluster()).',
    );
  }
  const prefix = options.prefix ?? 'jwtauth:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) fail('"prefix" must be a string without "{" or "}" (the store adds the Cluster hash tag itself).');
  const failOpen = options.failOpen ?? false;
  if (typeof failOpen !== 'boolean') fail('"failOpen" must be true or false.');
  if (options.onError !== undefined && typeof options.onError !== 'function') fail('"onError" must be a function.');
  return new RedisRevocationStore(driver, prefix, timeout, failOpen, options.onError);
}
