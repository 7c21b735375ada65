import type { AuthErrorCode } from './errors.js';

/**
 * A request failed authentication or authorization. Says why in more detail than the client's
 * `error_description`, for logs and metrics. `alg`, `kid` and `iss` are read from the token as
 * sent (not verified, cut to 256 characters); the token itself and key material are never here.
 */
export interface AuthFailedEvent {
  /** Tells this event from the others. */
  type: 'auth.failed';
  /** The error code the request was refused with. */
  code: AuthErrorCode;
  /** The HTTP status the client is answered with. */
  status: number;
  /** Why, for operators (for example `"exp" claim timestamp check failed`). */
  reason: string;
  /** The token's `alg` header, as sent. */
  alg?: string;
  /** The token's `kid` header, as sent. */
  kid?: string;
  /** The token's `iss` claim, as sent. */
  iss?: string;
}

/** Why a key-set (or metadata) fetch failed. */
export type KeySetFailureCause =
  /** The server answered another status than 200 (see `status`). */
  | 'http_status'
  /** No answer within `timeoutDuration`. */
  | 'timeout'
  | 'connection_refused'
  /** The host name did not resolve. */
  | 'dns'
  /** The runtime forbids the request (Deno without `--allow-net`). */
  | 'permission_denied'
  /** Any other network failure (reset, TLS, …). */
  | 'network'
  /** The body is not JSON, or not a JSON object. */
  | 'invalid_json'
  /** JSON without a `keys` array. */
  | 'not_a_jwk_set'
  /** A JWK Set in which no key can verify signatures. */
  | 'no_usable_key'
  /** The body is larger than the 512 KiB cap. */
  | 'too_large'
  /** Discovery metadata that names another issuer or no usable `jwks_uri`. */
  | 'invalid_metadata';

/** A JWK Set (or issuer metadata, `kind: "metadata"`) was fetched, or fetching it failed. */
export interface KeySetFetchEvent {
  /** Tells this event from the others. */
  type: 'jwks.fetch';
  /** A JWK Set, or issuer metadata (discovery). */
  kind: 'jwks' | 'metadata';
  /** The URL fetched. */
  uri: string;
  /** Whether the fetch gave a usable document. */
  outcome: 'ok' | 'failed';
  /** How long the fetch took, in milliseconds. */
  durationMs: number;
  /** The `kid`s of the usable keys of a fetched set. */
  kids?: string[];
  /** Why it failed. */
  cause?: KeySetFailureCause;
  /** The HTTP status, when the server answered one. */
  status?: number;
  /** A sentence for operators (never key material). */
  reason?: string;
  /** The underlying error, for logs that keep stacks. */
  error?: unknown;
}

/** Keys were served from a set older than `cacheMaxAge` because it could not be refreshed. */
export interface KeySetStaleEvent {
  /** Tells this event from the others. */
  type: 'jwks.stale';
  /** The URL of the set. */
  uri: string;
  /** Milliseconds since the set was last fetched successfully. */
  ageMs: number;
  /** `true` once the set is past `maxStale`: its keys no longer verify. */
  expired: boolean;
}

/** A fetch found a set whose `kid`s differ from the previous one. */
export interface KeySetRotatedEvent {
  /** Tells this event from the others. */
  type: 'jwks.rotated';
  /** The URL of the set. */
  uri: string;
  /** The `kid`s in the new set that the previous one did not have. */
  added: string[];
  /** The `kid`s of the previous set that the new one no longer has. */
  removed: string[];
}

/** What the `onEvent` option receives. */
export type AuthEvent = AuthFailedEvent | KeySetFetchEvent | KeySetStaleEvent | KeySetRotatedEvent;

/** Delivers an event; never throws. */
export type Emit = (event: AuthEvent) => void;

/** Attacker-chosen header and claim values are cut to this many characters before they reach logs. */
const MAX_FIELD_LENGTH = 256;

/** A string field of an untrusted token, fit for a log line, or `undefined`. */
export function eventField(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_FIELD_LENGTH) : undefined;
}

/**
 * Wraps the user's hook so that it can never change an answer: what it throws, and what a promise
 * it returns rejects with, is dropped. `undefined` when there is no hook, so callers can skip
 * building events.
 */
export function createEmitter(onEvent: ((event: AuthEvent) => unknown) | undefined): Emit | undefined {
  if (onEvent === undefined) return undefined;
  return (event) => {
    try {
      const returned = onEvent(event);
      if (typeof (returned as Promise<unknown> | undefined)?.then === 'function') {
        (returned as Promise<unknown>).then(undefined, () => undefined);
      }
    } catch {
      // A logging hook that fails must not fail the request.
    }
  };
}

/** What a token claims to be, as sent; read only for events. */
export interface Claimed {
  alg?: unknown;
  kid?: unknown;
  iss?: unknown;
}

/** The `auth.failed` event of a refused request. */
export function authFailed(code: AuthErrorCode, status: number, reason: string, claimed: Claimed = {}): AuthFailedEvent {
  const event: AuthFailedEvent = { type: 'auth.failed', code, status, reason };
  for (const name of ['alg', 'kid', 'iss'] as const) {
    const value = eventField(claimed[name]);
    if (value !== undefined) event[name] = value;
  }
  return event;
}

/** The claimed `alg`, `kid` and `iss` of a verified token. */
export function claimedBy(token: { header: { alg?: unknown; kid?: unknown }; payload: { iss?: unknown } }): Claimed {
  return { alg: token.header.alg, kid: token.header.kid, iss: token.payload.iss };
}
