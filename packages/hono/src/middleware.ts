import {
  createAuthenticator,
  createClaimGuard,
  createScopeGuard,
  recordAuth,
  recordedAuth,
  toErrorResponse,
  type AuthError,
  type ClaimCheck,
  type Guard,
  type JwtAuthOptions,
  type JWTPayload,
} from '@jwtauth/core';
import type { Context, MiddlewareHandler } from 'hono';
import { checkCookieSecret, requestLike, type CookieSecret } from './token-sources.js';
import { variableNames, type DefaultVariableNames, type JwtAuthVariables, type VariableNames } from './variables.js';

export type { DefaultVariableNames, JwtAuthVariables, VariableNames } from './variables.js';

/** The Hono `Env` of a route behind `jwtAuth()`: `Variables` under the default names or those of `Names`. */
export interface JwtAuthEnv<Payload extends JWTPayload = JWTPayload, User = Payload, Names extends VariableNames = DefaultVariableNames> {
  /** What `jwtAuth()` sets on the context: `auth`, `user` and `authError`, under the names of `Names`. */
  Variables: JwtAuthVariables<Payload, User, Names>;
}

/**
 * `jwtAuth()` options for Hono: `getToken` and `resolveUser` receive the Hono context. Two options
 * of the adapter's own: `cookieSecret` and `variables`.
 */
export type HonoJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload, Names extends VariableNames = DefaultVariableNames> = JwtAuthOptions<
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
  /**
   * Other names for the variables set (`{ user: 'account' }`: `c.get('account')`), each a
   * non-empty string, all different; checked at creation. Default `c.get('auth')`,
   * `c.get('user')`, `c.get('authError')`. The names are part of the type: with explicit type
   * arguments, give them as the third, `jwtAuth<Payload, User, { user: 'account' }>()`.
   */
  variables?: Names;
};

function answer(c: Context, error: AuthError): Response {
  const { status, headers, body } = toErrorResponse(error, c.req.method);
  const code = status as 400 | 401 | 403 | 503;
  return body === undefined ? c.body(null, code, headers) : c.body(body, code, headers);
}

/**
 * Verifies the bearer token of every request and sets `c.get('auth')` and `c.get('user')` (or the
 * names of the `variables` option).
 */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload, const Names extends VariableNames = DefaultVariableNames>(
  options: HonoJwtAuthOptions<Payload, User, Names>,
): MiddlewareHandler<JwtAuthEnv<Payload, User, Names>> {
  const { cookieSecret, variables, ...coreOptions } = options;
  const authenticator = createAuthenticator(coreOptions);
  const secret = checkCookieSecret(cookieSecret, options.tokenFrom);
  const names = variableNames(variables);
  return async (c, next) => {
    const result = await authenticator.authenticate(requestLike(c, secret), c);
    if (result.ok) {
      // The names are only known at run time; their types come from `Names`.
      const context = c as Context;
      context.set(names.auth, result.auth);
      context.set(names.user, result.user);
      context.set(names.authError, result.error);
      recordAuth(c, result.auth, result.error);
      return next();
    }
    if (authenticator.forwardErrors) throw result.error;
    return answer(c, result.error);
  };
}

// Guards add nothing to the app's Env: they read the auth of the jwtAuth() before them, under
// whatever name it was set.
function middlewareFor(guard: Guard): MiddlewareHandler {
  return async (c, next) => {
    const { auth, authError } = recordedAuth(c);
    const result = await guard(auth, authError);
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
