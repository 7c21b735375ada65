import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { Backoff } from './backoff.js';
import type { Emit } from '../events.js';
import { failureMessage, fetchDocument, KeysUnavailable, type DocumentRequest, type FetchFunction } from './fetch-document.js';
import { jwkAlgorithms, prepareKey } from '../keys/keys.js';

export { isTrustedScheme, KeysUnavailable, MAX_DOCUMENT_BYTES } from './fetch-document.js';
export type { FetchFunction } from './fetch-document.js';

/** Timing (in milliseconds) and limits of a remote JWK Set. */
export interface RemoteJwksTiming {
  /**
   * How long a fetched set counts as fresh. An older set is still used at once while it is
   * fetched again in the background (stale-while-revalidate). Default 600000 (10 min).
   */
  cacheMaxAge?: number;
  /**
   * How old the last successful fetch may be before its keys stop verifying. While the provider
   * cannot be reached, a set older than `cacheMaxAge` keeps verifying the keys it holds
   * (stale-if-error), but only up to this age: then every token fails with 503 `key_unavailable`,
   * so a key the provider withdrew cannot verify forever because its set cannot be fetched.
   * At least `cacheMaxAge`. Default 3600000 (1 h), or `cacheMaxAge` if that is longer.
   */
  maxStale?: number;
  /**
   * The least time between two fetches caused by unknown `kid`s. A token whose `kid` is not in
   * the set fetches it again at once if the last such fetch is at least this old; otherwise it
   * waits for the next one (all such tokens share it), so a key the provider has just published
   * is honoured within this time while forged `kid`s cost at most one fetch per cooldown (no
   * token waits more than 10 s: above that, it is refused at once). Also the longest wait between
   * two tries while the provider fails (the backoff starts at an eighth of it and doubles).
   * Default 5000.
   */
  cooldownDuration?: number;
  /** How long one fetch may take, body included, before it counts as failed. Default 5000. */
  timeoutDuration?: number;
  /**
   * How many keys of the set are tried for a token that several keys match (no `kid`, or a `kid`
   * shared by several keys). Only the first this many are tried, in the set's order; if none
   * verifies, the token fails with 401 `invalid_signature`. Bounds what one forged token costs
   * against a large set. A whole number >= 1. Default 10.
   */
  maxCandidates?: number;
}

/** The defaults of {@link RemoteJwksTiming}. */
export const REMOTE_JWKS_DEFAULTS = {
  cacheMaxAge: 600_000,
  maxStale: 3_600_000,
  cooldownDuration: 5_000,
  timeoutDuration: 5_000,
  maxCandidates: 10,
} as const;

/** Limits on candidate keys, per key function (remote sets register theirs; others get the default). */
const candidateLimits = new WeakMap<object, number>();

/** How many candidate keys may be tried for one token with this key (function). */
export function candidateLimit(key: unknown): number {
  return (typeof key === 'function' ? candidateLimits.get(key) : undefined) ?? REMOTE_JWKS_DEFAULTS.maxCandidates;
}

/** Registers the candidate limit of a key function. */
export function withCandidateLimit(getKey: JWTVerifyGetKey, limit: number | undefined): JWTVerifyGetKey {
  candidateLimits.set(getKey, limit ?? REMOTE_JWKS_DEFAULTS.maxCandidates);
  return getKey;
}

interface Usable {
  jwks: JSONWebKeySet;
  /** The `kid`s of the usable keys. */
  kids: string[];
  /** Every `kid` the document names, usable or not. */
  published: Set<string>;
}

const kidsIn = (keys: unknown[]) =>
  keys
    .map((jwk) => (typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined))
    .filter((kid): kid is string => typeof kid === 'string');

/** An object with a string `kty`: the least a member of a published set must be to be looked at. */
const hasKty = (value: unknown): value is JSONWebKeySet['keys'][number] =>
  typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';

/** A set with at least one key that can verify signatures; anything else is not taken. */
function usableSet(json: Record<string, unknown>, request: DocumentRequest): Usable {
  const keys = json.keys;
  if (!Array.isArray(keys)) throw new KeysUnavailable(failureMessage(request, 'not_a_jwk_set'), { failure: 'not_a_jwk_set' });
  // Keys that could never verify (other uses, symmetric, too weak, private) are dropped here,
  // so that a bad key in the set cannot turn into an error on the request path.
  const usable = (keys as unknown[]).filter(
    (jwk): jwk is JSONWebKeySet['keys'][number] => hasKty(jwk) && jwk.kty !== 'oct' && jwkAlgorithms(jwk).length > 0 && typeof prepareKey(jwk) !== 'string',
  );
  if (usable.length === 0) {
    const detail = `(${keys.length} published, none usable)`;
    throw new KeysUnavailable(failureMessage(request, 'no_usable_key', detail), { failure: 'no_usable_key' });
  }
  return { jwks: { keys: usable }, kids: [...new Set(kidsIn(usable))], published: new Set(kidsIn(keys)) };
}

/** One successfully fetched version of the set. */
interface Version {
  getKey: JWTVerifyGetKey;
  kids: string[];
  published: Set<string>;
  fetchedAt: number;
  /** The number of the fetch that read it (fetches are numbered as they start). */
  seq: number;
}

/**
 * The longest a token with an unknown `kid` waits for the end of the cooldown. Beyond it (with a
 * `cooldownDuration` above it) the token is refused at once, as a client would give up anyway.
 */
export const MAX_KID_WAIT = 10_000;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * A remote JWK Set that survives its server and its rotations.
 *
 * - Fetched on first use and shared by concurrent requests; fresh for `cacheMaxAge`, then used
 *   at once while a background fetch refreshes it (stale-while-revalidate).
 * - A `kid` the set lacks is looked up in a set fetched after the token arrived: the next fetch
 *   starts at once, or, within `cooldownDuration` of the last one an unknown `kid` caused, when
 *   the cooldown ends (every waiting token shares it). Only then is the token refused.
 * - When a fetch fails, the last good set keeps serving the keys it has (stale-if-error) until it
 *   is `maxStale` old; a key that cannot be had raises {@link KeysUnavailable}, and no new fetch is
 *   tried for a backoff that starts at an eighth of `cooldownDuration` and doubles up to it.
 * - Reports every fetch (`jwks.fetch`), serving past `cacheMaxAge` after a failed refresh
 *   (`jwks.stale`) and a changed set of `kid`s (`jwks.rotated`) to `emit`.
 */
export function createRemoteKeySet(url: string, timing: RemoteJwksTiming = {}, fetchImpl: FetchFunction = fetch, emit?: Emit): JWTVerifyGetKey {
  const cacheMaxAge = timing.cacheMaxAge ?? REMOTE_JWKS_DEFAULTS.cacheMaxAge;
  const maxStale = Math.max(timing.maxStale ?? REMOTE_JWKS_DEFAULTS.maxStale, cacheMaxAge);
  const cooldown = timing.cooldownDuration ?? REMOTE_JWKS_DEFAULTS.cooldownDuration;
  const request: DocumentRequest = { url, kind: 'jwks', timeout: timing.timeoutDuration ?? REMOTE_JWKS_DEFAULTS.timeoutDuration, fetchImpl, emit };
  const backoff = new Backoff(cooldown);

  let current: Version | undefined;
  let inflight: { promise: Promise<Version>; seq: number } | undefined;
  /** Fetches started so far: a token can trust a set whose `seq` is above the count it saw. */
  let started = 0;
  /** When the last fetch caused by an unknown `kid` started. */
  let lastKidFetchAt = -Infinity;
  /** The one timer every token waiting for the end of the cooldown shares. */
  let cooldownEnd: Promise<void> | undefined;

  const ageOf = (version: Version) => Date.now() - version.fetchedAt;

  function reportRotation(previous: Version | undefined, next: Version): void {
    if (previous === undefined || emit === undefined) return;
    const added = next.kids.filter((kid) => !previous.kids.includes(kid));
    const removed = previous.kids.filter((kid) => !next.kids.includes(kid));
    if (added.length > 0 || removed.length > 0) emit({ type: 'jwks.rotated', uri: url, added, removed });
  }

  /** Starts a fetch, or joins the one under way. Failures are {@link KeysUnavailable}. */
  function refresh(): Promise<Version> {
    if (inflight !== undefined) return inflight.promise;
    const seq = ++started;
    const promise = fetchDocument(
      request,
      (json) => usableSet(json, request),
      (set) => set.kids,
    )
      .then(
        ({ jwks, kids, published }) => {
          const next: Version = { getKey: createLocalJWKSet(jwks), kids, published, fetchedAt: Date.now(), seq };
          reportRotation(current, next);
          current = next;
          backoff.succeeded();
          return next;
        },
        (error: KeysUnavailable) => {
          backoff.failed(error);
          if (current !== undefined && ageOf(current) > cacheMaxAge) {
            const ageMs = ageOf(current);
            emit?.({ type: 'jwks.stale', uri: url, ageMs, expired: ageMs > maxStale });
          }
          throw error;
        },
      )
      .finally(() => {
        if (inflight?.seq === seq) inflight = undefined;
      });
    inflight = { promise, seq };
    return promise;
  }

  /** Why no fetch is tried right now, with the failure that started the backoff as `cause`. */
  function backingOff(prefix: string): KeysUnavailable {
    const last = backoff.lastError;
    return new KeysUnavailable(`${prefix}${last?.message ?? `${url} failed`}; next try in ${seconds(backoff.remaining())}`, { cause: last });
  }

  function tooOld(version: Version, cause?: KeysUnavailable): KeysUnavailable {
    const text = `the keys of ${url} were last fetched ${seconds(ageOf(version))} ago, more than maxStale (${seconds(maxStale)}), and cannot be refreshed: `;
    return cause === undefined ? backingOff(text) : new KeysUnavailable(`${text}${cause.message}`, { cause });
  }

  /** A set to look keys up in: fresh, or stale within `maxStale` (refreshed behind the scenes). */
  async function usable(): Promise<Version> {
    const version = current;
    if (version !== undefined) {
      const age = ageOf(version);
      if (age < cacheMaxAge) return version;
      if (age <= maxStale) {
        // Serve the aged set now; the request that notices pays nothing for the refresh.
        if (!backoff.waiting()) refresh().catch(() => undefined);
        return version;
      }
      if (backoff.waiting()) throw tooOld(version);
      return refresh().catch((error: KeysUnavailable) => {
        throw tooOld(version, error);
      });
    }
    if (backoff.waiting()) throw backingOff('');
    return refresh();
  }

  /** Resolves when the cooldown after the last `kid`-driven fetch is over; one timer for all. */
  function endOfCooldown(ms: number): Promise<void> {
    cooldownEnd ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        cooldownEnd = undefined;
        resolve();
      }, ms);
    });
    return cooldownEnd;
  }

  /**
   * A set fetched after fetch number `seen` started: the one under way if it is newer, else a
   * new fetch now, or when the cooldown of `kid`-driven fetches ends (if that is within
   * {@link MAX_KID_WAIT}; else `miss` is thrown).
   */
  async function newerThan(seen: number, miss: unknown): Promise<Version> {
    for (;;) {
      if (inflight !== undefined) {
        if (inflight.seq > seen) return inflight.promise;
        // A fetch that started before the token arrived may miss its key; wait and look again.
        await inflight.promise.catch(() => undefined);
        continue;
      }
      if (current !== undefined && current.seq > seen) return current;
      // The provider is failing: the key may have been published, so we cannot tell.
      if (backoff.waiting()) throw backingOff('no key for this token in the cached set, and ');
      const wait = lastKidFetchAt + cooldown - Date.now();
      if (wait <= 0) {
        lastKidFetchAt = Date.now();
        return refresh();
      }
      if (wait > MAX_KID_WAIT) throw miss;
      await endOfCooldown(wait);
    }
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const seen = started;
    let version = await usable();
    for (;;) {
      try {
        return await version.getKey(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw asKeyError(error, url);
        // Read after the token arrived: the provider has no such key. Or the provider publishes
        // this kid, for another algorithm or use than the token's: fetching again changes nothing.
        if (version.seq > seen || (typeof header.kid === 'string' && version.published.has(header.kid))) throw error;
        version = await newerThan(seen, error);
      }
    }
  };
  return withCandidateLimit(getKey, timing.maxCandidates);
}

/**
 * Errors about the token (no key for its `kid`, several, an algorithm no key supports) pass
 * through; anything else means a published key could not be used: the keys are unavailable.
 */
function asKeyError(error: unknown, url: string): unknown {
  const aboutTheToken =
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JOSEAlgNotAllowed;
  return aboutTheToken ? error : new KeysUnavailable(`a key of ${url} cannot be used`, { cause: error });
}
