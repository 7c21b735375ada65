import { internals, type Duration, type EndpointAnswer, type JsonValue } from '@jwtauth/core';
import { clearRefreshCookie, type RefreshCookieOptions } from '../issuer/cookies.js';
import type { TokenIssuer } from '../issuer/options.js';
import { metadataOf, type Metadata } from './publish.js';
import { createLoginThrottle, type LoginThrottle, type ThrottleOptions } from './throttle.js';
import { resolveAuthorization, type AuthorizationOptions, type ResolvedAuthorization } from './authorization-options.js';

/** Who a username and password belong to: the token's `sub`, and claims for its tokens (`scope`, roles…). */
export interface VerifiedUser {
  /** The `sub` claim of the tokens: a stable, non-empty user id. */
  subject: string;
  /** Claims the tokens carry besides the issuer's own (`iss`, `sub`, `exp`… are refused). */
  claims?: Record<string, unknown>;
}

/**
 * Checks a username and password against the app's own user store: the user, or `null` /
 * `undefined` when they do not match. Should take as long for an unknown username as for a wrong
 * password (hash against a dummy), so the answer time does not tell which usernames exist. An
 * error it throws is not a failed login: `handle()` rejects with it, for the framework's error path.
 */
export type VerifyCredentials<Request> = (
  username: string,
  password: string,
  request: Request,
) => VerifiedUser | null | undefined | Promise<VerifiedUser | null | undefined>;

/** The bound on concurrent password checks (`hashing` of `createTokenEndpoints`). */
export interface HashingOptions {
  /**
   * How many `verifyCredentials` calls may run at once. Password hashes (scrypt, bcrypt, argon2)
   * run on the thread pool that Web Crypto and `node:crypto` share; keep this below its size (4
   * by default in Node) so token verification always finds a thread. Default `1`.
   */
  concurrency?: number;
  /** How many logins may wait for a slot; beyond them a login answers 503 `login_busy`. Default `100`. */
  queue?: number;
}

/**
 * DPoP (RFC 9449) at the token endpoints: a login or refresh that carries a `DPoP` proof gets
 * tokens bound to the proof's key (`cnf.jkt`, `token_type: "DPoP"`).
 */
export interface TokenEndpointsDpopOptions {
  /**
   * Algorithms a proof may be signed with: asymmetric only. Default `ES256`, `ES384`, `ES512`,
   * `PS256`, `PS384`, `PS512`, `RS256`, `RS384`, `RS512` and `EdDSA`. Published as the metadata's
   * `dpop_signing_alg_values_supported`.
   */
  algorithms?: readonly string[];
  /** How far a proof's `iat` may be from now, either way. Default `"60s"`. */
  iatWindow?: Duration;
  /** A login or refresh without a proof is refused (`400 invalid_dpop_proof`): only bound tokens are issued. Default `false`. */
  required?: boolean;
  /**
   * The public origin (`https://auth.example`) a proof's `htu` is checked against, with the
   * request's path, when the framework does not see it (a proxy it does not trust). Default:
   * `publicUrl` when set, else the request's URL as the adapter gives it.
   */
  origin?: string;
}

/** Options of {@link createTokenEndpoints}. */
export interface TokenEndpointsOptions<Request = unknown> {
  /** The token issuer (`createTokenIssuer()` of `@jwtauth/core`) that issues, refreshes, verifies and revokes. */
  issuer: TokenIssuer;
  /** The user store's check of a username and password. Required. */
  verifyCredentials: VerifyCredentials<Request>;
  /**
   * The refresh cookie (`"refresh_in": "cookie"`): its name, path and `Secure`, as `refreshCookie()`
   * of `@jwtauth/core` takes them. `path` must be where the endpoints are mounted (the cookie is
   * sent there only). `false` turns cookie mode off: the cookie is neither set nor read.
   * Default `{}`: `refresh_token`, `Path=/api/token`, `HttpOnly; Secure; SameSite=Strict`.
   */
  refreshCookie?: RefreshCookieOptions | false;
  /** Login throttling per username and per client address; `false` turns it off. Default: on, in memory. */
  throttle?: ThrottleOptions | false;
  /** The bound on concurrent password checks. Default `{ concurrency: 1, queue: 100 }`. */
  hashing?: HashingOptions;
  /**
   * The public URL of the mount point (`https://auth.example/auth` for endpoints mounted at
   * `/auth`), as clients reach it through your proxies. It turns on the RFC 8414 metadata
   * (`metadataPath`, `metadata()`): its `jwks_uri`, `token_endpoint` and `revocation_endpoint`
   * are built from it, never from a request's `Host` header. Needs an issuer that signs with a
   * private key and whose `issuer` is an https URL (http only on loopback). Default: no metadata
   * (the JWK Set is served all the same).
   */
  publicUrl?: string;
  /**
   * DPoP-bound tokens (RFC 9449 §5): a login or refresh with one valid `DPoP` proof header gets
   * an access token bound to the proof's key (`cnf.jkt`, `token_type: "DPoP"`), and a login's
   * refresh token is bound too, so that its refreshes need a proof of the same key. Without this
   * option `DPoP` headers are ignored and every token is a Bearer token. Default: off.
   */
  dpop?: TokenEndpointsDpopOptions;
  /**
   * The authorization code grant with PKCE (OAuth 2.1, RFC 7636) for public clients such as MCP
   * clients and browser apps: `GET`/`POST <mount>/authorize` and `grant_type=authorization_code`
   * at `<mount>/token`. Needs an issuer with an `issuer` URL and a store with `markUsed`. Default: off.
   */
  authorization?: AuthorizationOptions;
}

/** The `dpop` option, checked. */
export interface ResolvedDpop {
  algorithms: readonly string[];
  iatWindow: number;
  required: boolean;
  origin: string | undefined;
}

/**
 * The RFC 8414 metadata of the token endpoints (with `publicUrl`), for verifiers that find the
 * issuer's keys with `discovery`. RFC 8414 §3 puts it at the issuer's origin, with the
 * well-known segment before the issuer's path: outside a mount point such as `/auth`, so you
 * route it yourself (`app.get(endpoints.metadataPath, …)` sending `endpoints.metadata()`). A
 * mount at the root of the issuer's origin answers it too.
 */
export interface IssuerMetadata {
  /**
   * Where the metadata must be served on the issuer's origin: `/.well-known/oauth-authorization-server`
   * followed by the issuer's path (`…/auth` for issuer `https://auth.example/auth`, nothing for `https://auth.example`).
   */
  readonly metadataPath: string;
  /**
   * The answer to `GET` (and `HEAD`) at `metadataPath`: 200, `Content-Type: application/json`,
   * `Cache-Control: public, max-age=300`, and `{ issuer, jwks_uri, token_endpoint, revocation_endpoint, … }`.
   */
  metadata(): JsonEndpointAnswer;
}

/** An {@link EndpointAnswer} whose body is a JSON object (never a string): the published documents. */
export type JsonEndpointAnswer = Omit<EndpointAnswer, 'body'> & {
  /** The JSON body. */
  body: { [name: string]: JsonValue | undefined };
};

/** The options, checked, with defaults filled in. */
export interface ResolvedOptions<Request> {
  issuer: TokenIssuer;
  verifyCredentials: VerifyCredentials<Request>;
  cookie: RefreshCookieOptions | undefined;
  throttle: LoginThrottle | undefined;
  concurrency: number;
  queue: number;
  metadata: Metadata | undefined;
  /** `publicUrl` without a trailing slash, when set. */
  publicBase: string | undefined;
  dpop: ResolvedDpop | undefined;
  authorization: ResolvedAuthorization | undefined;
}

const DPOP_OPTIONS = new Set(['algorithms', 'iatWindow', 'required', 'origin']);

/** Checks the `dpop` option; algorithms, window and origin as `jwtAuth`'s `dpop` checks them. */
function dpopOf(value: unknown): ResolvedDpop | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) fail('"dpop" must be an object such as {} or { required: true }.');
  const given = value as TokenEndpointsDpopOptions & Record<string, unknown>;
  for (const name of Object.keys(given)) if (!DPOP_OPTIONS.has(name)) fail(`unknown option "dpop.${name}".`);
  const { algorithms, iatWindow } = internals.proofOptions(given, fail);
  if (given.required !== undefined && typeof given.required !== 'boolean') fail('"dpop.required" must be true or false.');
  const origin = given.origin === undefined ? undefined : internals.proofOrigin(given.origin, fail);
  return { algorithms, iatWindow, required: given.required ?? false, origin };
}

function fail(message: string): never {
  throw new TypeError(`createTokenEndpoints: ${message}`);
}

function count(name: string, value: number | undefined, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < least) fail(`"hashing.${name}" must be a whole number, at least ${least}.`);
  return value;
}

/** Checks the options once, at creation: a mistake is a `TypeError` that says what to fix. */
export function resolveOptions<Request>(options: TokenEndpointsOptions<Request>): ResolvedOptions<Request> {
  if (typeof options !== 'object' || options === null) fail('options are required: { issuer, verifyCredentials }.');
  const { issuer } = options;
  const methods = ['issue', 'refresh', 'verify', 'revoke'] as const;
  if (typeof issuer !== 'object' || issuer === null || methods.some((name) => typeof issuer[name] !== 'function')) {
    fail('"issuer" must be a token issuer made by createTokenIssuer() of @jwtauth/core.');
  }
  if (typeof options.verifyCredentials !== 'function') {
    fail('"verifyCredentials" must be a function (username, password, request) => { subject, claims? } | null.');
  }
  let cookie: RefreshCookieOptions | undefined;
  if (options.refreshCookie !== false) {
    cookie = options.refreshCookie ?? {};
    if (typeof cookie !== 'object' || cookie === null) fail('"refreshCookie" must be { name?, path?, secure? } or false.');
    try {
      // Builds one cookie now, so that a bad name or path fails here rather than at the first login.
      clearRefreshCookie(cookie);
    } catch (error) {
      fail(`"refreshCookie": ${(error as Error).message.replace(/^refreshCookie: /, '')}`);
    }
  }
  const hashing = options.hashing ?? {};
  if (typeof hashing !== 'object' || hashing === null) fail('"hashing" must be { concurrency?, queue? }.');
  const dpop = dpopOf(options.dpop);
  let metadata = options.publicUrl === undefined ? undefined : metadataOf(options.publicUrl, issuer, fail, options.authorization !== undefined);
  if (metadata !== undefined && dpop !== undefined) {
    // RFC 9449 §5.1: the authorization server's metadata names the proof algorithms it accepts.
    metadata = { ...metadata, document: { ...metadata.document, dpop_signing_alg_values_supported: [...dpop.algorithms] } };
  }
  return {
    issuer,
    verifyCredentials: options.verifyCredentials,
    cookie,
    throttle: createLoginThrottle(options.throttle),
    concurrency: count('concurrency', hashing.concurrency, 1, 1),
    queue: count('queue', hashing.queue, 100, 0),
    metadata,
    publicBase: metadata === undefined ? undefined : new URL(options.publicUrl!).href.replace(/\/$/, ''),
    dpop,
    authorization: options.authorization === undefined ? undefined : resolveAuthorization(options.authorization, issuer, fail),
  };
}
