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
import type { Context, DefaultState, Middleware } from 'koa';
import { requestLike } from './token-sources.js';

/** What `jwtAuth()` adds to `ctx.state`. */
export interface JwtAuthState<Payload extends JWTPayload = JWTPayload, User = Payload> {
  /** The verified token; `undefined` when the request passed unauthenticated. */
  auth?: AuthInfo<Payload>;
  /** What `resolveUser` returned, or the token payload. */
  user?: User;
  /** Set with `passthrough: true`: why the request goes on unauthenticated. */
  authError?: AuthError;
}

/** `jwtAuth()` options for Koa: `getToken` and `resolveUser` receive the Koa context. */
export type KoaJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<
  Payload,
  User,
  Context
>;

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

/** Verifies the bearer token of every request and sets `ctx.state.auth` and `ctx.state.user`. */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload>(
  options: KoaJwtAuthOptions<Payload, User>,
): Middleware<JwtAuthState<Payload, User> & DefaultState> {
  const authenticator = createAuthenticator(options);
  return async (ctx, next) => {
    const result = await authenticator.authenticate(requestLike(ctx as unknown as Context), ctx as unknown as Context);
    if (result.ok) {
      ctx.state.auth = result.auth;
      ctx.state.user = result.user;
      ctx.state.authError = result.error;
      return next();
    }
    if (authenticator.forwardErrors) throw result.error;
    answer(ctx as unknown as Context, result.error);
  };
}

// Guards add nothing to the state type: they read what jwtAuth() put there.
function middlewareFor(guard: Guard): Middleware {
  return async (ctx, next) => {
    const { auth, authError } = ctx.state as JwtAuthState;
    const result = await guard(auth as AuthInfo | undefined, authError as AuthError | undefined);
    if (result.ok) return next();
    if (result.forward) throw result.error;
    answer(ctx as unknown as Context, result.error);
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
