/**
 * What token endpoints (`@jwtauth/issuer`'s `createTokenEndpoints`) and the adapters that mount
 * them agree on. Types only: an adapter mounts endpoints without depending on the issuer package,
 * so apps that only verify tokens never install it.
 */

/** A JSON value, as the endpoints answer it (the framework serialises it). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [name: string]: JsonValue | undefined };

/**
 * A ready HTTP answer of the token endpoints: the framework sends `status`, these `headers`
 * exactly (the `Content-Type` included, without a charset added) and `body` serialised as JSON;
 * for `HEAD`, no body.
 */
export interface EndpointAnswer {
  /** The HTTP status code. */
  status: number;
  /** Response headers, to send exactly as given. */
  headers: Record<string, string>;
  /**
   * The JSON body (not sent for `HEAD`), or a string sent as is with the answer's `Content-Type`
   * (the HTML of the authorization endpoint).
   */
  body: { [name: string]: JsonValue | undefined } | string;
}

/** A request to the token endpoints, as any framework sees it. */
export interface EndpointRequest<Request = unknown> {
  /** The HTTP method: `POST` for the token endpoints, `GET` or `HEAD` for the published documents. */
  method: string;
  /**
   * The path below where the endpoints are mounted: `/token`, `/token/refresh`, `/token/verify`,
   * `/token/revoke`, and the published `/.well-known/jwks.json` (and RFC 8414 metadata, for a mount at the origin's root).
   */
  path: string;
  /** The raw query string, without the `?` (`GET /authorize` reads its parameters from it). */
  query?: string | undefined;
  /** The body as the framework parsed it: a JSON object, or a urlencoded form as an object. Not read for `GET` and `HEAD`. */
  body: unknown;
  /**
   * The `Content-Type` header. The refresh cookie is set and read only for `application/json`
   * requests: an HTML form of another site can post a urlencoded body without a CORS preflight.
   */
  contentType?: string | undefined;
  /** The `Cookie` header. */
  cookie?: string | undefined;
  /** The client address the framework trusts (after its proxy settings), for the per-address limit. */
  address?: string | undefined;
  /**
   * Every `DPoP` header value sent, in order (Node's `rawHeaders`; a Fetch request's one joined
   * value, where a comma means several): the proof of possession of a key (RFC 9449) that binds
   * the tokens issued. Unset or empty: none was sent.
   */
  dpop?: readonly string[] | undefined;
  /**
   * The request's absolute URL as the client addressed it (`scheme://host[:port]/path?query`, the
   * scheme and host as the framework trusts its proxy), against which a DPoP proof's `htu` is
   * checked. The adapters fill it; the endpoints' `dpop.origin` or `publicUrl` override its origin.
   */
  url?: string | undefined;
  /** The framework's own request, handed to `verifyCredentials`. */
  request: Request;
}

/** The token endpoints, ready to be mounted by a framework. */
export interface TokenEndpoints<Request = unknown> {
  /**
   * The answer to `request`, or `undefined` when its method and path are none of the endpoints
   * (the framework then answers 404 or 405 its own way). Rejects only with an error thrown by
   * `verifyCredentials` or the issuer's own hooks, for the framework's error path.
   */
  handle(request: EndpointRequest<Request>): Promise<EndpointAnswer | undefined>;
}
