import type { AuthInfo } from './auth-info.js';
import type { AuthError } from './errors.js';

/** What the authenticator that ran last on a request found: its auth, or the failure `passthrough` let through. */
export interface RecordedAuth {
  /** The verified token, when the request was authenticated. */
  auth: AuthInfo | undefined;
  /** Why the request went on unauthenticated (`passthrough`), when it failed. */
  authError: AuthError | undefined;
}

/**
 * Where adapters record it on their request object, for the guards. A symbol no client input or
 * other middleware sets, so a `req.auth` written by other code grants nothing, and guards do not
 * depend on the (configurable) name the auth is attached under. `Symbol.for` so that the ESM and
 * CJS builds of every package, both loaded, agree.
 */
const RECORDED = Symbol.for('@jwtauth/core.recordedAuth');

const NOTHING: RecordedAuth = Object.freeze({ auth: undefined, authError: undefined });

/**
 * Records on `request` (the framework's request or context object) what the authenticator found,
 * for {@link recordedAuth}. Non-enumerable, so it stays out of spreads and logs.
 */
export function recordAuth(request: object, auth: AuthInfo | undefined, authError: AuthError | undefined): void {
  Object.defineProperty(request, RECORDED, { value: { auth, authError }, configurable: true, writable: true, enumerable: false });
}

/** What {@link recordAuth} last recorded on `request`; nothing when no authenticator ran. */
export function recordedAuth(request: object): RecordedAuth {
  return (request as { [RECORDED]?: RecordedAuth | null })[RECORDED] ?? NOTHING;
}
