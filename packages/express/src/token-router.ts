import { internals, type EndpointRequest, type TokenEndpoints } from '@jwtauth/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { isExpress4, requestLike } from './token-sources.js';

/** What body-parser 1 (Express 4) marks on a request whose body it parsed. */
interface BodyParser1Request {
  _body?: boolean;
}

/**
 * The body as Express's parsers left it. Express 5's parsers leave `req.body` unset when none read
 * this body; Express 4's body-parser sets `req.body = {}` in every parser before looking at the
 * type, and `req._body` once one parsed: `{}` without `_body` there is no body, not an empty form.
 */
function parsedBody(req: Request): unknown {
  if (isExpress4(req) && (req as BodyParser1Request)._body !== true) return undefined;
  return req.body as unknown;
}

/** The query string of a request URL, without the `?`. */
function rawQuery(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}

/** body-parser's error for a body it could not parse (bad JSON), in Express 4 and 5 alike. */
function isParseFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'entity.parse.failed';
}

/**
 * The token endpoints (`createTokenEndpoints()` of `@jwtauth/issuer`) as Express middleware:
 * `app.use('/auth', tokenRouter(endpoints))` serves `POST /auth/token`, `/auth/token/refresh`,
 * `/auth/token/verify` and `/auth/token/revoke`, and `GET` (and `HEAD`) `/auth/.well-known/jwks.json`
 * for an issuer that signs with a private key. Mount `express.json()` (and `express.urlencoded()`
 * for form logins) before it; the client address is `req.ip`, so set `trust proxy` behind a proxy.
 *
 * It is an array of middleware, which `app.use()` and `router.use()` accept as they accept a
 * Router: the handler, and an error handler that answers a body `express.json()` could not parse
 * as the endpoints' `400 invalid_json`. Other paths and methods fall through to Express's 404; an
 * error thrown by `verifyCredentials` goes to Express's error handlers.
 */
export function tokenRouter(endpoints: TokenEndpoints<Request>): [RequestHandler, ErrorRequestHandler] {
  if (typeof endpoints !== 'object' || endpoints === null || typeof endpoints.handle !== 'function') {
    throw new TypeError('tokenRouter: pass the token endpoints, createTokenEndpoints({ issuer, verifyCredentials }) of @jwtauth/issuer.');
  }

  /** Translates the request for `handle()` and sends its answer; `otherwise` when it is none of the endpoints. */
  function serve(req: Request, res: Response, next: NextFunction, body: unknown, otherwise: () => void): void {
    const request: EndpointRequest<Request> = {
      method: req.method,
      // Below the mount point: Express removed the prefix given to app.use() from req.url.
      path: req.path,
      // The raw query string (GET /authorize reads its parameters from it).
      query: rawQuery(req.originalUrl),
      body,
      contentType: req.headers['content-type'],
      cookie: req.headers.cookie,
      // The address Express trusts: the socket's, or X-Forwarded-For's as the `trust proxy` setting allows.
      address: req.ip,
      // For a DPoP proof (RFC 9449): every DPoP line, and the URL as the client addressed it
      // (scheme and host as Express trusts its proxy, the path before any mount removed its prefix).
      dpop: internals.headerValues(req, 'dpop'),
      get url() {
        const { origin } = requestLike(req);
        return origin === undefined ? undefined : `${origin}${req.originalUrl}`;
      },
      request: req,
    };
    endpoints
      .handle(request)
      .then((answer) => {
        if (answer === undefined) return otherwise();
        // Another middleware (a timeout) may have answered while the password was being checked.
        if (res.headersSent) return;
        // writeHead, not res.set()/res.json(): Express would append a charset to the Content-Type,
        // which every other adapter sends exactly as the endpoints give it. Node sends no body for
        // HEAD. Content-Length framing, as res.json() would give, rather than chunked.
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
      })
      .catch(next);
  }

  const handler: RequestHandler = (req, res, next) => {
    serve(req, res, next, parsedBody(req), () => next());
  };
  // A body express.json() refused never reaches `handler`: the parser sent its error down the
  // error path. Answered as a body that is not an object, the wire is the same as in every adapter.
  const parseErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!isParseFailure(error)) return next(error);
    serve(req, res, next, undefined, () => next(error));
  };
  return [handler, parseErrors];
}
