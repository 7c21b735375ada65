import { createLocalJWKSet, createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { SUPPORTED_ALGORITHMS } from './algorithms.js';
import { isChallengeSafe } from './challenge.js';
import { toSeconds } from './duration.js';
import { jwkAlgorithms, prepareKey, type PreparedKey } from './keys.js';
import type { JwtAuthOptions, KeyFunction, LocalJwks, RemoteJwks } from './options.js';
import type { TokenFrom } from './token-source.js';

/** How the verification key is found for a token. */
export type KeySource =
  | { kind: 'static'; key: PreparedKey }
  | { kind: 'function'; resolve: KeyFunction }
  | { kind: 'jwks'; remote: boolean; resolve: JWTVerifyGetKey };

/** The part of the configuration that verifying a token needs. */
export type VerifyConfig = Pick<
  AuthConfig<JWTPayload, unknown, unknown>,
  'keySource' | 'algorithms' | 'issuer' | 'audience' | 'subject' | 'typ' | 'clockTolerance' | 'maxTokenAge' | 'requiredClaims' | 'currentDate'
>;

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
  tokenFrom: TokenFrom & { header: boolean };
  getToken: JwtAuthOptions<Payload, User, Request>['getToken'];
  isRevoked: JwtAuthOptions<Payload, User, Request>['isRevoked'];
  resolveUser: JwtAuthOptions<Payload, User, Request>['resolveUser'];
  realm: string | undefined;
  forwardErrors: boolean;
  currentDate: () => Date;
}

/** JWK Sets publish public keys only, so HMAC algorithms never apply to them. */
const ASYMMETRIC_ALGORITHMS = [...SUPPORTED_ALGORITHMS].filter((alg) => !alg.startsWith('HS'));

const KNOWN_OPTIONS = new Set([
  'secret', 'jwks', 'algorithms', 'issuer', 'audience', 'subject', 'typ', 'clockTolerance',
  'maxTokenAge', 'requiredClaims', 'credentialsRequired', 'tokenFrom', 'getToken', 'isRevoked',
  'resolveUser', 'realm', 'forwardErrors', 'currentDate',
]);

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

function checkAlgorithms(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!isStringList(value) || value.length === 0) fail('"algorithms" must be a non-empty array of algorithm names.');
  for (const alg of value) {
    if (alg.toLowerCase() === 'none') fail('"none" can never be allowed: unsigned tokens are not accepted.');
    if (!SUPPORTED_ALGORITHMS.has(alg)) {
      fail(`unknown algorithm "${alg}"; use one of ${[...SUPPORTED_ALGORITHMS].join(', ')}.`);
    }
  }
  return [...new Set(value)];
}

/** The requested allowlist narrowed to what the key can verify; asking for more is a mistake. */
function narrow(requested: string[] | undefined, usable: readonly string[], what: string): string[] {
  if (requested === undefined) return [...usable];
  const unusable = requested.filter((alg) => !usable.includes(alg));
  if (unusable.length > 0) {
    const hint = unusable.some((alg) => alg.startsWith('HS')) && usable.some((alg) => alg.startsWith('HS'))
      ? 'An HMAC secret must be at least as long as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512.'
      : 'Mixing key types would allow algorithm confusion.';
    fail(`${what} cannot verify ${unusable.join(', ')}; it can verify ${usable.join(', ') || 'nothing'}. ${hint}`);
  }
  return requested;
}

function isRemote(jwks: LocalJwks | RemoteJwks): jwks is RemoteJwks {
  return 'uri' in jwks && !('keys' in jwks);
}

function positiveMs(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`"jwks.${name}" must be milliseconds (a number >= 0).`);
  return value;
}

function keySourceFrom(options: JwtAuthOptions<JWTPayload, unknown, unknown>, requested: string[] | undefined): [KeySource, readonly string[]] {
  const { secret, jwks } = options;
  if ((secret === undefined) === (jwks === undefined)) fail('give exactly one of "secret" and "jwks".');
  if (typeof secret === 'function') {
    return [{ kind: 'function', resolve: secret as KeyFunction }, requested ?? [...SUPPORTED_ALGORITHMS]];
  }
  if (secret !== undefined) {
    const key = prepareKey(secret);
    if (typeof key === 'string') fail(`"secret": ${key}.`);
    return [{ kind: 'static', key }, narrow(requested, key.algorithms, 'This key')];
  }
  if (typeof jwks !== 'object' || jwks === null) return fail('"jwks" must be { keys: [...] } or { uri }.');
  if (isRemote(jwks)) {
    let url: URL;
    try {
      url = new URL(jwks.uri);
    } catch {
      return fail('"jwks.uri" is not a valid URL.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('"jwks.uri" must be an https:// URL.');
    const remoteOptions = {
      cooldownDuration: positiveMs('cooldownDuration', jwks.cooldownDuration),
      cacheMaxAge: positiveMs('cacheMaxAge', jwks.cacheMaxAge),
      timeoutDuration: positiveMs('timeoutDuration', jwks.timeoutDuration),
    };
    const resolve = createRemoteJWKSet(url, Object.fromEntries(Object.entries(remoteOptions).filter(([, v]) => v !== undefined)));
    return [{ kind: 'jwks', remote: true, resolve }, narrow(requested, ASYMMETRIC_ALGORITHMS, 'A JWK Set')];
  }
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) fail('"jwks.keys" must be a non-empty array of JWKs.');
  const usable = new Set<string>();
  for (const jwk of jwks.keys) {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') fail('every entry of "jwks.keys" must be a JWK.');
    // jose refuses symmetric keys in JWK Sets, and a shared secret has no business in a published set.
    if (jwk.kty === 'oct') fail('"jwks.keys" holds a symmetric (oct) key; pass an HMAC secret as "secret" instead.');
    // Keys for other uses (`use: "enc"`) are skipped, as jose's key selection skips them.
    if (jwkAlgorithms(jwk).length === 0) continue;
    const key = prepareKey(jwk);
    if (typeof key === 'string') fail(`a key in "jwks.keys" is unusable: ${key}.`);
    for (const alg of key.algorithms) usable.add(alg);
  }
  if (usable.size === 0) fail('no key in "jwks.keys" can verify signatures.');
  const resolve = createLocalJWKSet({ keys: jwks.keys });
  return [{ kind: 'jwks', remote: false, resolve }, narrow(requested, [...usable], 'This JWK Set')];
}

function checkTokenFrom(value: unknown): TokenFrom & { header: boolean } {
  if (value === undefined) return { header: true };
  if (typeof value !== 'object' || value === null) return fail('"tokenFrom" must be an object like { header: true, cookie: "name" }.');
  const from = value as TokenFrom;
  const header = optionalBoolean('tokenFrom.header', from.header, true);
  for (const name of ['cookie', 'query'] as const) {
    const field = from[name];
    if (field !== undefined && (typeof field !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(field))) {
      fail(`"tokenFrom.${name}" must be a ${name} name.`);
    }
  }
  if (!header && from.cookie === undefined && from.query === undefined) fail('"tokenFrom" enables no location to read tokens from.');
  return { header, cookie: from.cookie, query: from.query };
}

function duration(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = typeof value === 'number' || typeof value === 'string' ? toSeconds(value) : undefined;
  if (seconds === undefined) fail(`"${name}" must be seconds or a duration such as "30s".`);
  return seconds;
}

/** Checks every option once and throws a `TypeError` that says what to fix. */
export function resolveConfig<Payload extends JWTPayload, User, Request>(
  options: JwtAuthOptions<Payload, User, Request>,
): AuthConfig<Payload, User, Request> {
  if (typeof options !== 'object' || options === null) fail('options are required: { secret } or { jwks }.');
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) fail(`unknown option "${name}".`);
  }
  const requested = checkAlgorithms(options.algorithms);
  const [keySource, algorithms] = keySourceFrom(options as JwtAuthOptions<JWTPayload, unknown, unknown>, requested);
  if (options.subject !== undefined && (typeof options.subject !== 'string' || options.subject === '')) fail('"subject" must be a non-empty string.');
  if (options.typ !== undefined && (typeof options.typ !== 'string' || options.typ === '')) fail('"typ" must be a non-empty string such as "at+jwt".');
  if (options.requiredClaims !== undefined && !isStringList(options.requiredClaims)) fail('"requiredClaims" must be an array of claim names.');
  if (options.realm !== undefined && (typeof options.realm !== 'string' || !isChallengeSafe(options.realm))) {
    fail('"realm" must be a string of printable ASCII characters.');
  }
  if (options.getToken !== undefined && options.tokenFrom !== undefined) fail('give "getToken" or "tokenFrom", not both: getToken replaces tokenFrom.');
  return {
    keySource,
    algorithms,
    issuer: stringOrList('issuer', options.issuer),
    audience: stringOrList('audience', options.audience),
    subject: options.subject,
    typ: options.typ,
    clockTolerance: duration('clockTolerance', options.clockTolerance) ?? 0,
    maxTokenAge: duration('maxTokenAge', options.maxTokenAge),
    requiredClaims: [...(options.requiredClaims ?? [])],
    credentialsRequired: optionalBoolean('credentialsRequired', options.credentialsRequired, true),
    tokenFrom: checkTokenFrom(options.tokenFrom),
    getToken: optionalFunction('getToken', options.getToken),
    isRevoked: optionalFunction('isRevoked', options.isRevoked),
    resolveUser: optionalFunction('resolveUser', options.resolveUser),
    realm: options.realm,
    forwardErrors: optionalBoolean('forwardErrors', options.forwardErrors, false),
    currentDate: optionalFunction('currentDate', options.currentDate) ?? (() => new Date()),
  };
}
