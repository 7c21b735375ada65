import type { EndpointAnswer, TokenEndpoints } from '@jwtauth/core';
import { Hono, type Context, type Env } from 'hono';
import { basePath } from 'hono/route';

/** Options of {@link tokenApp}. */
export interface TokenAppOptions<E extends Env = Env> {
  /**
   * The client address the per-address login limit counts, from the context. Hono has no
   * runtime-neutral client address, so none is read by default: all logins then share one
   * per-address count. Give your runtime's helper (`(c) => getConnInfo(c).remote.address` with
   * `getConnInfo` from `@hono/node-server/conninfo`, `hono/bun`, `hono/deno` or
   * `hono/cloudflare-workers`), or, behind a proxy you trust, a reader of the header it sets.
   */
  address?: (c: Context<E>) => string | undefined;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const FORM_TYPE = /^(?:application\/x-www-form-urlencoded|multipart\/form-data)\s*(?:;|$)/i;

/**
 * The body as Hono parses it: `c.req.json()` for JSON, `c.req.parseBody()` for forms. Anything
 * else, or a body that does not parse, is `undefined`, which the endpoints answer
 * `400 invalid_json` in the contract's error shape rather than Hono's plain-text 400.
 */
async function parsedBody(c: Context, contentType: string | undefined): Promise<unknown> {
  try {
    if (contentType !== undefined && JSON_TYPE.test(contentType)) return (await c.req.json()) as unknown;
    if (contentType !== undefined && FORM_TYPE.test(contentType)) return await c.req.parseBody();
  } catch {
    // A malformed body is the client's mistake, answered by the endpoints; never the error path.
  }
  return undefined;
}

/** The `DPoP` header's one value (Fetch has joined repeated lines with `, `), or none. */
function dpopOf(value: string | null): string[] {
  return value === null ? [] : [value];
}

/**
 * Token endpoints (`createTokenEndpoints()` of `@jwtauth/issuer`, or any {@link TokenEndpoints})
 * as a Hono sub-app: `app.route('/auth', tokenApp(endpoints))` serves `POST /auth/token`,
 * `/auth/token/refresh`, `/auth/token/verify` and `/auth/token/revoke`, and `GET` (and `HEAD`,
 * which Hono answers as GET without body) `/auth/.well-known/jwks.json` for an issuer that signs
 * with a private key. `verifyCredentials`
 * receives the Hono context (`c.env` holds Workers bindings such as your user database). A path
 * or method the endpoints do not serve goes on to Hono's `notFound`; an error thrown by
 * `verifyCredentials` goes to `app.onError`.
 */
export function tokenApp<E extends Env = Env>(endpoints: TokenEndpoints<Context<E>>, options: TokenAppOptions<E> = {}): Hono<E> {
  if (typeof endpoints !== 'object' || endpoints === null || typeof endpoints.handle !== 'function') {
    throw new TypeError('tokenApp: give the token endpoints, createTokenEndpoints({ issuer, verifyCredentials }) of @jwtauth/issuer.');
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('tokenApp: the second argument must be an options object ({ address }), or left out.');
  }
  const { address } = options;
  if (address !== undefined && typeof address !== 'function') {
    throw new TypeError('tokenApp: "address" must be a function (c) => string | undefined returning the client address, or left out.');
  }

  // Every method and path goes to handle(): the endpoints, not the adapter, know what they serve.
  return new Hono<E>().all('*', async (c, next) => {
    const contentType = c.req.header('content-type');
    const { method } = c.req;
    const answer: EndpointAnswer | undefined = await endpoints.handle({
      method,
      // The path below wherever the app is mounted, mount-point parameters (`/t/:tenant/auth`) included.
      path: c.req.path.slice(basePath(c).replace(/\/$/, '').length),
      query: new URL(c.req.url).search.slice(1),
      // GET and HEAD carry no body the endpoints read.
      body: method === 'GET' || method === 'HEAD' ? undefined : await parsedBody(c, contentType),
      contentType,
      cookie: c.req.header('cookie'),
      address: address?.(c),
      // For a DPoP proof (RFC 9449): the DPoP header as Fetch joins it (a comma means several
      // were sent), and the request's absolute URL.
      dpop: dpopOf(c.req.raw.headers.get('dpop')),
      url: c.req.url,
      request: c,
    });
    if (answer === undefined) return next();
    // A string body (HTML) is sent as is, with the answer's Content-Type.
    if (typeof answer.body === 'string') return c.body(answer.body, answer.status as 200, answer.headers);
    return c.json(answer.body, answer.status as 200, answer.headers);
  });
}
