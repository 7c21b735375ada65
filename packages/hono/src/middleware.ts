import {
  createAuthenticator,
  createClaimGuard,
  createScopeGuard,
  toErrorResponse,
  type AuthError,
  type AuthInfo,
  type ClaimCheck,
  type Guard,
  type JwtAuthOptions,
  type JWTPayload,
} from '@jwtauth/core';
import type { Context, MiddlewareHandler } from 'hono';
import { checkCookieSecret, requestLike, type CookieSecret } from './token-sources.js';

/** The variables `jwtAuth()` sets: `c.get('auth')` and `c.get('user')`. */
export interface JwtAuthVariables<Payload extends JWTPayload = JWTPayload, User = Payload> {
  /** The verified token; `undefined` when the request passed unauthenticated. */
  auth: AuthInfo<Payload> | undefined;
  /** What `resolveUser` returned, or the token payload. */
  user: User | undefined;
  /** Set with `passthrough: true`: why the request goes on unauthenticated. */
  authError: AuthError | undefined;
}

/** The Hono `Env` of a route behind `jwtAuth()`. */
export interface JwtAuthEnv<Payload extends JWTPayload = JWTPayload, User = Payload> {
  Variables: JwtAuthVariables<Payload, User>;
}

/**
 * `jwtAuth()` options for Hono: `getToken` and `resolveUser` receive the Hono context. One option
 * of the adapter's own: `cookieSecret`.
 */
export type HonoJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<
  Payload,
  User,
  Context
> & {
  /**
   * The secret `setSignedCookie()` signs the token cookie with (`hono/cookie`): required with
   * `tokenFrom: { cookie: { name, signed: true } }`, which verifies the cookie with
   * `getSignedCookie()`, and refused without it.
   */
  cookieSecret?: CookieSecret;
};

function answer(c: Context, error: AuthError): Response {
  const { status, headers, body } = toErrorResponse(error, c.req.method);
  const code = status as 400 | 401 | 403 | 503;
  return body === undefined ? c.body(null, code, headers) : c.body(body, code, headers);
}

/** Verifies the bearer token of every request and sets `c.get('auth')` and `c.get('user')`. */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload>(
  options: HonoJwtAuthOptions<Payload, User>,
): MiddlewareHandler<JwtAuthEnv<Payload, User>> {
  const { cookieSecret, ...coreOptions } = options;
  const authenticator = createAuthenticator(coreOptions);
  const secret = checkCookieSecret(cookieSecret, options.tokenFrom);
  return async (c, next) => {
    const result = await authenticator.authenticate(requestLike(c, secret), c);
    if (result.ok) {
      c.set('auth', result.auth);
      c.set('user', result.user);
      c.set('authError', result.error);
      return next();
    }
    if (authenticator.forwardErrors) throw result.error;
    return answer(c, result.error);
  };
}

// Guards add nothing to the app's Env: they read what jwtAuth() set.
function middlewareFor(guard: Guard): MiddlewareHandler {
  return async (c, next) => {
    const result = await guard(c.get('auth') as AuthInfo | undefined, c.get('authError') as AuthError | undefined);
    if (result.ok) return next();
    if (result.forward) throw result.error;
    return answer(c, result.error);
  };
}

/** Lets a request through only when its token grants every one of the scopes; 403 otherwise. */
export function requireScopes(scope: string, ...more: string[]): MiddlewareHandler {
  return middlewareFor(createScopeGuard([scope, ...more]));
}

/** Lets a request through only when `check(payload, auth)` returns true; 403 otherwise. */
export function requireClaims<Payload extends JWTPayload = JWTPayload>(check: ClaimCheck<Payload>): MiddlewareHandler {
  return middlewareFor(createClaimGuard(check));
}
