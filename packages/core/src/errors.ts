import { buildChallenge } from './http/challenge.js';
import { toErrorResponse } from './http/response.js';

/** Every way authentication or authorization can fail; stable across releases. */
export type AuthErrorCode =
  | 'missing_token'
  | 'malformed_header'
  | 'multiple_tokens'
  | 'malformed_token'
  | 'invalid_signature'
  | 'algorithm_not_allowed'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_too_old'
  | 'claim_invalid'
  | 'wrong_token_type'
  | 'token_revoked'
  | 'user_not_found'
  | 'insufficient_scope'
  | 'key_unavailable'
  | 'store_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'dpop_binding_mismatch'
  | 'dpop_required'
  | 'token_bound';

/**
 * The `error` values of RFC 6750 §3.1 and RFC 9449 §7.1 and §9 (`invalid_dpop_proof`,
 * `use_dpop_nonce`), plus `unauthorized` and `temporarily_unavailable`.
 */
export type OAuthErrorValue =
  'unauthorized' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable' | 'invalid_dpop_proof' | 'use_dpop_nonce';

interface ErrorRow {
  status: 400 | 401 | 403 | 503;
  error: OAuthErrorValue;
  description: string;
  /** Whether the `WWW-Authenticate` challenge carries `error` / `error_description`. */
  challenge: 'plain' | 'detailed' | 'none';
  /** A failure of DPoP itself: its error parameters go in the `DPoP` challenge, whichever scheme the request used. */
  dpop?: true;
}

/** The contract's error table: the single place that maps a code to its HTTP meaning. */
const ERROR_TABLE: Record<AuthErrorCode, ErrorRow> = {
  missing_token: { status: 401, error: 'unauthorized', challenge: 'plain', description: 'Authentication is required: send a Bearer token' },
  malformed_header: { status: 400, error: 'invalid_request', challenge: 'detailed', description: 'The Authorization header is not a valid Bearer credential' },
  multiple_tokens: { status: 400, error: 'invalid_request', challenge: 'detailed', description: 'More than one token was sent; send exactly one' },
  malformed_token: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token is not a well-formed JWT' },
  invalid_signature: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token signature is invalid' },
  algorithm_not_allowed: {
    status: 401,
    error: 'invalid_token',
    challenge: 'detailed',
    description: 'The token is signed with an algorithm that is not allowed',
  },
  token_expired: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token has expired' },
  token_not_yet_valid: {
    status: 401,
    error: 'invalid_token',
    challenge: 'detailed',
    description: 'The token is not valid yet (its nbf is in the future; clockTolerance allows for clock skew)',
  },
  token_too_old: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token was issued too long ago' },
  claim_invalid: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token has an invalid claim' },
  wrong_token_type: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'A refresh token cannot be used as an access token' },
  token_revoked: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The token has been revoked' },
  user_not_found: { status: 401, error: 'invalid_token', challenge: 'detailed', description: 'The user of this token was not found' },
  insufficient_scope: {
    status: 403,
    error: 'insufficient_scope',
    challenge: 'detailed',
    description: 'The token does not grant the access this resource requires',
  },
  key_unavailable: {
    status: 503,
    error: 'temporarily_unavailable',
    challenge: 'none',
    description: 'The keys needed to verify the token are temporarily unavailable',
  },
  store_unavailable: {
    status: 503,
    error: 'temporarily_unavailable',
    challenge: 'none',
    description: 'The token cannot be checked for revocation right now; try again shortly',
  },
  invalid_dpop_proof: { status: 401, error: 'invalid_dpop_proof', challenge: 'detailed', dpop: true, description: 'The DPoP proof is invalid' },
  use_dpop_nonce: {
    status: 401,
    error: 'use_dpop_nonce',
    challenge: 'detailed',
    dpop: true,
    description: 'The DPoP proof must carry the nonce given in the DPoP-Nonce header',
  },
  dpop_binding_mismatch: {
    status: 401,
    error: 'invalid_token',
    challenge: 'detailed',
    dpop: true,
    description: 'The token is not bound to the key of the DPoP proof',
  },
  dpop_required: {
    status: 401,
    error: 'invalid_token',
    challenge: 'detailed',
    dpop: true,
    description: 'This resource accepts only DPoP-bound tokens sent as Authorization: DPoP with a proof',
  },
  token_bound: {
    status: 401,
    error: 'invalid_token',
    challenge: 'detailed',
    description: 'The token is bound to a DPoP key: send it as Authorization: DPoP with a proof',
  },
};

/**
 * Seconds a client is asked to wait when keys cannot be obtained (`key_unavailable`) or the
 * revocation store cannot answer (`store_unavailable`): the default refetch cooldown, after which
 * a failed key set is asked again (its backoff starts shorter still).
 */
export const KEY_UNAVAILABLE_RETRY_AFTER = 5;

/** Extra detail for an {@link AuthError}. */
export interface AuthErrorDetails {
  /** Replaces the table's standard description. Must never contain the token or key material. */
  description?: string;
  /** `realm` of the challenge. */
  realm?: string;
  /** `resource_metadata` of the challenge (RFC 9728 §5.1), with the `resource` option. */
  resourceMetadata?: string;
  /** Scopes named in the `scope` parameter of an `insufficient_scope` challenge. */
  scopes?: readonly string[];
  /** The underlying error; kept for logs, never serialised. */
  cause?: unknown;
  /** With the `dpop` option: the challenges to send (RFC 9449 §7.1) and a fresh nonce for `use_dpop_nonce`. */
  dpop?: DpopChallenge;
}

/** What the `WWW-Authenticate` header says of DPoP, with the `dpop` option. */
export interface DpopChallenge {
  /** The proof algorithms accepted: the `DPoP` challenge's `algs`. */
  algorithms: readonly string[];
  /** Whether Bearer tokens are accepted too (mode `'allowed'`): a `Bearer` challenge comes first. */
  bearer: boolean;
  /** The scheme the request used: it carries the error parameters, unless the failure is of DPoP itself. */
  scheme: 'Bearer' | 'DPoP';
  /** The nonce a `use_dpop_nonce` answer hands out in `DPoP-Nonce`. */
  nonce?: string | undefined;
}

/**
 * An authentication or authorization failure, in the `http-errors` shape (`status`,
 * `statusCode`, `expose`, `headers`) so the error handlers of Express, Koa and Fastify answer it
 * correctly when errors are forwarded to them.
 */
export class AuthError extends Error {
  /** Always `'AuthError'`: with `code`, what {@link isAuthError} checks. */
  override readonly name = 'AuthError';
  /** Stable machine-readable code. */
  readonly code: AuthErrorCode;
  /** HTTP status: 400, 401, 403 or 503. */
  readonly status: 400 | 401 | 403 | 503;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: 400 | 401 | 403 | 503;
  /** The RFC 6750 `error` value. */
  readonly error: OAuthErrorValue;
  /** Human-readable text, safe to show to clients. */
  readonly description: string;
  /** Response headers this failure requires (`WWW-Authenticate` or `Retry-After`, and `DPoP-Nonce` for `use_dpop_nonce`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The message is safe to send to clients. */
  readonly expose = true;

  constructor(code: AuthErrorCode, details: AuthErrorDetails = {}) {
    const row = ERROR_TABLE[code];
    const description = details.description ?? row.description;
    super(description, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = row.status;
    this.statusCode = row.status;
    this.error = row.error;
    this.description = description;
    this.headers = buildHeaders(row, description, details);
  }

  /**
   * The answer as a Fetch `Response`. Hono's default error handler (and any that duck-types
   * `getResponse`, like Hono's `HTTPException`) sends it as is when errors are forwarded.
   */
  getResponse(): Response {
    const { status, headers, body } = toErrorResponse(this);
    return new Response(body, { status, headers });
  }

  /** The JSON body of the contract; never includes `cause` or a stack. */
  toJSON(): {
    /** The RFC 6750 `error` value. */
    error: OAuthErrorValue;
    /** Human-readable text, safe to show to clients. */
    error_description: string;
    /** Stable machine-readable code. */
    code: AuthErrorCode;
  } {
    return { error: this.error, error_description: this.description, code: this.code };
  }
}

/**
 * Challenges already built, by everything they are built from: a server answers the same few
 * failures over and over (a flood of forged tokens most of all), so each is checked and quoted
 * once. Bounded, as descriptions come from the app's configuration.
 */
const challenges = new Map<string, string>();
const MAX_CHALLENGES = 256;

function buildHeaders(row: ErrorRow, description: string, details: AuthErrorDetails): Record<string, string> {
  if (row.challenge === 'none') return { 'Retry-After': String(KEY_UNAVAILABLE_RETRY_AFTER) };
  const { realm, scopes, resourceMetadata, dpop } = details;
  // "\0" occurs in none of the parts: realms, descriptions, scopes, algorithms and the resource's URL are checked printable when configured.
  const dpopId = dpop === undefined ? '\u0001' : `${dpop.algorithms.join(' ')}\0${dpop.bearer}\0${dpop.scheme}`;
  const id = `${row.challenge}\0${row.error}\0${realm ?? '\u0001'}\0${description}\0${scopes?.join(' ') ?? '\u0001'}\0${resourceMetadata ?? '\u0001'}\0${dpopId}`;
  let challenge = challenges.get(id);
  if (challenge === undefined) {
    const plain = { realm, resourceMetadata };
    const detailed = row.challenge === 'plain' ? plain : { realm, error: row.error, description, scopes, resourceMetadata };
    if (dpop === undefined) {
      challenge = buildChallenge(detailed);
    } else {
      // RFC 9449 §7.1: one challenge per accepted scheme; the error parameters go with the scheme
      // that failed (the request's, or DPoP for a failure of DPoP itself).
      const dpopFailed = row.dpop === true || dpop.scheme === 'DPoP' || !dpop.bearer;
      const parts: string[] = [];
      if (dpop.bearer) parts.push(buildChallenge(dpopFailed ? plain : detailed));
      parts.push(buildChallenge({ ...(dpopFailed ? detailed : plain), scheme: 'DPoP', algs: dpop.algorithms }));
      challenge = parts.join(', ');
    }
    if (challenges.size >= MAX_CHALLENGES) challenges.clear();
    challenges.set(id, challenge);
  }
  if (dpop?.nonce !== undefined && row.error === 'use_dpop_nonce') return { 'WWW-Authenticate': challenge, 'DPoP-Nonce': dpop.nonce };
  return { 'WWW-Authenticate': challenge };
}

/** True for a string that is one of the {@link AuthErrorCode}s. */
export function isAuthErrorCode(value: unknown): value is AuthErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

/**
 * True for an {@link AuthError}, also when it comes from another copy of this package (ESM and
 * CJS builds loaded side by side), where `instanceof` fails.
 */
export function isAuthError(value: unknown): value is AuthError {
  if (value instanceof AuthError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  return candidate.name === 'AuthError' && isAuthErrorCode(candidate.code);
}
