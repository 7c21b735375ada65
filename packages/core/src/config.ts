import type { JWTPayload } from 'jose';
import { SUPPORTED_ALGORITHMS } from './keys/algorithms.js';
import { isChallengeSafe, isDescriptionSafe } from './http/challenge.js';
import { toSeconds } from './duration.js';
import { isAuthErrorCode, type AuthErrorCode } from './errors.js';
import { createEmitter, type Emit } from './events.js';
import { createIssuerFinder } from './jwks/issuer-finder.js';
import { keySourceFrom, type KeySource, type TrustedIssuer } from './keys/key-source.js';
import { revocationGraceOf } from './revocation-store.js';
import { TokenCache } from './jwt/token-cache.js';
import type { IssuerKeys, IssuerResolver, JwtAuthOptions } from './options.js';
import { DEFAULT_SCOPE_CLAIMS } from './scopes.js';
import type { TokenSources } from './http/token-source.js';
import { compileUnless, type UnlessCheck } from './http/unless.js';
import { protectedResourceFrom, type ProtectedResource } from './http/protected-resource.js';
import { dpopFrom, type DpopConfig } from './dpop/config.js';

export type { KeySource } from './keys/key-source.js';

/** The part of the configuration that verifying a token needs. */
export type VerifyConfig = Pick<
  AuthConfig<JWTPayload, unknown, unknown>,
  'keySource' | 'algorithms' | 'issuer' | 'audience' | 'subject' | 'typ' | 'clockTolerance' | 'maxTokenAge' | 'requiredClaims' | 'currentDate' | 'cache'
> &
  // With no event hook, a refusal does not collect what the token claimed.
  Partial<Pick<AuthConfig<JWTPayload, unknown, unknown>, 'emit'>>;

/** Options checked and normalised once, when the middleware is created. */
export interface AuthConfig<Payload extends JWTPayload, User, Request> {
  keySource: KeySource;
  algorithms: readonly string[];
  issuer: string | string[] | undefined;
  audience: string | string[] | undefined;
  subject: string | undefined;
  typ: string | undefined;
  clockTolerance: number;
  maxTokenAge: number | undefined;
  requiredClaims: string[];
  credentialsRequired: boolean;
  tokenFrom: TokenSources;
  getToken: JwtAuthOptions<Payload, User, Request>['getToken'];
  isRevoked: JwtAuthOptions<Payload, User, Request>['isRevoked'];
  resolveUser: JwtAuthOptions<Payload, User, Request>['resolveUser'];
  realm: string | undefined;
  /** The `resource` option, checked: its metadata and the challenges' `resource_metadata`. */
  protectedResource: ProtectedResource | undefined;
  /** The `dpop` option, checked; `undefined` when DPoP is off. */
  dpop: DpopConfig | undefined;
  forwardErrors: boolean;
  /** Decides whether a request skips authentication; undefined without `unless`. */
  unless: UnlessCheck<Request> | undefined;
  passthrough: boolean;
  /** Descriptions that replace the built-in ones, by code. */
  messages: Messages;
  /** The claims scopes are read from. */
  scopeClaims: readonly string[];
  currentDate: () => Date;
  /** Verified tokens kept for reuse; undefined when `cache: false`. */
  cache: TokenCache | undefined;
  /** The `onEvent` hook, made safe; undefined when none is set. */
  emit: Emit | undefined;
}

const KNOWN_OPTIONS = new Set([
  'secret',
  'jwks',
  'algorithms',
  'issuer',
  'audience',
  'subject',
  'typ',
  'clockTolerance',
  'maxTokenAge',
  'requiredClaims',
  'credentialsRequired',
  'tokenFrom',
  'getToken',
  'isRevoked',
  'resolveUser',
  'realm',
  'forwardErrors',
  'currentDate',
  'discovery',
  'issuers',
  'fetch',
  'cache',
  'onEvent',
  'requireExp',
  'unless',
  'passthrough',
  'messages',
  'scopeClaim',
  'resource',
  'dpop',
]);
const ISSUER_OPTIONS = new Set(['secret', 'jwks', 'discovery', 'algorithms']);
/** Option names of other JWT middleware (express-jwt, passport-jwt, jwks-rsa, …), and ours for them. */
const MEANT: ReadonlyMap<string, string> = new Map([
  ['algorithm', '"algorithms" (an array)'],
  ['tokenSigningAlg', '"algorithms" (an array)'],
  ['secretOrKey', '"secret"'],
  ['secretOrPublicKey', '"secret"'],
  ['publicKey', '"secret"'],
  ['key', '"secret"'],
  ['jwksUri', 'jwks: { uri }'],
  ['jwksUrl', 'jwks: { uri }'],
  ['jwks_uri', 'jwks: { uri }'],
  ['issuerBaseURL', '"issuer" with discovery: true'],
  ['jwtFromRequest', '"getToken" (or "tokenFrom")'],
  ['scopeClaims', '"scopeClaim"'],
]);

/** @fastify/jwt's `messages` keys, and the codes that replace them. */
const FASTIFY_JWT_MESSAGES: ReadonlyMap<string, string> = new Map([
  ['badRequestErrorMessage', 'malformed_header'],
  ['badCookieRequestErrorMessage', 'malformed_token'],
  ['noAuthorizationInHeaderMessage', 'missing_token'],
  ['noAuthorizationInCookieMessage', 'missing_token'],
  ['authorizationTokenExpiredMessage', 'token_expired'],
  ['authorizationTokenInvalid', 'malformed_token, invalid_signature or claim_invalid'],
  ['authorizationTokenUntrusted', 'claim_invalid'],
  ['authorizationTokenUnsigned', 'algorithm_not_allowed'],
]);

/** Client-facing descriptions by code (the `messages` option, checked). */
export type Messages = Readonly<Partial<Record<AuthErrorCode, string>>>;

/** Seconds of leeway on `exp`, `nbf` and `iat` by default: real issuers' clocks drift a little. */
export const DEFAULT_CLOCK_TOLERANCE = 5;

function fail(message: string): never {
  throw new TypeError(`jwtAuth: ${message}`);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' && item !== '');
}

function optionalFunction<T>(name: string, value: T): T {
  if (value !== undefined && typeof value !== 'function') fail(`"${name}" must be a function.`);
  return value;
}

function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`"${name}" must be true or false.`);
  return value;
}

function stringOrList(name: string, value: unknown): string | string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  if (isStringList(value) && value.length > 0) return [...value];
  return fail(`"${name}" must be a non-empty string or an array of them.`);
}

function checkAlgorithms(value: unknown, name = 'algorithms', failWith: (message: string) => never = fail): string[] | undefined {
  if (value === undefined) return undefined;
  if (!isStringList(value) || value.length === 0) failWith(`"${name}" must be a non-empty array of algorithm names.`);
  for (const alg of value) {
    if (alg.toLowerCase() === 'none') failWith('"none" can never be allowed: unsigned tokens are not accepted.');
    if (!SUPPORTED_ALGORITHMS.has(alg)) {
      failWith(`unknown algorithm "${alg}"; use one of ${[...SUPPORTED_ALGORITHMS].join(', ')}.`);
    }
  }
  return [...new Set(value)];
}

/** RFC 9110 `token`: the grammar of header names, cookie names (RFC 6265) and our parameter names. */
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOKEN_FROM_KEYS = new Set(['header', 'cookie', 'query', 'body']);

/**
 * Headers that HTTP itself, proxies or browsers set on requests: reading a token from one would
 * treat every request as carrying a (malformed) token, or trust a value a proxy rewrites.
 */
const STRUCTURAL_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'set-cookie',
  'proxy-authorization',
  'forwarded',
  'via',
  'user-agent',
  'accept',
  'origin',
  'referer',
]);

/** `tokenFrom.header`: `true`/`false`, or the name of the one header that carries the token. */
function tokenHeader(value: unknown): string | undefined {
  if (value === undefined || value === true) return 'authorization';
  if (value === false) return undefined;
  if (typeof value !== 'string' || !TOKEN_NAME.test(value)) {
    return fail('"tokenFrom.header" must be true, false or a header name such as "X-Access-Token".');
  }
  const name = value.toLowerCase();
  if (name === 'cookie') fail('"tokenFrom.header" cannot be "Cookie": use tokenFrom: { cookie: "<name>" } to read a cookie.');
  if (STRUCTURAL_HEADERS.has(name)) {
    fail(
      `"tokenFrom.header" cannot be "${value}": that header describes the request or its connection, so every request has one; name the header your clients send the token in, such as "X-Access-Token".`,
    );
  }
  return name;
}

function tokenCookie(value: unknown): TokenSources['cookie'] {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && TOKEN_NAME.test(value)) return { name: value, signed: false };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { name, signed, ...rest } = value as Record<string, unknown>;
    const unknownKey = Object.keys(rest)[0];
    if (unknownKey !== undefined) fail(`unknown option "tokenFrom.cookie.${unknownKey}"; it takes { name, signed }.`);
    if (typeof name === 'string' && TOKEN_NAME.test(name)) return { name, signed: optionalBoolean('tokenFrom.cookie.signed', signed, false) };
  }
  return fail('"tokenFrom.cookie" must be a cookie name, or { name, signed: true } for a signed cookie.');
}

export function checkTokenFrom(value: unknown): TokenSources {
  if (value === undefined) return { header: 'authorization', cookie: undefined, query: undefined, body: undefined };
  if (typeof value !== 'object' || value === null) return fail('"tokenFrom" must be an object like { header: true, cookie: "name" }.');
  const from = value as Record<string, unknown>;
  for (const key of Object.keys(from)) {
    if (!TOKEN_FROM_KEYS.has(key)) fail(`unknown option "tokenFrom.${key}"; tokenFrom takes header, cookie, query and body.`);
  }
  for (const name of ['query', 'body'] as const) {
    const field = from[name];
    if (field !== undefined && (typeof field !== 'string' || !TOKEN_NAME.test(field))) {
      fail(`"tokenFrom.${name}" must be a parameter name such as "access_token".`);
    }
  }
  const sources: TokenSources = {
    header: tokenHeader(from.header),
    cookie: tokenCookie(from.cookie),
    query: from.query as string | undefined,
    body: from.body as string | undefined,
  };
  if (Object.values(sources).every((source) => source === undefined)) fail('"tokenFrom" enables no location to read tokens from.');
  return sources;
}

function checkMessages(value: unknown): Messages {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('"messages" must map error codes to descriptions, like { token_expired: "Please sign in again" }.');
  const messages: Partial<Record<AuthErrorCode, string>> = {};
  for (const [code, text] of Object.entries(value)) {
    if (!isAuthErrorCode(code)) {
      const meant = FASTIFY_JWT_MESSAGES.get(code);
      fail(`"messages" has an unknown error code "${code}"${meant === undefined ? '.' : `; messages are keyed by error code here: ${meant}.`}`);
    }
    if (typeof text !== 'string' || text === '' || !isDescriptionSafe(text)) {
      fail(
        `"messages.${code}" must be a non-empty string of printable ASCII characters without " and \\ (RFC 6750 §3 error_description): it is sent in the WWW-Authenticate header too.`,
      );
    }
    messages[code] = text;
  }
  return messages;
}

function checkScopeClaim(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_SCOPE_CLAIMS;
  const claims = typeof value === 'string' ? [value] : value;
  if (!isStringList(claims) || claims.length === 0) fail('"scopeClaim" must be a claim name such as "permissions", or a non-empty array of them.');
  return [...new Set(claims)];
}

function duration(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = typeof value === 'number' || typeof value === 'string' ? toSeconds(value) : undefined;
  if (seconds === undefined) fail(`"${name}" must be seconds or a duration such as "30s".`);
  return seconds;
}

function tokenCache(value: unknown): TokenCache | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('"cache" must be false or { max, ttl }.');
  const { max = 1000, ttl = 60 } = (value ?? {}) as { max?: unknown; ttl?: unknown };
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) fail('"cache.max" must be a whole number of tokens, at least 1.');
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) fail('"cache.ttl" must be a number of seconds above 0 (use cache: false to turn it off).');
  return new TokenCache({ max, ttl });
}

function singleIssuer(issuer: unknown): string | undefined {
  return typeof issuer === 'string' ? issuer : undefined;
}

interface IssuerContext {
  requested: string[] | undefined;
  fetch: JwtAuthOptions['fetch'];
  emit: Emit | undefined;
  fail: (message: string) => never;
}

/** One trusted issuer's keys and allowlist; `at` names the entry in messages. */
function trustedIssuer(issuer: string, entry: unknown, at: string, context: IssuerContext): TrustedIssuer {
  if (typeof entry !== 'object' || entry === null) return context.fail(`"${at}" must be an object.`);
  for (const name of Object.keys(entry)) if (!ISSUER_OPTIONS.has(name)) context.fail(`unknown option "${name}" in "${at}".`);
  const keys = entry as IssuerKeys<never>;
  const own = keys.algorithms === undefined ? context.requested : checkAlgorithms(keys.algorithms, `${at}.algorithms`, context.fail);
  const [source, algorithms] = keySourceFrom({ ...keys, algorithms: own }, { at, issuer, fetch: context.fetch, emit: context.emit, fail: context.fail });
  return { source, algorithms };
}

/**
 * `issuers`: each trusted `iss` with its own key source and allowlist, or a function choosing them
 * per request, whose answers are checked when it gives them (a `TypeError` on the error path).
 */
function issuersKeySource(
  options: JwtAuthOptions<JWTPayload, unknown, never>,
  requested: string[] | undefined,
  fetchImpl: JwtAuthOptions['fetch'],
  emit: Emit | undefined,
): [KeySource, readonly string[]] {
  const { issuers } = options;
  if (options.secret !== undefined || options.jwks !== undefined || options.discovery !== undefined || options.issuer !== undefined) {
    fail('with "issuers", give each issuer its own "secret", "jwks" or "discovery", and no top-level "issuer", "secret", "jwks" or "discovery".');
  }
  if (typeof issuers === 'function') {
    const answerFail = (message: string): never => {
      throw new TypeError(`jwtAuth: the "issuers" function returned keys that cannot be used: ${message}`);
    };
    const context: IssuerContext = { requested, fetch: fetchImpl, emit, fail: answerFail };
    const find = createIssuerFinder(issuers as IssuerResolver<unknown>, (iss, entry) => trustedIssuer(iss, entry, 'issuers()', context));
    return [{ kind: 'issuer-function', find }, requested ?? [...SUPPORTED_ALGORITHMS]];
  }
  if (typeof issuers !== 'object' || issuers === null || Array.isArray(issuers) || Object.keys(issuers).length === 0) {
    fail('"issuers" must map each trusted issuer to { secret }, { jwks } or { discovery: true }, or be a function (iss, request) => such keys.');
  }
  const byIssuer = new Map<string, TrustedIssuer>();
  const union = new Set<string>();
  const context: IssuerContext = { requested, fetch: fetchImpl, emit, fail };
  for (const [issuer, entry] of Object.entries(issuers)) {
    const trusted = trustedIssuer(issuer, entry, `issuers[${JSON.stringify(issuer)}]`, context);
    byIssuer.set(issuer, trusted);
    for (const alg of trusted.algorithms) union.add(alg);
  }
  const perRequest = [...byIssuer.values()].some((trusted) => trusted.source.kind === 'function');
  return [{ kind: 'issuers', byIssuer, dependsOnRequest: perRequest }, [...union]];
}

/** Checks every option once and throws a `TypeError` that says what to fix. */
export function resolveConfig<Payload extends JWTPayload, User, Request>(options: JwtAuthOptions<Payload, User, Request>): AuthConfig<Payload, User, Request> {
  if (typeof options !== 'object' || options === null) fail('options are required: { secret }, { jwks }, { issuer, discovery: true } or { issuers }.');
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) fail(`unknown option "${name}"${MEANT.has(name) ? `; did you mean ${MEANT.get(name)}?` : '.'}`);
  }
  const requested = checkAlgorithms(options.algorithms);
  const fetchImpl = optionalFunction('fetch', options.fetch);
  const emit = createEmitter(optionalFunction('onEvent', options.onEvent));
  const [keySource, algorithms] =
    options.issuers === undefined
      ? keySourceFrom({ ...options, algorithms: requested }, { at: '', issuer: singleIssuer(options.issuer), fetch: fetchImpl, emit, fail })
      : issuersKeySource(options, requested, fetchImpl, emit);
  if (options.subject !== undefined && (typeof options.subject !== 'string' || options.subject === '')) fail('"subject" must be a non-empty string.');
  if (options.typ !== undefined && (typeof options.typ !== 'string' || options.typ === '')) fail('"typ" must be a non-empty string such as "at+jwt".');
  if (options.requiredClaims !== undefined && !isStringList(options.requiredClaims)) fail('"requiredClaims" must be an array of claim names.');
  if (options.realm !== undefined && (typeof options.realm !== 'string' || !isChallengeSafe(options.realm))) {
    fail('"realm" must be a string of printable ASCII characters.');
  }
  if (options.getToken !== undefined && options.tokenFrom !== undefined) fail('give "getToken" or "tokenFrom", not both: getToken replaces tokenFrom.');
  const clockTolerance = duration('clockTolerance', options.clockTolerance) ?? DEFAULT_CLOCK_TOLERANCE;
  const grace = revocationGraceOf(options.isRevoked);
  if (grace !== undefined && clockTolerance > grace) {
    fail(
      `"clockTolerance" (${clockTolerance} s) is longer than the token issuer's revocation grace (${grace} s): a revoked token ` +
        `would be accepted again once its revocation is forgotten. Lower clockTolerance, or create the issuer with revocationGrace: ${clockTolerance}.`,
    );
  }
  const tokenFrom = checkTokenFrom(options.tokenFrom);
  const dpop = dpopFrom(options.dpop, (options.resource as { resource?: unknown } | undefined)?.resource as string | undefined, fail);
  const protectedResource = options.resource === undefined ? undefined : protectedResourceFrom(options.resource, tokenFrom, fail, dpop);
  // RFC 8707 / RFC 9728: a token is for this resource only if its aud names it, and nothing else
  // may stand in for it.
  if (protectedResource !== undefined && options.audience !== undefined) {
    fail(`give "resource" or "audience", not both: "resource" makes its URL the audience every token must name ("${protectedResource.resource}").`);
  }
  const requiredClaims = [...(options.requiredClaims ?? [])];
  if (optionalBoolean('requireExp', options.requireExp, true) && !requiredClaims.includes('exp')) requiredClaims.push('exp');
  return {
    keySource,
    algorithms,
    issuer: stringOrList('issuer', options.issuer),
    audience: protectedResource === undefined ? stringOrList('audience', options.audience) : protectedResource.resource,
    subject: options.subject,
    typ: options.typ,
    clockTolerance,
    maxTokenAge: duration('maxTokenAge', options.maxTokenAge),
    requiredClaims,
    credentialsRequired: optionalBoolean('credentialsRequired', options.credentialsRequired, true),
    tokenFrom,
    getToken: optionalFunction('getToken', options.getToken),
    isRevoked: optionalFunction('isRevoked', options.isRevoked),
    resolveUser: optionalFunction('resolveUser', options.resolveUser),
    realm: options.realm,
    protectedResource,
    dpop,
    forwardErrors: optionalBoolean('forwardErrors', options.forwardErrors, false),
    unless: compileUnless<Request>(options.unless, fail),
    passthrough: optionalBoolean('passthrough', options.passthrough, false),
    messages: checkMessages(options.messages),
    scopeClaims: checkScopeClaim(options.scopeClaim),
    currentDate: optionalFunction('currentDate', options.currentDate) ?? (() => new Date()),
    cache: tokenCache(options.cache),
    emit,
  };
}
