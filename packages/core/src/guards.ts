import type { JWTPayload } from 'jose';
import { settingsOf, type AuthInfo } from './auth-info.js';
import { AuthError, type DpopChallenge } from './errors.js';
import { authFailed, claimedBy } from './events.js';
import { asError } from './thrown.js';

/** A claim check for `requireClaims`: return `true` to let the request through. */
export type ClaimCheck<Payload extends JWTPayload = JWTPayload> = (payload: Payload, auth: AuthInfo<Payload>) => boolean | Promise<boolean>;

/** What a guard decided: pass, or fail with an error that is answered or forwarded. */
export type GuardResult =
  /** The guard lets the request through. */
  | {
      /** The request goes on. */
      ok: true;
    }
  /** The guard refuses the request. */
  | {
      /** The request does not go on. */
      ok: false;
      /** Why, and what to answer. */
      error: AuthError;
      /** Whether `error` goes down the framework's error path (`forwardErrors`) instead of being answered. */
      forward: boolean;
    };

/**
 * A framework-neutral authorization guard over the request's `auth`, and the `authError` that
 * `passthrough` attached when there is no `auth`.
 */
export type Guard = (auth: AuthInfo | undefined, authError?: AuthError) => Promise<GuardResult>;

/** What every challenge of the authenticator carries. */
interface Challenge {
  realm: string | undefined;
  resourceMetadata: string | undefined;
  dpop: DpopChallenge | undefined;
}

function refuse(
  auth: AuthInfo | undefined,
  authError: AuthError | undefined,
  reason: string,
  make: (challenge: Challenge, description: string | undefined) => AuthError,
): GuardResult {
  if (auth === undefined && authError instanceof AuthError) {
    // A failure `passthrough` let through: answer it now, as jwtAuth() would have (an expired
    // token is told `token_expired`, so the client knows to refresh).
    const { forwardErrors, emit } = settingsOf(authError);
    emit?.(authFailed(authError.code, authError.status, `a guard needs the authentication that failed: ${authError.code}`));
    return { ok: false, error: authError, forward: forwardErrors };
  }
  const { realm, resourceMetadata, forwardErrors, emit, messages, dpop } = settingsOf(auth);
  const challenge = { realm, resourceMetadata, dpop: dpop && { ...dpop, scheme: auth?.dpop === undefined ? ('Bearer' as const) : ('DPoP' as const) } };
  // A request let through unauthenticated (credentialsRequired: false) must log in first.
  const error = auth === undefined ? new AuthError('missing_token', challenge) : make(challenge, messages.insufficient_scope);
  emit?.(authFailed(error.code, error.status, auth === undefined ? 'no token was sent' : reason, auth && claimedBy(auth)));
  return { ok: false, error, forward: forwardErrors };
}

/**
 * Creates the check behind `requireScopes(...scopes)`: every scope must be granted. Throws a
 * `TypeError` at creation for an empty list or a scope RFC 6749 §3.3 does not allow.
 */
export function createScopeGuard(scopes: readonly unknown[]): Guard {
  if (scopes.length === 0) throw new TypeError('requireScopes: name at least one scope.');
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new TypeError(`requireScopes: ${JSON.stringify(scope)} is not a valid scope (RFC 6749 §3.3).`);
    }
  }
  const required = scopes as readonly string[];
  return async (auth, authError) => {
    if (auth !== undefined && required.every((scope) => auth.scopes.includes(scope))) return { ok: true };
    const missing = required.filter((scope) => !auth?.scopes.includes(scope));
    return refuse(
      auth,
      authError,
      `scope ${missing.join(' ')} not granted`,
      (challenge, description) => new AuthError('insufficient_scope', { ...challenge, scopes: required, description }),
    );
  };
}

/**
 * Creates the check behind `requireClaims(check)`. When `check` throws, the guard rejects and
 * the error goes to the framework's error path.
 */
export function createClaimGuard<Payload extends JWTPayload>(check: ClaimCheck<Payload>): Guard {
  if (typeof check !== 'function') throw new TypeError('requireClaims: pass a function (payload, auth) => boolean.');
  return async (auth, authError) => {
    let passed: boolean;
    try {
      passed = auth !== undefined && (await check(auth.payload as Payload, auth as AuthInfo<Payload>)) === true;
    } catch (thrown) {
      throw asError(thrown);
    }
    if (passed) return { ok: true };
    return refuse(
      auth,
      authError,
      'the requireClaims check returned false',
      (challenge, description) =>
        new AuthError('insufficient_scope', { ...challenge, description: description ?? 'The token does not grant access to this resource' }),
    );
  };
}
