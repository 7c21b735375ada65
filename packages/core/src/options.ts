import type { JWK, JWSHeaderParameters, JWTPayload } from 'jose';
import type { DpopOptions } from './dpop/options.js';
import type { Duration } from './duration.js';
import type { AuthErrorCode } from './errors.js';
import type { AuthEvent } from './events.js';
import type { KeyInput } from './keys/keys.js';
import type { FetchFunction, RemoteJwksTiming } from './jwks/remote-jwks.js';
import type { TokenCacheOptions } from './jwt/token-cache.js';
import type { TokenFrom } from './http/token-source.js';
import type { Unless } from './http/unless.js';
import type { ProtectedResourceOptions } from './http/protected-resource.js';

/**
 * One trusted issuer of the `issuers` option: exactly one of `secret`, `jwks` and `discovery`.
 *
 * @typeParam Request - the framework's request object, passed to a `secret` function.
 */
export interface IssuerKeys<Request = unknown> {
  /** An HMAC secret, a public key, several keys, or a key function, as the top-level `secret`. */
  secret?: KeyInput | readonly KeyInput[] | KeyFunction<Request>;
  /** A JWK Set in memory or at a URL, as the top-level `jwks` (with `discovery`, only its timing). */
  jwks?: LocalJwks | RemoteJwks | RemoteJwksTiming;
  /** Find the issuer's `jwks_uri` in its metadata (the issuer is the key of this entry). */
  discovery?: boolean;
  /** This issuer's allowlist. Default: the top-level `algorithms`, else what its keys can verify. */
  algorithms?: readonly string[];
}

/**
 * Returns the verification key, or several, for one token: for key rotation schemes of your own,
 * or to choose keys by tenant (the request's `Host`, a path prefix). `undefined`, `null` or
 * anything that is not a key means no key matches the token (401 `invalid_signature`). Several
 * keys are tried as a `secret` array is; HMAC secrets and public keys in one answer are a
 * `TypeError` on the framework's error path. It runs for every request that carries a token, so
 * keep it cheap (a lookup, or a cache of your own).
 *
 * @typeParam Request - the framework's request object: Express `req`, the Koa context, Fastify
 * `request`, the Hono context.
 */
export type KeyFunction<Request = unknown> = (header: JWSHeaderParameters, token: string, request: Request) => KeyAnswer | Promise<KeyAnswer>;

/** What a {@link KeyFunction} returns: a key, several keys, or no key. */
export type KeyAnswer = KeyInput | readonly KeyInput[] | null | undefined;

/**
 * Chooses the trusted issuers per request (multi-tenant: by host or tenant): given a token's
 * `iss` and the framework request, returns that issuer's keys, or `undefined` when this request
 * does not trust it (401 `claim_invalid`, before any key is fetched). The keys built for an `iss`
 * are kept (at most 1000 issuers, the least recently used forgotten first) and reused while it
 * returns the same keys, so a remote JWK Set is fetched once, not on every request.
 *
 * @typeParam Request - the framework's request object, as for {@link KeyFunction}.
 */
export type IssuerResolver<Request = unknown> = (
  iss: string,
  request: Request,
) => IssuerKeys<Request> | null | undefined | Promise<IssuerKeys<Request> | null | undefined>;

/** A JWK Set held in memory; the key is chosen by `kid` (and `alg`/`kty`). */
export interface LocalJwks {
  /** The keys (RFC 7517 §5 `keys`). */
  keys: JWK[];
}

/** A JWK Set fetched from a URL and cached (see {@link RemoteJwksTiming} for the timing). */
export interface RemoteJwks extends RemoteJwksTiming {
  /** `https://` URL of the JWK Set (for example `https://TENANT/.well-known/jwks.json`). */
  uri: string | URL;
}

/**
 * Options of `jwtAuth()` in every adapter and of {@link createAuthenticator}. Give exactly one of
 * `secret` and `jwks`.
 *
 * @typeParam Payload - the claims your tokens carry.
 * @typeParam User - what `resolveUser` returns (the payload when it is not set).
 * @typeParam Request - the framework's request object, passed to `getToken`, `resolveUser`, a
 * `secret` function and an `issuers` function.
 */
export interface JwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload, Request = unknown> {
  /**
   * The verification key: an HMAC secret (string or bytes), a public key (PEM SPKI string or
   * certificate, JWK, `KeyObject`, `CryptoKey`), several keys (key rotation: an array, tried by
   * `kid` when the token and the keys have one, else in turn; HMAC secrets and public keys may
   * not be mixed), or a function `(header, token, request) => key or keys`.
   * Required unless `jwks`, `discovery` or `issuers` is given.
   */
  secret?: KeyInput | readonly KeyInput[] | KeyFunction<Request>;
  /**
   * A JWK Set: `{ keys: [...] }` in memory, or `{ uri }` to fetch (with its timing). With
   * `discovery`, only the timing. Required unless `secret`, `discovery` or `issuers` is given.
   */
  jwks?: LocalJwks | RemoteJwks | RemoteJwksTiming;
  /**
   * `true` finds the JWK Set through the issuer's metadata
   * (`<issuer>/.well-known/openid-configuration`, then RFC 8414), read once. Needs `issuer` as one
   * URL. Default `false`.
   */
  discovery?: boolean;
  /**
   * Several trusted issuers (multi-tenant), each with its own keys: `{ [iss]: { jwks } | { secret }
   * | { discovery: true } }`, or a function `(iss, request) => keys | undefined` that chooses them
   * per request (by host or tenant). A token whose `iss` is not trusted fails with `claim_invalid`
   * before any key is fetched. Replaces `issuer`, `secret`, `jwks` and `discovery`.
   */
  issuers?: Record<string, IssuerKeys<Request>> | IssuerResolver<Request>;
  /** The `fetch` used for JWK Sets and metadata. Default: the global `fetch`. */
  fetch?: FetchFunction;
  /**
   * Allowed `alg` values. Default: every algorithm the key can verify (HS256/384/512 for an HMAC
   * secret, RS* and PS* for RSA, the curve's ES* for EC, EdDSA for Ed25519). `none` is refused.
   */
  algorithms?: readonly string[];
  /** Expected `iss` (one of, for an array). Default: not checked. */
  issuer?: string | readonly string[];
  /** Expected `aud` (one of, for an array). Default: not checked. */
  audience?: string | readonly string[];
  /** Expected `sub`. Default: not checked. */
  subject?: string;
  /** Expected `typ` header, for example `"at+jwt"` (RFC 9068). Default: not checked. */
  typ?: string;
  /**
   * Leeway on `exp`, `nbf` and `iat`, in seconds or as `"30s"`, for clocks that are not quite in
   * step (an issuer whose clock runs a second ahead sets `iat` and `nbf` a second in the future).
   * Default `5` (seconds).
   */
  clockTolerance?: Duration;
  /** Maximum age measured from `iat` (which becomes required), in seconds or as `"1h"`. Default: not checked. */
  maxTokenAge?: Duration;
  /** Claims that must be present. Default `[]` (plus `exp`, see `requireExp`). */
  requiredClaims?: readonly string[];
  /**
   * Refuse tokens without an `exp` claim (`claim_invalid`), which would otherwise be valid
   * forever. RFC 9068 §2.2 requires `exp` in access tokens. `false` accepts them; pair it with
   * `maxTokenAge` or revocation. Default `true`.
   */
  requireExp?: boolean;
  /** `false` lets requests without a token through unauthenticated; a bad token still fails. Default `true`. */
  credentialsRequired?: boolean;
  /** Where tokens are read. Default `{ header: true }`: the `Authorization` header only. */
  tokenFrom?: TokenFrom;
  /** Reads the token yourself; replaces `tokenFrom`. Return `undefined` for no token. */
  // Method syntax on purpose: options typed with a narrower Payload stay assignable to the default.
  getToken?(request: Request): string | null | undefined | Promise<string | null | undefined>;
  /**
   * Returns `true` for a revoked token, which then fails with `token_revoked`. Throw
   * `StoreUnavailable` when the store behind it cannot answer: the request is answered
   * `503 store_unavailable`; anything else thrown goes to the framework's error path.
   */
  isRevoked?(payload: Payload, header: JWSHeaderParameters): boolean | Promise<boolean>;
  /** Loads the user of a verified token; `null` fails with `user_not_found`. Default: the user is the payload. */
  resolveUser?(payload: Payload, request: Request): User | null | undefined | Promise<User | null | undefined>;
  /**
   * Requests that skip authentication entirely (no token is read; they go on unauthenticated):
   * `{ path, method, custom }` as express-unless has it, or a predicate `(request) => boolean`.
   * Paths are matched on the canonical path of the full request URL (Express `req.originalUrl`,
   * before a mount removed its prefix): exact, case-sensitive, query ignored, no trailing-slash
   * folding; a path that is not canonical (`..`, `%2e`, `%61`, `%2F`, `;`, `\`) is never skipped.
   * Default: none.
   */
  unless?: Unless<Request>;
  /**
   * `true` lets every failed request (no token, a bad token, keys or revocation store unavailable)
   * go on unauthenticated instead of being answered; the reason is attached as `authError`.
   * Hooks that throw still go to the error path, `onEvent` still hears the failure, and guards
   * answer such a request `401 missing_token`. Default `false`.
   */
  passthrough?: boolean;
  /**
   * Your own client-facing description per error code, in the body and the challenge; the `code`
   * stays. Printable ASCII. Default: the built-in descriptions.
   */
  messages?: Partial<Record<AuthErrorCode, string>>;
  /**
   * The claim scopes are read from, or several in order of preference: the first one the token
   * has is read, as a space-separated string or an array of strings; another type fails with
   * `claim_invalid`. Default `["scope", "scp"]` (RFC 9068, then Okta and Azure AD); Auth0 RBAC
   * puts permissions in `"permissions"`.
   */
  scopeClaim?: string | readonly string[];
  /** `realm` of the `WWW-Authenticate` challenge. Default: none. */
  realm?: string;
  /**
   * This API as an OAuth protected resource (RFC 9728): its `resource` URL becomes the audience
   * every token must name (RFC 8707; `audience` may then not be given), and every challenge
   * carries `resource_metadata="<its metadata URL>"` (§5.1), so that a client that got a 401
   * finds the authorization server by itself. Serve the metadata with the adapter's
   * `protectedResourceMetadata()`. Default: none.
   */
  resource?: ProtectedResourceOptions;
  /**
   * Sender-constrained tokens (RFC 9449): accept `Authorization: DPoP <token>` with a `DPoP` proof
   * of the key the token is bound to (`cnf.jkt`), alongside Bearer tokens (`mode: 'allowed'`) or
   * instead of them (`mode: 'required'`). A bound token sent as Bearer is always refused.
   */
  dpop?: DpopOptions;
  /**
   * `true` sends failures down the framework's error path as an `AuthError` (Express `next(err)`,
   * Koa throw, Fastify error handler, Hono `onError`) instead of answering them. Default `false`.
   */
  forwardErrors?: boolean;
  /** The clock, for tests. Default: `() => new Date()`. */
  currentDate?: () => Date;
  /**
   * Verified-token cache: a token seen again within `ttl` seconds skips signature and claim
   * checks (never past its `exp`); `isRevoked` and `resolveUser` still run every time. `false`
   * turns it off. Default `{ max: 1000, ttl: 60 }`.
   */
  cache?: false | TokenCacheOptions;
  /**
   * Told about every refused request (`auth.failed`: code, reason, the token's `alg`, `kid`,
   * `iss`) and every key-set fetch (`jwks.fetch`, `jwks.stale`, `jwks.rotated`), for logs and
   * metrics. Never receives the token or key material. What it throws is ignored: it cannot
   * change an answer. Default: none.
   */
  onEvent?(event: AuthEvent): void;
}
