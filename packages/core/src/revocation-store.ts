/**
 * How a refresh of one session went, as {@link RevocationStore.rotate} decided it atomically.
 * - `rotated`: the token was the session's current one; the session moved on to `generation`.
 * - `reused`: the token was the previous generation, presented again within the reuse interval of
 *   the rotation (two tabs refreshing at once): allowed, and answered at the current `generation`.
 * - `replayed`: an older token, or the previous one after the interval: someone else holds a copy
 *   (the session is revoked when `revokeOnReplay` is set).
 * - `revoked`: the session was revoked (logout, replay), or its state is gone while the token says
 *   it was rotated before: refused.
 */
export type RotateResult =
  | {
      /** The token was the current one and the session moved on. */
      outcome: 'rotated';
      /** The session's new generation, for the new refresh token. */
      generation: number;
    }
  | {
      /** The previous token, presented again within the reuse interval. */
      outcome: 'reused';
      /** The session's current generation, for the new refresh token. */
      generation: number;
    }
  | {
      /** An older token, or the previous one after the interval: a copy someone else holds. */
      outcome: 'replayed';
    }
  | {
      /** The session was revoked, or its state is gone: refused. */
      outcome: 'revoked';
    };

/** What {@link RevocationStore.rotate} needs besides the session and the token's generation. */
export interface RotateOptions {
  /** Now, in seconds since the epoch (the issuer's clock). */
  now: number;
  /** Seconds after a rotation during which the previous generation counts as `reused`, not `replayed`. `0`: never. */
  reuseInterval: number;
  /** Seconds since the epoch until which the session's state (and a revocation on replay) must be kept. */
  expiresAt: number;
  /** Revoke the session, until `expiresAt`, when the token is `replayed`. */
  revokeOnReplay: boolean;
}

/**
 * Where a token issuer keeps what it must remember: revoked token ids (`jti`) and sessions
 * (`sid`), and the rotation state of each session (one entry per live session, never one per
 * refresh). Everything is kept only until the tokens it concerns would have expired anyway.
 * {@link MemoryRevocationStore} serves one process; `@jwtauth/redis` shares it between processes.
 *
 * A store that cannot answer (a database down or too slow) throws {@link StoreUnavailable}: the
 * request is then answered `503 store_unavailable`, never let through.
 */
export interface RevocationStore {
  /** Marks `id` revoked until `expiresAt` (seconds since the epoch); after that it may be forgotten. */
  revoke(id: string, expiresAt: number): void | Promise<void>;
  /** Whether `id` is revoked now. */
  isRevoked(id: string): boolean | Promise<boolean>;
  /**
   * Whether any of `ids` is revoked now, in one lookup (Redis: one `EXISTS`): a token and its
   * session are checked together on every request. Optional; without it each id is asked in turn.
   */
  anyRevoked?(ids: readonly string[]): boolean | Promise<boolean>;
  /**
   * The refresh of session `sid` with a refresh token of `generation` (the token's `gen` claim; `0`
   * for the session's first), decided atomically across every process sharing the store: exactly
   * one caller moves a session from one generation to the next. Unknown state counts as
   * generation `0`.
   */
  rotate(sid: string, generation: number, options: RotateOptions): RotateResult | Promise<RotateResult>;
  /**
   * Records that `key` has been used, until `expiresAt` (seconds since the epoch): `true` when this
   * call is the first use, `false` when the key was already used and has not expired. Atomic across
   * every process sharing the store (Redis: one `SET key 1 NX EXAT expiresAt`), so a DPoP proof's
   * `jti` is accepted once across a cluster. Optional; the DPoP check keeps its own in-memory marks
   * without it. Throws StoreUnavailable when the store cannot answer.
   */
  markUsed?(key: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * The store could not answer in time (a Redis server down, a timeout). Stores throw it; the
 * authenticator answers `503 store_unavailable` with `Retry-After`, and the token issuer returns
 * the same error instead of throwing.
 */
export class StoreUnavailable extends Error {
  /** Always `'StoreUnavailable'`. */
  override readonly name = 'StoreUnavailable';
}

/** True for a {@link StoreUnavailable}, also one from another copy of this package. */
export function isStoreUnavailable(value: unknown): value is StoreUnavailable {
  return value instanceof StoreUnavailable || (value instanceof Error && value.name === 'StoreUnavailable');
}

/** Options of {@link MemoryRevocationStore}. */
export interface MemoryRevocationStoreOptions {
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * Most entries (revocations, sessions with rotation state and one-time-use marks) held at once.
   * When live entries fill it, writes fail with {@link StoreUnavailable} (answered `503
   * store_unavailable`) rather than forget a revocation. Default `100000` (about 15 MB).
   */
  maxEntries?: number;
}

interface SessionState {
  generation: number;
  /** Seconds since the epoch of the last rotation. */
  rotatedAt: number;
  expiresAt: number;
}

/** Sweep expired entries after this many writes, so memory stays bounded by live sessions. */
const SWEEP_EVERY = 1000;

/**
 * An in-process {@link RevocationStore}: one entry per revoked id, per rotated session and per
 * one-time-use mark, each forgotten once it has expired, and at most `maxEntries` of them.
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly #revoked = new Map<string, number>();
  readonly #sessions = new Map<string, SessionState>();
  /** One-time-use marks (`markUsed`): key → seconds since the epoch until which it counts as used. */
  readonly #used = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #sinceSweep = 0;

  constructor(options: MemoryRevocationStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('MemoryRevocationStore: "maxEntries" must be a whole number above 0.');
    this.#maxEntries = max;
  }

  revoke(id: string, expiresAt: number): void {
    const current = this.#revoked.get(id);
    if (current === undefined) this.#makeRoom();
    this.#revoked.set(id, Math.max(current ?? 0, expiresAt));
  }

  isRevoked(id: string): boolean {
    const expiresAt = this.#revoked.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt * 1000 > this.#now()) return true;
    this.#revoked.delete(id);
    return false;
  }

  anyRevoked(ids: readonly string[]): boolean {
    return ids.some((id) => this.isRevoked(id));
  }

  rotate(sid: string, generation: number, options: RotateOptions): RotateResult {
    if (this.isRevoked(sid)) return { outcome: 'revoked' };
    let state = this.#sessions.get(sid);
    if (state !== undefined && state.expiresAt <= options.now) {
      this.#sessions.delete(sid);
      state = undefined;
    }
    const current = state?.generation ?? 0;
    // The token claims the session was rotated before, but nothing remembers it: fail closed.
    if (state === undefined && generation > 0) return { outcome: 'revoked' };
    if (generation === current) {
      if (state === undefined) this.#makeRoom();
      this.#sessions.set(sid, { generation: current + 1, rotatedAt: options.now, expiresAt: options.expiresAt });
      return { outcome: 'rotated', generation: current + 1 };
    }
    if (state !== undefined && generation === current - 1 && options.now - state.rotatedAt <= options.reuseInterval && options.reuseInterval > 0) {
      return { outcome: 'reused', generation: current };
    }
    if (options.revokeOnReplay) this.revoke(sid, options.expiresAt);
    return { outcome: 'replayed' };
  }

  markUsed(key: string, expiresAt: number): boolean {
    const now = this.#now();
    const held = this.#used.get(key);
    if (held !== undefined && held * 1000 > now) return false;
    // A mark that expires before now would be forgotten at once: nothing to remember (nor to make room for).
    if (expiresAt * 1000 <= now) {
      if (held !== undefined) this.#used.delete(key);
      return true;
    }
    // An expired mark of the same key is overwritten in place; only a new key may need room.
    if (held === undefined) this.#makeRoom();
    this.#used.set(key, expiresAt);
    return true;
  }

  /** Forgets every entry that has expired. */
  sweep(): void {
    this.#sinceSweep = 0;
    const now = this.#now() / 1000;
    for (const [id, expiresAt] of this.#revoked) if (expiresAt <= now) this.#revoked.delete(id);
    for (const [sid, state] of this.#sessions) if (state.expiresAt <= now) this.#sessions.delete(sid);
    for (const [key, expiresAt] of this.#used) if (expiresAt <= now) this.#used.delete(key);
  }

  /** How many entries are held (expired ones count until swept or looked up). */
  get size(): number {
    return this.#revoked.size + this.#sessions.size + this.#used.size;
  }

  /** Before a new entry: sweep now and then, and refuse to grow past `maxEntries`. */
  #makeRoom(): void {
    if (++this.#sinceSweep >= SWEEP_EVERY || this.size >= this.#maxEntries) this.sweep();
    if (this.size >= this.#maxEntries) {
      throw new StoreUnavailable(`MemoryRevocationStore is full (${this.#maxEntries} live entries); raise maxEntries or share a store such as @jwtauth/redis`);
    }
  }
}

/** Set on an issuer's `isRevoked`; `Symbol.for` so ESM and CJS copies of core agree. */
const REVOCATION_GRACE = Symbol.for('@jwtauth/core.revocationGrace');

/** Records on an `isRevoked` function how many seconds its revocations outlive their tokens. */
export function markRevocationGrace(isRevoked: object, seconds: number): void {
  Object.defineProperty(isRevoked, REVOCATION_GRACE, { value: seconds, enumerable: false });
}

/** The revocation grace recorded on an `isRevoked` function, if it is a token issuer's. */
export function revocationGraceOf(isRevoked: unknown): number | undefined {
  if (typeof isRevoked !== 'function') return undefined;
  const grace = (isRevoked as { [REVOCATION_GRACE]?: unknown })[REVOCATION_GRACE];
  return typeof grace === 'number' ? grace : undefined;
}
