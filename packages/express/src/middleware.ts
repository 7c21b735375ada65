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
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { requestLike } from './token-sources.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The authenticated user: augment it with your user's fields (the Passport convention). */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User {}
    interface Request {
      /** Set by `jwtAuth()`: the verified token; `undefined` when the request passed unauthenticated. */
      auth?: AuthInfo;
      /** Set by `jwtAuth()`: what `resolveUser` returned, or the token payload. */
      user?: User;
      /** Set by `jwtAuth({ passthrough: true })`: why the request goes on unauthenticated. */
      authError?: AuthError;
    }
  }
}

/** `jwtAuth()` options for Express: `getToken` and `resolveUser` receive the Express request. */
export type ExpressJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<
  Payload,
  User,
  Request
>;

function answer(req: Request, res: Response, error: AuthError): void {
  // Another middleware (a timeout) may have answered while keys were being fetched.
  if (res.headersSent) return;
  const { status, headers, body } = toErrorResponse(error, req.method);
  // writeHead, not res.set(): Express would append a charset to the Content-Type.
  res.writeHead(status, headers).end(body);
}

/** Verifies the bearer token of every request and sets `req.auth` and `req.user`. */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload>(
  options: ExpressJwtAuthOptions<Payload, User>,
): RequestHandler {
  const authenticator = createAuthenticator(options);
  return (req, res, next) => {
    authenticator
      .authenticate(requestLike(req), req)
      .then((result) => {
        if (!result.ok) return authenticator.forwardErrors ? next(result.error) : answer(req, res, result.error);
        req.auth = result.auth as AuthInfo | undefined;
        req.user = result.user as Express.User | undefined;
        req.authError = result.error;
        next();
      })
      .catch(next);
  };
}

function middlewareFor(guard: Guard): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    guard(req.auth, req.authError)
      .then((result) => {
        if (result.ok) return next();
        if (result.forward) return next(result.error);
        answer(req, res, result.error);
      })
      .catch(next);
  };
}

/** Lets a request through only when its token grants every one of `scopes`; 403 otherwise. */
export function requireScopes(scope: string, ...more: string[]): RequestHandler {
  return middlewareFor(createScopeGuard([scope, ...more]));
}

/** Lets a request through only when `check(payload, auth)` returns true; 403 otherwise. */
export function requireClaims<Payload extends JWTPayload = JWTPayload>(check: ClaimCheck<Payload>): RequestHandler {
  return middlewareFor(createClaimGuard(check));
}
