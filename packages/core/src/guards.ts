import type { JWTPayload } from 'jose';
import { realmOf, type AuthInfo } from './auth-info.js';
import { AuthError } from './errors.js';

/** A claim check for `requireClaims`: return `true` to let the request through. */
export type ClaimCheck<Payload extends JWTPayload = JWTPayload> = (
  payload: Payload,
  auth: AuthInfo<Payload>,
) => boolean | Promise<boolean>;

/** Checks the arguments of `requireScopes` when the guard is created. */
export function checkScopeList(scopes: readonly unknown[]): string[] {
  if (scopes.length === 0) throw new TypeError('requireScopes: name at least one scope.');
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new TypeError(`requireScopes: ${JSON.stringify(scope)} is not a valid scope (RFC 6749 §3.3).`);
    }
  }
  return [...scopes] as string[];
}

/** Checks the argument of `requireClaims` when the guard is created. */
export function checkClaimCheck<T>(check: T): T {
  if (typeof check !== 'function') throw new TypeError('requireClaims: pass a function (payload, auth) => boolean.');
  return check;
}

/**
 * The error for a request that lacks one of `required` scopes, or `undefined` when it has them
 * all. A request that was let through unauthenticated fails with `missing_token`.
 */
export function scopeError(auth: AuthInfo | undefined, required: readonly string[]): AuthError | undefined {
  if (auth === undefined) return new AuthError('missing_token');
  if (required.every((scope) => auth.scopes.includes(scope))) return undefined;
  return new AuthError('insufficient_scope', { realm: realmOf(auth), scopes: required });
}

/** The error for a request whose claims `check` refuses, or `undefined`. Rejects if `check` throws. */
export async function claimError<Payload extends JWTPayload>(
  auth: AuthInfo<Payload> | undefined,
  check: ClaimCheck<Payload>,
): Promise<AuthError | undefined> {
  if (auth === undefined) return new AuthError('missing_token');
  if ((await check(auth.payload, auth)) === true) return undefined;
  return new AuthError('insufficient_scope', { realm: realmOf(auth), description: 'The token does not grant access to this resource' });
}
