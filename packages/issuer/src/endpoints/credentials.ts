import type { EndpointAnswer } from '@jwtauth/core';
import { failure } from './answer.js';
import type { VerifiedUser, VerifyCredentials } from './options.js';
import type { Semaphore } from './semaphore.js';
import type { LoginThrottle } from './throttle.js';

/** Seconds a login refused for a full queue of password checks is asked to wait. */
const LOGIN_BUSY_RETRY_AFTER = 1;

/** The outcome of one password check: the user, or why not (with the JSON answer of `/token`). */
export type CredentialCheck =
  | { ok: true; user: VerifiedUser }
  | { ok: false; reason: 'throttled' | 'busy'; retryAfter: number; answer: EndpointAnswer }
  | { ok: false; reason: 'invalid'; answer: EndpointAnswer };

/**
 * The one path of every password check (the `/token` login and the authorization endpoint's
 * sign-in form): cheap refusals first (the throttle, then the bounded queue), and only then the
 * password hash; a good login resets the username's failures.
 */
export function credentialChecker<Request>(
  verifyCredentials: VerifyCredentials<Request>,
  throttle: LoginThrottle | undefined,
  hashing: Semaphore,
): (username: string, password: string, address: string | undefined, request: Request) => Promise<CredentialCheck> {
  return async (username, password, address, request) => {
    const verdict = throttle === undefined ? undefined : await throttle.attempt(username, address);
    if (verdict !== undefined && !verdict.ok) {
      const retryAfter = verdict.retryAfter;
      const answer = failure('too_many_requests', 'Too many login attempts; try again later', { 'Retry-After': String(retryAfter) });
      return { ok: false, reason: 'throttled', retryAfter, answer };
    }
    const slot = hashing.acquire();
    if (slot === undefined) {
      const answer = failure('login_busy', 'Too many logins are being checked at once; try again shortly', {
        'Retry-After': String(LOGIN_BUSY_RETRY_AFTER),
      });
      return { ok: false, reason: 'busy', retryAfter: LOGIN_BUSY_RETRY_AFTER, answer };
    }
    const release = await slot;
    let user: VerifiedUser | null | undefined;
    try {
      user = await verifyCredentials(username, password, request);
    } finally {
      release();
    }
    if (user === null || user === undefined)
      return { ok: false, reason: 'invalid', answer: failure('invalid_credentials', 'The username or password is incorrect') };
    if (typeof user !== 'object' || typeof user.subject !== 'string' || user.subject === '') {
      throw new TypeError('createTokenEndpoints: "verifyCredentials" must return { subject, claims? } with a non-empty subject, or null.');
    }
    if (verdict !== undefined) {
      // A failed reset only leaves the user's earlier failures counted: never worth failing a good login.
      await verdict.succeeded().catch(() => undefined);
    }
    return { ok: true, user };
  };
}
