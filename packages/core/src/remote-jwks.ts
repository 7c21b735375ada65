import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Emit } from './events.js';
import { jwkAlgorithms, prepareKey } from './keys.js';

/** Timing of a remote JWK Set, in milliseconds. */
export interface RemoteJwksTiming {
  /** How long a fetched set is used before it is fetched again. Default 600000 (10 min). */
  cacheMaxAge?: number;
  /**
   * The least time between two fetches: after a fetch, an unknown `kid` waits this long before it
   * may trigger another (so forged `kid`s cannot hammer the provider), and after a failed fetch
   * no new fetch is tried for this long. Default 30000.
   */
  cooldownDuration?: number;
  /** How long one fetch may take before it counts as failed. Default 5000. */
  timeoutDuration?: number;
}

/** The `fetch` a key set uses; the global one by default. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** Keys could not be obtained: the set is unreachable, slow, or serves something unusable. */
export class KeysUnavailable extends Error {
  /** The HTTP status the server answered, when it answered one. */
  status?: number;
}

/**
 * Keys must come over https: over plain http anyone on the path could hand out keys. Plain http
 * is allowed to loopback only (a sidecar, or tests).
 */
export function isTrustedScheme(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** Key sets and metadata are a few KiB; anything larger is refused before it fills memory. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

async function boundedText(response: Response, url: string): Promise<string> {
  const tooLarge = () => new KeysUnavailable(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Fetches a JSON document with a timeout; anything but a 200 JSON object is a failure. */
export async function fetchJson(url: string, timeoutDuration: number, fetchImpl: FetchFunction): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    // Redirects are not followed: a key set is trusted for where it was configured, nowhere else.
    response = await fetchImpl(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutDuration),
      headers: { accept: 'application/json, application/jwk-set+json' },
    });
  } catch (cause) {
    throw new KeysUnavailable(`could not fetch ${url}`, { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    const error = new KeysUnavailable(`${url} answered ${response.status}`);
    error.status = response.status;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(await boundedText(response, url));
  } catch (cause) {
    if (cause instanceof KeysUnavailable) throw cause;
    throw new KeysUnavailable(`${url} did not answer JSON in time`, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new KeysUnavailable(`${url} did not answer a JSON object`);
  return json as Record<string, unknown>;
}

/** A set with at least one key that can verify signatures; anything else is not taken. */
function usableSet(json: Record<string, unknown>, url: string): JSONWebKeySet {
  const keys = json.keys;
  if (!Array.isArray(keys)) throw new KeysUnavailable(`${url} is not a JWK Set`);
  // Keys that could never verify (other uses, symmetric, too weak, private) are dropped here,
  // so that a bad key in the set cannot turn into an error on the request path.
  const usable = keys.filter(
    (jwk): jwk is JSONWebKeySet['keys'][number] =>
      typeof jwk === 'object' &&
      jwk !== null &&
      typeof jwk.kty === 'string' &&
      jwk.kty !== 'oct' &&
      jwkAlgorithms(jwk).length > 0 &&
      typeof prepareKey(jwk) !== 'string',
  );
  if (usable.length === 0) throw new KeysUnavailable(`${url} holds no key that can verify signatures`);
  return { keys: usable };
}

interface Fetched {
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
}

/**
 * A remote JWK Set that survives its server: fetched on first use and shared by concurrent
 * requests, cached for `cacheMaxAge`, refetched for an unknown `kid` at most once per
 * `cooldownDuration`. When a fetch fails, the last good set keeps serving the keys it has
 * (stale-if-error), and no new fetch is tried for `cooldownDuration`; a key that cannot be had
 * raises {@link KeysUnavailable}.
 */
export function createRemoteKeySet(
  url: string,
  timing: RemoteJwksTiming = {},
  fetchImpl: FetchFunction = fetch,
  // Reports fetches, staleness and rotation (the `onEvent` option); wired by the JWKS work.
  _emit?: Emit,
): JWTVerifyGetKey {
  const cacheMaxAge = timing.cacheMaxAge ?? 600_000;
  const cooldown = timing.cooldownDuration ?? 30_000;
  const timeout = timing.timeoutDuration ?? 5_000;
  let current: Fetched | undefined;
  let pending: Promise<Fetched> | undefined;
  let failedAt: number | undefined;

  const since = (time: number | undefined) => (time === undefined ? Infinity : Date.now() - time);
  const backingOff = () => since(failedAt) < cooldown;

  function reload(): Promise<Fetched> {
    pending ??= fetchJson(url, timeout, fetchImpl)
      .then((json) => {
        current = { getKey: createLocalJWKSet(usableSet(json, url)), fetchedAt: Date.now() };
        failedAt = undefined;
        return current;
      })
      .catch((error: unknown) => {
        failedAt = Date.now();
        throw error instanceof KeysUnavailable ? error : new KeysUnavailable(`could not read ${url}`, { cause: error });
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  /** A fresh set if one can be had now, else the stale one, else unavailable. */
  async function usable(): Promise<Fetched> {
    if (current !== undefined && since(current.fetchedAt) < cacheMaxAge) return current;
    if (backingOff()) {
      if (current !== undefined) return current;
      throw new KeysUnavailable(`${url} failed recently; not asking again yet`);
    }
    try {
      return await reload();
    } catch (error) {
      if (current !== undefined) return current;
      throw error;
    }
  }

  return async (header, token) => {
    const set = await usable();
    try {
      return await set.getKey(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw asKeyError(error, url);
      // The server is known to be failing: the key may have rotated in, so we cannot tell.
      if (backingOff()) throw new KeysUnavailable(`${url} is failing and has no key for this token`);
      if (since(set.fetchedAt) < cooldown) throw error;
      const fresh = await reload();
      try {
        return await fresh.getKey(header, token);
      } catch (inner) {
        throw asKeyError(inner, url);
      }
    }
  };
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
