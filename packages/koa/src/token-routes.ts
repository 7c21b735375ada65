import { internals, type EndpointRequest, type TokenEndpoints } from '@jwtauth/core';
import type { Context, Middleware } from 'koa';

/** Options of {@link tokenRoutes}. */
export interface TokenRoutesOptions {
  /**
   * Where the endpoints are served: `/auth` serves `/auth/token`, `/auth/token/refresh`… Starts with
   * `/` and does not end with one. Give the issuer's `refreshCookie.path` as `<prefix>/token`.
   * Default: `''`, the endpoints at the root of `ctx.path`.
   */
  prefix?: string;
}

/**
 * Koa middleware serving token endpoints (`createTokenEndpoints()` of `@jwtauth/issuer`, or any
 * {@link TokenEndpoints}) under `prefix`: `app.use(tokenRoutes(endpoints, { prefix: '/auth' }))`
 * serves `POST /auth/token`, `/auth/token/refresh`, `/auth/token/verify`, `/auth/token/revoke`,
 * and `GET` (and `HEAD`) `/auth/.well-known/jwks.json` for an issuer that signs with a private key.
 * It only translates: the body `@koa/bodyparser` parsed (`ctx.request.body`), `ctx.ip` as the
 * client address (Koa's `app.proxy` decides whether `X-Forwarded-For` counts), and the context as
 * the request handed to `verifyCredentials`. A method or path that is none of the endpoints goes
 * on to `next()`; an error of `verifyCredentials` is thrown into Koa's error path unchanged.
 * A wrong argument throws a `TypeError` here.
 */
export function tokenRoutes(endpoints: TokenEndpoints<Context>, options: TokenRoutesOptions = {}): Middleware {
  if (typeof endpoints !== 'object' || endpoints === null || typeof endpoints.handle !== 'function') {
    throw new TypeError('tokenRoutes: the first argument must be the token endpoints, createTokenEndpoints({ issuer, verifyCredentials }) of @jwtauth/issuer.');
  }
  const { prefix = '' } = options;
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    throw new TypeError('tokenRoutes: "prefix" must start with "/" and not end with one, such as "/auth" (or be left out to serve at the root).');
  }

  return async (ctx, next) => {
    // Only paths below the prefix, at a segment boundary: '/authx/token' is not '/auth' + '/token'.
    if (!ctx.path.startsWith(`${prefix}/`)) {
      await next();
      return;
    }
    const request: EndpointRequest<Context> = {
      method: ctx.method,
      path: ctx.path.slice(prefix.length),
      query: ctx.querystring,
      // A getter, because handle() reads the body only for a POST endpoint's path: a GET (the JWK
      // Set) or an unknown path without a parsed body still works or goes on to Koa's 404
      // (@koa/bodyparser parses POST, PUT and PATCH only).
      get body() {
        const { body } = ctx.request as { body?: unknown };
        if (body === undefined) {
          throw new TypeError('tokenRoutes: the request body was not parsed before the token endpoints: app.use(bodyParser()) from @koa/bodyparser first.');
        }
        return body;
      },
      contentType: ctx.get('Content-Type') || undefined,
      cookie: ctx.get('Cookie') || undefined,
      // Koa answers an empty string when it knows no address; the endpoints take undefined for that.
      address: ctx.ip || undefined,
      // For a DPoP proof (RFC 9449): every DPoP line, and the URL as the client addressed it
      // (scheme and host as Koa trusts its proxy, `app.proxy`; the path before koa-mount rewrote it).
      // Not `ctx.origin`: Koa 3 made it the request's `Origin` header, which the client chooses.
      dpop: internals.headerValues(ctx.req, 'dpop'),
      url: `${ctx.protocol}://${ctx.host}${ctx.originalUrl}`,
      request: ctx,
    };
    const answer = await endpoints.handle(request);
    if (answer === undefined) {
      await next();
      return;
    }
    ctx.status = answer.status;
    // Headers first, then the body as JSON text: Koa keeps a Content-Type that is set for a string
    // body, whereas for an object Koa 2 sets `application/json; charset=utf-8` over ours (the JWK
    // Set's `application/jwk-set+json` included). Koa sends no body for HEAD.
    ctx.set(answer.headers);
    ctx.body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  };
}
