import type { JWTPayload } from 'jose';
import { attachSettings, type AuthInfo } from './auth-info.js';
import { resolveConfig } from './config.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import type { JwtAuthOptions } from './options.js';
import type { RequestLike } from './request.js';
import { isStoreUnavailable } from './revocation-store.js';
import { toErrorResponse, type AuthErrorResponse } from './response.js';
import { asError } from './thrown.js';
import { parseScopes } from './scopes.js';
import { findToken } from './token-source.js';
import { authFailed, claimedBy, type Claimed } from './events.js';
import { verifyError, verifyToken, type VerifiedToken, type VerifyResult } from './verify.js';

/** The outcome of authenticating one request. Failures are values, never thrown. */
export type AuthResult<Payload extends JWTPayload = JWTPayload, User = Payload> =
  | { ok: true; auth: AuthInfo<Payload>; user: User }
  /** No token, and none required: the request goes on unauthenticated. */
  | { ok: true; auth: undefined; user: undefined }
  | { ok: false; error: AuthError };

/** The framework-neutral engine every adapter wraps. */
export interface Authenticator<Payload extends JWTPayload = JWTPayload, User = Payload, Request = unknown> {
  /**
   * Authenticates a request. `input` is the request as core reads it (a Node `IncomingMessage` or
   * a Fetch `Request`); `request` is the framework's own object, handed to `getToken` and
   * `resolveUser`. Rejects only when one of your hooks throws.
   */
  authenticate(input: RequestLike, request: Request): Promise<AuthResult<Payload, User>>;
  /** Whether failures go down the framework's error path instead of being answered. */
  readonly forwardErrors: boolean;
  /** The status, headers and body to answer a failure with. */
  respond(error: AuthError, method?: string): AuthErrorResponse;
}

const ANONYMOUS = { ok: true, auth: undefined, user: undefined } as const;

const LOOKUP_REASONS = {
  malformed_header: 'the Authorization header is not "Bearer <token>"',
  multiple_tokens: 'more than one token was sent',
  malformed_token: 'the cookie or query value is not a token',
} as const;

/**
 * Creates an authenticator. Every option is checked here, so a mistake throws a `TypeError` at
 * start-up rather than on the first request.
 */
export function createAuthenticator<Payload extends JWTPayload = JWTPayload, User = Payload, Request = unknown>(
  options: JwtAuthOptions<Payload, User, Request>,
): Authenticator<Payload, User, Request> {
  const config = resolveConfig(options);
  const { emit } = config;

  /** A failed result; the event hook hears why. */
  function refuse(error: AuthError, reason: string, claimed?: Claimed) {
    emit?.(authFailed(error.code, error.status, reason, claimed));
    return { ok: false, error } as const;
  }
  const failure = (code: AuthErrorCode, reason: string, description?: string, verified?: VerifiedToken<Payload>) =>
    refuse(new AuthError(code, { realm: config.realm, description }), reason, verified && claimedBy(verified));

  async function tokenOf(input: RequestLike, request: Request) {
    if (config.getToken === undefined) return findToken(input, config.tokenFrom);
    const token = await config.getToken(request);
    if (token === undefined || token === null || token === '') return { kind: 'none' } as const;
    if (typeof token !== 'string') throw new TypeError('jwtAuth: "getToken" must return a string or undefined.');
    return { kind: 'token', token } as const;
  }

  /** Signature and claim checks, skipped for a token verified moments ago (see TokenCache). */
  async function verifyCached(token: string): Promise<VerifyResult<Payload>> {
    const now = config.currentDate().getTime();
    const cached = config.cache?.get(token, now);
    if (cached !== undefined) return { ok: true, header: cached.header, payload: cached.payload as Payload };
    const verified = await verifyToken<Payload>(token, config);
    if (verified.ok) config.cache?.set(token, verified, now, { tolerance: config.clockTolerance, maxTokenAge: config.maxTokenAge });
    return verified;
  }

  async function authenticate(input: RequestLike, request: Request): Promise<AuthResult<Payload, User>> {
    const found = await tokenOf(input, request);
    if (found.kind === 'none') return config.credentialsRequired ? failure('missing_token', 'no token was sent') : ANONYMOUS;
    if (found.kind !== 'token') return failure(found.kind, 'reason' in found ? found.reason : LOOKUP_REASONS[found.kind]);

    const verified = await verifyCached(found.token);
    if (!verified.ok) return refuse(verifyError(verified, config.realm), verified.reason ?? verified.code, verified.claimed);
    const { header, payload } = verified;
    if (payload.token_type === 'refresh') return failure('wrong_token_type', 'token_type is "refresh"', undefined, verified);
    const scopes = parseScopes(payload);
    if (scopes === undefined) return failure('claim_invalid', 'scope is not a string, or scp not an array of strings', 'The scope claim is invalid', verified);
    // Any truthy answer (a revocation record, 1) counts as revoked: fail closed.
    if (config.isRevoked !== undefined) {
      let revoked: boolean;
      try {
        revoked = Boolean(await config.isRevoked(payload, header));
      } catch (error) {
        // The revocation store cannot answer: never let the token through, never a 500.
        if (!isStoreUnavailable(error)) throw error;
        const unavailable = new AuthError('store_unavailable', { realm: config.realm, cause: error });
        return refuse(unavailable, `the revocation store cannot answer: ${error.message}`, claimedBy(verified));
      }
      if (revoked) return failure('token_revoked', 'isRevoked returned true', undefined, verified);
    }
    let user = payload as unknown as User;
    if (config.resolveUser !== undefined) {
      const resolved = await config.resolveUser(payload, request);
      if (resolved === null || resolved === undefined || resolved === false) {
        return failure('user_not_found', 'resolveUser found no user', undefined, verified);
      }
      user = resolved;
    }
    const auth: AuthInfo<Payload> = { token: found.token, header, payload, scopes };
    attachSettings(auth, { realm: config.realm, forwardErrors: config.forwardErrors, emit });
    return { ok: true, auth, user };
  }

  return {
    forwardErrors: config.forwardErrors,
    respond: toErrorResponse,
    authenticate: (input, request) =>
      authenticate(input, request).catch((thrown: unknown) => {
        throw asError(thrown);
      }),
  };
}
