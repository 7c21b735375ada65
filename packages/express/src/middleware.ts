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
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { propertyNames } from './request-properties.js';
import { requestLike } from './token-sources.js';

/**
 * `jwtAuth()` options for Express: `getToken` and `resolveUser` receive the Express request. Two
 * options of the adapter's own name where the result is attached.
 */
export type ExpressJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<Payload, User, Request> & {
  /**
   * The request property the verified token (`AuthInfo`) is attached to, as express-jwt's
   * `requestProperty`. Default `'auth'`. A plain property name, not one that Express, Node or
   * the middleware `jwtAuth` reads already use (`'body'`, `'headers'`, `'__proto__'` are refused).
   * Declare the name in `JwtAuthProperties` to type it.
   */
  requestProperty?: string;
  /** The request property the user is attached to, as Passport's `userProperty`. Default `'user'`. */
  userProperty?: string;
};

function answer(req: Request, res: Response, error: AuthError): void {
  // Another middleware (a timeout) may have answered while keys were being fetched.
  if (res.headersSent) return;
  const { status, headers, body } = toErrorResponse(error, req.method);
  // writeHead, not res.set(): Express would append a charset to the Content-Type.
  res.writeHead(status, headers).end(body);
}

/**
 * Verifies the bearer token of every request and sets `req.auth` and `req.user` (or the names
 * given by `requestProperty` and `userProperty`).
 */
export function jwtAuth<Payload extends JWTPayload = JWTPayload, User = Payload>(options: ExpressJwtAuthOptions<Payload, User>): RequestHandler {
  // A copy: core's "options are required" check then also answers a call without options.
  const { requestProperty, userProperty, ...coreOptions } = { ...options };
  const authenticator = createAuthenticator(coreOptions);
  const names = propertyNames(requestProperty, userProperty);
  return (req, res, next) => {
    authenticator
      .authenticate(requestLike(req), req)
      .then((result) => {
        if (!result.ok) return authenticator.forwardErrors ? next(result.error) : answer(req, res, result.error);
        const attached = req as unknown as Record<string, unknown>;
        attached[names.auth] = result.auth;
        attached[names.user] = result.user;
        req.authError = result.error;
        // Guards read it here, not from a property that a rename (or another middleware) changes.
        recordAuth(req, result.auth, result.error);
        next();
      })
      .catch(next);
  };
}

function middlewareFor(guard: Guard): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const { auth, authError } = recordedAuth(req);
    guard(auth, authError)
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
