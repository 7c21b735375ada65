import { isB64Token, parseAuthorization } from './bearer.js';
import { cookieValues } from './cookies.js';
import { trimOws } from './field-value.js';
import { headerValues, isFetchHeaders, queryString, type RequestLike } from './request.js';

/** A cookie that holds the token, signed by the framework's own cookie signing. */
export interface CookieSource {
  /** The cookie's name. */
  name: string;
  /**
   * `true` accepts the cookie only when its signature verifies, by the framework's own mechanism
   * (Express cookie-parser with a secret, Koa `app.keys`, `@fastify/cookie` with a secret, the
   * Hono adapter's `cookieSecret`). A cookie that is not signed, or signed with another secret, is
   * refused with `malformed_token`. Default `false`.
   */
  signed?: boolean;
}

/** Where tokens are read from. Every location is exclusive: a token in two of them is refused. */
export interface TokenFrom {
  /**
   * `true` reads `Authorization: Bearer <token>`; a header name (`'X-Access-Token'`) reads that
   * header instead of `Authorization`, its value being `Bearer <token>` or the bare token; `false`
   * reads no header. Default `true`.
   */
  header?: boolean | string;
  /**
   * A cookie that holds the token: its name, or `{ name, signed: true }` for a signed cookie. Not
   * read unless given.
   */
  cookie?: string | CookieSource;
  /** Name of a query parameter that holds the token (RFC 6750 §2.3). Not read unless given. */
  query?: string;
  /**
   * Name of a form-encoded body parameter that holds the token (RFC 6750 §2.2, usually
   * `access_token`): read from the body the framework parsed, only for `POST`, `PUT` and `PATCH`
   * requests with `Content-Type: application/x-www-form-urlencoded`. Not read unless given.
   */
  body?: string;
}

/** {@link TokenFrom} checked and normalised at creation. */
export interface TokenSources {
  /** The header read, in lower case (`authorization` by default); `undefined` reads none. */
  header: string | undefined;
  /** The token cookie; `undefined` reads none. */
  cookie: { name: string; signed: boolean } | undefined;
  /** The query parameter; `undefined` reads none. */
  query: string | undefined;
  /** The form body parameter; `undefined` reads none. */
  body: string | undefined;
}

/** The outcome of looking for a token in every enabled location. */
export type TokenLookup =
  /** One token; `scheme` is `DPoP` only for `Authorization: DPoP` with the `dpop` option. */
  | { kind: 'token'; token: string; scheme: 'Bearer' | 'DPoP' }
  | { kind: 'none' }
  | { kind: 'malformed_header' }
  | { kind: 'multiple_tokens' }
  /** A value from a cookie, the query, the body or a custom header that cannot be a token. */
  | { kind: 'malformed_token'; reason: string };

/** What one location gave: a candidate token, or a value that can never be one (and why). */
type Found = { token: string; scheme?: 'DPoP' } | { bad: string };

/**
 * RFC 6750 §2.2: a body parameter only where the request content has defined semantics, never
 * on GET. These three are also the methods every supported body parser reads by default
 * (`@koa/bodyparser`'s `parsedMethods`), so all adapters see the same bodies.
 */
const FORM_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

function queryValues(request: RequestLike, name: string): string[] {
  const query = queryString(request);
  if (query === '') return [];
  return new URLSearchParams(query).getAll(name).filter((value) => value !== '');
}

/**
 * A header other than `Authorization` (`X-Access-Token`): it carries nothing but the token, as
 * `Bearer <token>` or bare. Repeated lines are joined as for `Authorization` (a Fetch `Headers`
 * has already joined them and nothing can take them apart), so a `, ` means several lines.
 */
function customHeader(request: RequestLike, name: string): Found[] | 'multiple' {
  const lines = headerValues(request, name);
  if (lines.length === 0) return [];
  const joined = lines.join(', ');
  if (joined.split(',').some((piece, i) => i > 0 && piece.startsWith(' '))) return 'multiple';
  const value = trimOws(joined);
  if (value === '') return [];
  const token = /^bearer +(.*)$/is.exec(value)?.[1] ?? value;
  return [isB64Token(token) ? { token } : { bad: `the ${name} header is neither "Bearer <token>" nor a token` }];
}

/** The `Authorization` header; `malformed`/`multiple` end the lookup, as they always have. */
function authorization(request: RequestLike, dpop: boolean): Found[] | 'malformed' | 'multiple' {
  const lines = headerValues(request, 'authorization');
  if (lines.length === 0) return [];
  // Node hands every line; a Fetch `Headers` has joined them with `, ` and nothing can take
  // them apart again. Join them the same way, so both runtimes read the same value and answer
  // alike (an empty second line, a garbled one): parseAuthorization tells several from one.
  const parsed = parseAuthorization(lines.join(', '), { dpop });
  if (parsed.kind === 'malformed' || parsed.kind === 'multiple') return parsed.kind;
  if (parsed.kind !== 'token') return [];
  return [parsed.scheme === 'DPoP' ? { token: parsed.token, scheme: 'DPoP' } : { token: parsed.token }];
}

/**
 * A signed cookie. Presence and repetition are read from the `Cookie` header itself, the same
 * way for every framework (frameworks keep the first of two cookies of one name silently); the
 * value comes from the framework's verification, and anything it does not vouch for (no
 * signature, another secret, a changed value) is refused, never read as a plain cookie.
 */
async function signedCookie(request: RequestLike, name: string): Promise<Found[]> {
  const sent = cookieValues(request, name);
  if (sent.length !== 1) return sent.map((token) => ({ token }));
  if (typeof request.signedCookie !== 'function') {
    throw new TypeError('jwtAuth: tokenFrom.cookie is signed, but the request has no signedCookie(name) to verify it: use an adapter, or add one.');
  }
  const value = await request.signedCookie(name);
  if (value === '') return [];
  return [typeof value === 'string' ? { token: value } : { bad: `the signature of the ${name} cookie does not verify` }];
}

/** Whether the request may carry a form-encoded body parameter (RFC 6750 §2.2). */
function sendsForm(request: RequestLike): boolean {
  if (request.method === undefined || !FORM_METHODS.has(request.method)) return false;
  const types = headerValues(request, 'content-type');
  if (types.length !== 1) return false;
  const mediaType = trimOws(types[0]!.split(';', 1)[0]!).toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') return false;
  // A Fetch Request says itself whether it has a body (HTTP/2, chunked and Workers requests need
  // not carry Content-Length).
  if (isFetchHeaders(request.headers) && request.body !== undefined) return request.body !== null;
  // As type-is's hasBody, which the Node parsers use: without these headers no body was sent,
  // and Express 5's parsers leave `req.body` unset.
  return headerValues(request, 'content-length').length > 0 || headerValues(request, 'transfer-encoding').length > 0;
}

/** The body parameter `name`, from the body the framework parsed. */
async function bodyParameter(request: RequestLike, name: string): Promise<Found[]> {
  if (!sendsForm(request)) return [];
  if (typeof request.formBody !== 'function') {
    throw new TypeError('jwtAuth: tokenFrom.body is set, but the request has no formBody() to read the parsed body from: use an adapter, or add one.');
  }
  const body = await request.formBody();
  // Own properties only: `constructor` or `__proto__` must not reach into the prototype.
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return [];
  const value: unknown = (body as Record<string, unknown>)[name];
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  return values
    .filter((item) => item !== '' && item !== undefined)
    .map((item) => (typeof item === 'string' ? { token: item } : { bad: `the ${name} body parameter is not a string` }));
}

/**
 * Looks for the token in every location `from` enables; more than one found is an error. With
 * `dpop`, `Authorization: DPoP <token>` is read too.
 */
export async function findToken(request: RequestLike, from: TokenSources, dpop = false): Promise<TokenLookup> {
  const found: Found[] = [];
  if (from.header === 'authorization') {
    const header = authorization(request, dpop);
    if (header === 'malformed') return { kind: 'malformed_header' };
    if (header === 'multiple') return { kind: 'multiple_tokens' };
    found.push(...header);
  } else if (from.header !== undefined) {
    const header = customHeader(request, from.header);
    if (header === 'multiple') return { kind: 'multiple_tokens' };
    found.push(...header);
  }
  if (from.cookie !== undefined) {
    const { name, signed } = from.cookie;
    found.push(...(signed ? await signedCookie(request, name) : cookieValues(request, name).map((token) => ({ token }))));
  }
  if (from.query !== undefined) found.push(...queryValues(request, from.query).map((token) => ({ token })));
  if (from.body !== undefined) found.push(...(await bodyParameter(request, from.body)));

  if (found.length > 1) return { kind: 'multiple_tokens' };
  const [only] = found;
  if (only === undefined) return { kind: 'none' };
  if ('bad' in only) return { kind: 'malformed_token', reason: only.bad };
  // The Authorization header's token passed parseAuthorization; other values are checked here.
  if (!isB64Token(only.token)) return { kind: 'malformed_token', reason: 'the cookie, query or body value is not a token' };
  return { kind: 'token', token: only.token, scheme: only.scheme ?? 'Bearer' };
}
