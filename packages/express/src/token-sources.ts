import type { RequestLike } from '@jwtauth/core';
import type { Request } from 'express';

/** What cookie-parser adds to the request, typed here so the adapter needs no @types/cookie-parser. */
interface CookieParserRequest {
  /** The first of cookie-parser's secrets; unset when it was mounted without one. */
  secret?: string;
  signedCookies?: Record<string, unknown>;
}

/** What body-parser 1 (Express 4) marks on a request whose body it parsed. */
interface BodyParser1Request {
  _body?: boolean;
}

/** Express 4 apps have a `_router`; Express 5's router is `app.router`. */
export function isExpress4(req: Request): boolean {
  return typeof req.app === 'function' && '_router' in req.app;
}

/**
 * The request as core reads it, with what Express middleware mounted before `jwtAuth` parsed:
 * cookie-parser's verified `req.signedCookies` (`tokenFrom.cookie` with `signed: true`) and the
 * `express.urlencoded()` body (`tokenFrom.body`). Core only asks for them when configured.
 */
/**
 * The host with its port, as Express 5's `req.host` reads it: `X-Forwarded-Host` when the proxy is
 * trusted, else `Host`. Express 4's `req.host` is the hostname alone.
 */
function express4Host(req: Request): string | undefined {
  const trust = req.app.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined;
  const forwarded = req.get('x-forwarded-host');
  const host = forwarded !== undefined && trust?.(req.socket.remoteAddress, 0) === true ? forwarded.split(',', 1)[0]!.trim() : req.get('host');
  return host === '' ? undefined : host;
}

export function requestLike(req: Request): RequestLike {
  return {
    method: req.method,
    // The full original URL (before a mount removed its prefix): `unless` paths are matched on it.
    // `req.url` when a plain Node server calls the middleware, which has no originalUrl.
    url: req.originalUrl ?? req.url,
    // For a DPoP proof's htu, read only then: the scheme and host as Express trusts its proxy
    // (`trust proxy`).
    get origin() {
      if (typeof req.get !== 'function') return undefined;
      const host = isExpress4(req) ? express4Host(req) : req.host;
      return host === undefined ? undefined : `${req.protocol}://${host}`;
    },
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    signedCookie(name) {
      const { secret, signedCookies } = req as CookieParserRequest;
      if (signedCookies === undefined || secret === undefined) {
        throw new TypeError('jwtAuth: tokenFrom.cookie is signed, but no cookie-parser with a secret ran before jwtAuth: app.use(cookieParser(secret)) first.');
      }
      // A string when the signature verifies; `false` when it does not; absent for an unsigned cookie.
      const value = signedCookies[name];
      return typeof value === 'string' ? value : false;
    },
    formBody() {
      // Express 5's parsers leave `req.body` unset when none read this body. Express 4's
      // body-parser sets `req.body = {}` in every parser before looking at the type, and
      // `req._body` once one has parsed: there `{}` without `_body` means no urlencoded parser ran.
      const unparsed = req.body === undefined || (isExpress4(req) && (req as BodyParser1Request)._body !== true);
      if (unparsed) {
        throw new TypeError('jwtAuth: tokenFrom.body is set, but the form body was not parsed before jwtAuth: app.use(express.urlencoded()) first.');
      }
      return req.body as unknown;
    },
  };
}
