import type { RequestLike } from '@jwtauth/core';
import type { Context } from 'koa';

/**
 * The request as core reads it, with Koa's own signed cookies (`ctx.cookies.get(name, { signed:
 * true })`, verified with `app.keys`; `tokenFrom.cookie` with `signed: true`) and the body
 * `@koa/bodyparser` parsed before `jwtAuth` (`tokenFrom.body`). Core only asks for them when
 * configured.
 */
export function requestLike(ctx: Context): RequestLike {
  const { req } = ctx;
  return {
    method: req.method,
    // The full original URL (koa-mount rewrites ctx.req.url): `unless` paths are matched on it.
    url: ctx.originalUrl,
    // For a DPoP proof's htu: the scheme and host as Koa trusts its proxy (`app.proxy`). Not
    // `ctx.origin`, which Koa 3 made the request's `Origin` header (null when none is sent).
    get origin() {
      return `${ctx.protocol}://${ctx.host}`;
    },
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    signedCookie(name) {
      // Without keys, `cookies` throws a bare '.keys required for signed cookies'.
      if (!ctx.app.keys) throw new TypeError('jwtAuth: tokenFrom.cookie is signed, but the app has no keys to verify it: set app.keys = [secret].');
      // `undefined` for a missing `<name>.sig` cookie or a signature that does not verify.
      return ctx.cookies.get(name, { signed: true });
    },
    formBody() {
      const { body } = ctx.request as { body?: unknown };
      if (body === undefined) {
        throw new TypeError('jwtAuth: tokenFrom.body is set, but the body was not parsed before jwtAuth: app.use(bodyParser()) from @koa/bodyparser first.');
      }
      return body;
    },
  };
}
