/**
 * Where revoked token ids (`jti`) and session ids (`sid`) are kept until the tokens they name
 * would have expired anyway. Implement it over Redis, a database, … to share revocations
 * between processes; {@link MemoryRevocationStore} serves one process.
 */
export interface RevocationStore {
  /** Marks `id` revoked until `expiresAt` (seconds since the epoch); after that it may be forgotten. */
  revoke(id: string, expiresAt: number): void | Promise<void>;
  /** Whether `id` is revoked now. */
  isRevoked(id: string): boolean | Promise<boolean>;
  /**
   * Atomically revokes `id` unless it already is, and says whether this call did it (Redis:
   * `SET id 1 NX EXAT expiresAt`). Optional, but without it a refresh token reused at the same
   * moment in two processes sharing the store can be exchanged twice.
   */
  consume?(id: string, expiresAt: number): boolean | Promise<boolean>;
}

/** Options of {@link MemoryRevocationStore}. */
export interface MemoryRevocationStoreOptions {
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Sweep expired entries after this many revocations, so memory stays bounded by live tokens. */
const SWEEP_EVERY = 1000;

/** An in-process {@link RevocationStore} that forgets each entry once it has expired. */
export class MemoryRevocationStore implements RevocationStore {
  readonly #revoked = new Map<string, number>();
  readonly #now: () => number;
  #sinceSweep = 0;

  constructor(options: MemoryRevocationStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  revoke(id: string, expiresAt: number): void {
    const current = this.#revoked.get(id);
    this.#revoked.set(id, Math.max(current ?? 0, expiresAt));
    if (++this.#sinceSweep >= SWEEP_EVERY) this.sweep();
  }

  isRevoked(id: string): boolean {
    const expiresAt = this.#revoked.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt * 1000 > this.#now()) return true;
    this.#revoked.delete(id);
    return false;
  }

  consume(id: string, expiresAt: number): boolean {
    if (this.isRevoked(id)) return false;
    this.revoke(id, expiresAt);
    return true;
  }

  /** Forgets every entry that has expired. */
  sweep(): void {
    this.#sinceSweep = 0;
    const now = this.#now();
    for (const [id, expiresAt] of this.#revoked) if (expiresAt * 1000 <= now) this.#revoked.delete(id);
  }

  /** How many entries are held (expired ones count until swept or looked up). */
  get size(): number {
    return this.#revoked.size;
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
