import type { JWSHeaderParameters, JWTPayload } from 'jose';
import { tokenFingerprint } from '../crypto/runtime.js';

/** Options of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most tokens held; the least recently used goes first. Default `1000`. */
  max?: number;
  /** Seconds a verification is reused, at most (never past the token's own expiry). Default `60`. */
  ttl?: number;
}

/** One verified token. A class, so that every entry has the same shape (and hidden class). */
class Entry {
  constructor(
    /**
     * The verified header and payload as one JSON array of the token's own JSON text: one parse
     * gives a fresh copy of both.
     */
    readonly json: string,
    /** Milliseconds since the epoch after which the token must be verified again. */
    readonly until: number,
  ) {}
}

/** What the cache keeps of a verified token: its JSON text, and the claims that bound its stay. */
export interface VerifiedText {
  headerJson: string;
  payloadJson: string;
  payload: JWTPayload;
}

/**
 * Remembers tokens that passed signature and claim checks, so a client that sends the same token
 * on every request costs one signature verification per `ttl`. An entry never outlives the
 * token's `exp` (or `maxTokenAge`), so a hit needs no time check; once it lapses, the token is
 * verified afresh and fails with its precise error. Revocation and `resolveUser` still run on
 * every request. Only verified tokens enter, so attackers cannot fill it with forged ones.
 *
 * The cache keeps its own copy of the header and payload, as JSON text, and hands out a fresh
 * copy on every hit: a handler that changes `req.auth.payload` (say `scope += ' admin'`) changes
 * only its own request, never what the next request with that token is authorized to do. Both
 * came from JSON, so parsing the text again gives them back exactly, in less than half the time
 * `structuredClone` takes; and the text is the token's own, decoded once, so keeping it costs no
 * copy. Tokens are kept under a SHA-256 of the token where the runtime hashes synchronously
 * (Node): 44 characters instead of a whole token held alive.
 */
/**
 * A 32-bit tag of a cache key, from its last characters: the end of a SHA-256 in base64 on Node,
 * the signature of the token elsewhere; either is as good as random for different tokens.
 */
function tagOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, key.length - 12); i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash | 0;
}

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #keyOf: (token: string) => string;
  /**
   * Tags of tokens verified once and not kept (yet): a direct-mapped table of 32-bit tags, no
   * allocation per token. A token is kept the second time it is verified while its tag is here.
   * Tokens seen once (a crowd of clients each sending one request, a benchmark of 5,000 distinct
   * tokens) thus cost the cache no entry, no copy and no garbage collection, while a client that
   * reuses its token is served from the cache from its third request on.
   */
  readonly #seen: Int32Array;

  /** `keyOf` turns a token (with its scope) into the key it is kept under. */
  constructor(options: Required<TokenCacheOptions>, keyOf: (token: string) => string = tokenFingerprint) {
    this.#max = options.max;
    this.#ttlMs = options.ttl * 1000;
    this.#keyOf = keyOf;
    // About as many slots as entries: a token whose tag is overwritten before it comes back would
    // have been evicted from a full cache by as many other tokens anyway.
    let slots = 64;
    while (slots < options.max && slots < 1 << 20) slots *= 2;
    this.#seen = new Int32Array(slots);
  }

  /** The key `text` (a token, with what scopes it) is kept under: compute it once per request. */
  keyFor(text: string): string {
    return this.#keyOf(text);
  }

  /** A fresh copy of the verification kept under `key` (from {@link keyFor}), if still valid. */
  get(key: string, now: number): { header: JWSHeaderParameters; payload: JWTPayload } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.until <= now) return undefined;
    this.#entries.set(key, entry);
    const [header, payload] = JSON.parse(entry.json) as [JWSHeaderParameters, JWTPayload];
    return { header, payload };
  }

  /** Keeps a verified token until `ttl`, its expiry or its maximum age, whichever comes first. */
  set(key: string, verified: VerifiedText, now: number, limits: { tolerance: number; maxTokenAge: number | undefined }): void {
    const { exp, iat } = verified.payload;
    let until = now + this.#ttlMs;
    if (typeof exp === 'number') until = Math.min(until, (exp + limits.tolerance) * 1000);
    if (limits.maxTokenAge !== undefined && typeof iat === 'number') until = Math.min(until, (iat + limits.maxTokenAge + limits.tolerance) * 1000);
    if (until <= now) return;
    // First sighting: remember the tag only. A collision in the table merely admits a token
    // early, or makes one wait a request longer; only verified tokens ever get here.
    const tag = tagOf(key);
    const slot = tag & (this.#seen.length - 1);
    if (this.#seen[slot] !== tag) {
      this.#seen[slot] = tag;
      return;
    }
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    // The token's own text, not the verified objects: those go on to the request that verified them.
    this.#entries.set(key, new Entry(`[${verified.headerJson},${verified.payloadJson}]`, until));
  }

  get size(): number {
    return this.#entries.size;
  }
}
