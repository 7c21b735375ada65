/** Node's incoming header object (`IncomingMessage#headers`). */
export type NodeHeaders = Record<string, string | string[] | undefined>;

/** The Fetch API's `Headers`, reduced to what is read here. */
export interface FetchHeaders {
  /** The header's value (repeated headers joined with `, `), or `null` when it was not sent. */
  get(name: string): string | null;
}

/**
 * The request shape core reads. A Node `IncomingMessage` and a Fetch `Request` both fit as they
 * are.
 */
export interface RequestLike {
  /** The request method, for `unless` exclusions limited to some methods. */
  method?: string | undefined;
  /** Path and query (Node) or an absolute URL (Fetch). */
  url?: string | undefined;
  /**
   * `scheme://host[:port]` as the client addressed the server, for a Node request whose `url` is
   * only a path: a DPoP proof's `htu` is checked against it (the adapters set it the way their
   * framework trusts a proxy). Not needed when `url` is absolute or `dpop.origin` is set.
   */
  origin?: string | undefined;
  /** Fetch `Headers`, or a Node header object (lower-case names; other cases are found too, for objects built by hand). */
  headers: NodeHeaders | FetchHeaders;
  /** Node's raw header list, the only place where repeated `Authorization` headers survive. */
  rawHeaders?: readonly string[] | undefined;
  /**
   * A Fetch `Request`'s body stream, `null` when it has none: whether a form body was sent is
   * read from it rather than from `Content-Length` (absent on HTTP/2 and chunked requests).
   * Leave it unset on Node requests.
   */
  body?: unknown;
  /**
   * Verifies the signed cookie `name` the framework's way (`tokenFrom.cookie` with `signed:
   * true`; the adapters provide it): its value when the signature verifies, `false` or
   * `undefined` when it does not or the cookie is not signed. Only called when the `Cookie`
   * header holds that cookie once.
   */
  signedCookie?(name: string): string | false | undefined | Promise<string | false | undefined>;
  /**
   * The `application/x-www-form-urlencoded` body as the framework parsed it, an object of
   * parameters whose values are strings or arrays of strings (`tokenFrom.body`; the adapters
   * provide it). Only called for a form body that may carry the token (see `TokenFrom.body`).
   */
  formBody?(): unknown;
}

export function isFetchHeaders(headers: NodeHeaders | FetchHeaders): headers is FetchHeaders {
  // `'get' in headers` would be fooled by a client that sends a header named `get`.
  return typeof (headers as FetchHeaders).get === 'function';
}

/** Every value sent for a header, in order. Fetch `Headers` have already joined them with `, `. */
export function headerValues(request: RequestLike, name: string): string[] {
  const lower = name.toLowerCase();
  if (request.rawHeaders !== undefined) {
    const values: string[] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]!.toLowerCase() === lower) values.push(request.rawHeaders[i + 1]!);
    }
    return values;
  }
  const { headers } = request;
  if (isFetchHeaders(headers)) {
    const value = headers.get(lower);
    return value === null ? [] : [value];
  }
  const value = headers[lower];
  if (value !== undefined) return Array.isArray(value) ? value : [value];
  // Node lower-cases header names; objects built by hand (serverless adapters, tests) may not.
  const values: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.length !== lower.length || key.toLowerCase() !== lower) continue;
    const found = headers[key];
    if (found !== undefined) values.push(...(Array.isArray(found) ? found : [found]));
  }
  return values;
}

/** The query string of the request URL, without the `?`. */
export function queryString(request: RequestLike): string {
  const url = request.url ?? '';
  const start = url.indexOf('?');
  if (start === -1) return '';
  const hash = url.indexOf('#', start);
  return url.slice(start + 1, hash === -1 ? undefined : hash);
}
