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
  type Unless,
} from '@jwtauth/core';
import type { Context, DefaultState, Middleware } from 'koa';
import { splitStateKeys, type JwtAuthState, type StateKeyOptions } from './state.js';
import { requestLike } from './token-sources.js';

/**
 * `jwtAuth()` options for Koa: `getToken`, `resolveUser`, `unless` and key functions receive the
 * Koa context. Two options of the adapter's own: `key` and `authKey`.
 */
export type KoaJwtAuthOptions<
  Payload extends JWTPayload = JWTPayload,
  User = Payload,
  UserKey extends string = 'user',
  AuthKey extends string = 'auth',
> = JwtAuthOptions<Payload, User, Context> & StateKeyOptions<UserKey, AuthKey>;

/**
 * The middleware `jwtAuth()` returns, with koa-jwt's `.unless(exclusions)`: the same middleware
 * with the `unless` option set to `exclusions`.
 */
export interface JwtAuthMiddleware<State = JwtAuthState & DefaultState> extends Middleware<State> {
  /** The same middleware, skipping the requests `exclusions` matches (the `unless` option). */
  unless(exclusions: Unless<Context>): Middleware<State>;
}

function answer(ctx: Context, error: AuthError): void {
  const { status, headers, body } = toErrorResponse(error, ctx.method);
  ctx.status = status;
  // Headers first: Koa only guesses a Content-Type when none is set.
  ctx.set(headers);
  // Never null: Koa would turn the status into 204. Koa itself sends no body for HEAD.
  ctx.body = body ?? '';
  // Setting the body recomputed it; HEAD keeps the length of the JSON it would have sent.
  ctx.set('Content-Length', headers['Content-Length']!);
}

/**
 * Verifies the bearer token of every request and sets `ctx.state.auth` and `ctx.state.user`
 * (or the names given by `authKey` and `key`).
 */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload, UserKey extends string = 'user', AuthKey extends string = 'auth'>(
  options: KoaJwtAuthOptions<Payload, User, UserKey, AuthKey>,
): JwtAuthMiddleware<JwtAuthState<Payload, User, UserKey, AuthKey> & DefaultState> {
  const [keys, coreOptions] = splitStateKeys(options);
  const authenticator = createAuthenticator(coreOptions);
  const middleware: Middleware<JwtAuthState<Payload, User, UserKey, AuthKey> & DefaultState> = async (ctx, next) => {
    const result = await authenticator.authenticate(requestLike(ctx), ctx);
    if (result.ok) {
      const state = ctx.state as Record<string, unknown>;
      state[keys.auth] = result.auth;
      state[keys.user] = result.user;
      state.authError = result.error;
      recordAuth(ctx, result.auth, result.error);
      await next();
      return;
    }
    if (authenticator.forwardErrors) throw result.error;
    answer(ctx, result.error);
  };
  return Object.assign(middleware, {
    unless(exclusions: Unless<Context>) {
      if (options.unless !== undefined) throw new TypeError('jwtAuth: "unless" is given twice, as an option and with .unless(): put every exclusion in one.');
      return jwtAuth<Payload, User, UserKey, AuthKey>({ ...options, unless: exclusions });
    },
  });
}

// Guards add nothing to the state type: they read what jwtAuth() kept, whatever the state names.
function middlewareFor(guard: Guard): Middleware {
  return async (ctx, next) => {
    const { auth, authError } = recordedAuth(ctx);
    const result = await guard(auth, authError);
    if (result.ok) {
      await next();
      return;
    }
    if (result.forward) throw result.error;
    answer(ctx, result.error);
  };
}

/** Lets a request through only when its token grants every one of the scopes; 403 otherwise. */
export function requireScopes(scope: string, ...more: string[]): Middleware {
  return middlewareFor(createScopeGuard([scope, ...more]));
}

/** Lets a request through only when `check(payload, auth)` returns true; 403 otherwise. */
export function requireClaims<Payload extends JWTPayload = JWTPayload>(check: ClaimCheck<Payload>): Middleware {
  return middlewareFor(createClaimGuard(check));
}
