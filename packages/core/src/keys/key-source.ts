import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { SUPPORTED_ALGORITHMS } from './algorithms.js';
import { createDiscoveredKeySet } from '../jwks/discovery.js';
import type { Emit } from '../events.js';
import { crowdedAlgorithm, MAX_KEY_CANDIDATES, MIXED_FAMILIES, mixesFamilies } from './key-list.js';
import { jwkAlgorithms, prepareKey, type KeyInput, type PreparedKey } from './keys.js';
import type { KeyFunction, LocalJwks, RemoteJwks } from '../options.js';
import { createRemoteKeySet, isTrustedScheme, REMOTE_JWKS_DEFAULTS, type FetchFunction, type RemoteJwksTiming } from '../jwks/remote-jwks.js';

/** One trusted issuer's keys and allowlist. */
export interface TrustedIssuer {
  readonly source: KeySource;
  readonly algorithms: readonly string[];
}

/** How the verification key is found for a token. */
export type KeySource =
  | { kind: 'static'; key: PreparedKey }
  /** Several keys (`secret` as an array), chosen by `kid` or tried in turn. */
  | { kind: 'keys'; keys: readonly PreparedKey[] }
  | { kind: 'function'; resolve: KeyFunction<unknown> }
  | { kind: 'jwks'; resolve: JWTVerifyGetKey }
  /** Several trusted issuers, each with its own keys and allowlist, chosen by the token's `iss`. */
  | { kind: 'issuers'; byIssuer: ReadonlyMap<string, TrustedIssuer>; dependsOnRequest: boolean }
  /** Trusted issuers chosen per request by an `issuers` function: the issuer's keys, or why it is not trusted. */
  | { kind: 'issuer-function'; find(iss: string, request: unknown): Promise<TrustedIssuer | string> };

/**
 * Whether the keys a token is checked against may depend on the request (a `secret` function or
 * an `issuers` function receives it): a token verified for one request then proves nothing for
 * another until the keys are found again.
 */
export function dependsOnRequest(source: KeySource): boolean {
  switch (source.kind) {
    case 'function':
    case 'issuer-function':
      return true;
    case 'issuers':
      return source.dependsOnRequest;
    default:
      return false;
  }
}

/** Where one issuer's keys come from: exactly one of `secret`, `jwks` with `uri` or `keys`, `discovery`. */
export interface KeySourceOptions {
  /** `KeyFunction<never>`: any request type fits; core hands the function whatever request it was given. */
  secret?: KeyInput | readonly KeyInput[] | KeyFunction<never> | undefined;
  jwks?: LocalJwks | RemoteJwks | RemoteJwksTiming | undefined;
  discovery?: boolean | undefined;
  /** The checked `algorithms` option, if given. */
  algorithms?: string[] | undefined;
}

/** JWK Sets publish public keys only, so HMAC algorithms never apply to them. */
const ASYMMETRIC_ALGORITHMS = [...SUPPORTED_ALGORITHMS].filter((alg) => !alg.startsWith('HS'));

type Fail = (message: string) => never;

/** The requested allowlist narrowed to what the key can verify; asking for more is a mistake. */
function narrow(requested: string[] | undefined, usable: readonly string[], what: string, fail: Fail): string[] {
  if (requested === undefined) return [...usable];
  const unusable = requested.filter((alg) => !usable.includes(alg));
  if (unusable.length > 0) {
    const hint =
      unusable.some((alg) => alg.startsWith('HS')) && usable.some((alg) => alg.startsWith('HS'))
        ? 'An HMAC secret must be at least as long as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512.'
        : 'Mixing key types would allow algorithm confusion.';
    fail(`${what} cannot verify ${unusable.join(', ')}; it can verify ${usable.join(', ') || 'nothing'}. ${hint}`);
  }
  return requested;
}

function timingOf(jwks: RemoteJwksTiming | undefined, at: string, fail: Fail): RemoteJwksTiming {
  const timing: RemoteJwksTiming = {};
  for (const name of ['cacheMaxAge', 'maxStale', 'cooldownDuration', 'timeoutDuration'] as const) {
    const value = jwks?.[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`"${at}.${name}" must be milliseconds (a number >= 0).`);
    timing[name] = value;
  }
  // A set past its maxStale stops verifying: one that may not even reach its cacheMaxAge is a typo.
  const cacheMaxAge = timing.cacheMaxAge ?? REMOTE_JWKS_DEFAULTS.cacheMaxAge;
  if (timing.maxStale !== undefined && timing.maxStale < cacheMaxAge) {
    fail(
      `"${at}.maxStale" (${timing.maxStale} ms) must be at least "${at}.cacheMaxAge" (${cacheMaxAge} ms): keys are used stale only after they are due for a refresh.`,
    );
  }
  const candidates = jwks?.maxCandidates;
  if (candidates !== undefined) {
    if (typeof candidates !== 'number' || !Number.isInteger(candidates) || candidates < 1)
      fail(`"${at}.maxCandidates" must be a whole number of keys, at least 1.`);
    timing.maxCandidates = candidates;
  }
  return timing;
}

/**
 * A URL keys may be fetched from. `identifier`: an issuer used for discovery, which OpenID
 * Connect Discovery §3 and RFC 8414 §2 define as a URL without query or fragment; it is also
 * compared as written with the `issuer` of its metadata and the `iss` of tokens.
 */
function httpUrl(value: unknown, label: string, fail: Fail, identifier = false): string {
  let url: URL;
  try {
    url = new URL(value as string);
  } catch {
    return fail(`${label} is not a valid URL.`);
  }
  if (!isTrustedScheme(url)) fail(`${label} must be an https:// URL (http:// only on loopback).`);
  // fetch refuses a URL with credentials, so every fetch would fail; and they would end up in logs.
  if (/^[^:/?#]+:\/\/[^/?#]*@/.test(String(value))) fail(`${label} must not contain a user name or password: remove the "user@" part.`);
  if (identifier && /[?#]/.test(String(value))) {
    fail(`${label} must be an issuer URL without query or fragment (OpenID Connect Discovery §3, RFC 8414 §2): remove the "?…" or "#…" part.`);
  }
  return url.href;
}

function localJwks(jwks: LocalJwks, at: string, requested: string[] | undefined, fail: Fail): [KeySource, readonly string[]] {
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) fail(`"${at}.keys" must be a non-empty array of JWKs.`);
  const usable = new Set<string>();
  for (const jwk of jwks.keys) {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') fail(`every entry of "${at}.keys" must be a JWK.`);
    // jose refuses symmetric keys in JWK Sets, and a shared secret has no business in a published set.
    if (jwk.kty === 'oct') fail(`"${at}.keys" holds a symmetric (oct) key; pass an HMAC secret as "secret" instead.`);
    // Keys for other uses (`use: "enc"`) are skipped, as jose's key selection skips them.
    if (jwkAlgorithms(jwk).length === 0) continue;
    const key = prepareKey(jwk);
    if (typeof key === 'string') fail(`a key in "${at}.keys" is unusable: ${key}.`);
    for (const alg of key.algorithms) usable.add(alg);
  }
  if (usable.size === 0) fail(`no key in "${at}.keys" can verify signatures.`);
  return [{ kind: 'jwks', resolve: createLocalJWKSet({ keys: jwks.keys }) }, narrow(requested, [...usable], 'This JWK Set', fail)];
}

/** `Array.isArray`, which does not narrow a readonly array type. */
const isList = (value: unknown): value is readonly unknown[] => Array.isArray(value);

/**
 * `secret` as an array: every key checked as `secret` is, HMAC secrets never next to public keys.
 * The allowlist is the union of what the keys verify.
 */
function keyList(inputs: readonly unknown[], name: string, requested: string[] | undefined, fail: Fail): [KeySource, readonly string[]] {
  if (inputs.length === 0) fail(`"${name}" is an empty array; give at least one key.`);
  const keys = inputs.map((input, index) => {
    const at = `${name}[${index}]`;
    if (input === undefined) fail(UNSET(at, 'JWT_SECRET'));
    if (input === '') fail(EMPTY(at, 'JWT_SECRET'));
    if (typeof input === 'function') fail(`"${at}" is a function; a key function must be "${name}" itself, returning one key or an array of keys.`);
    const key = input === null ? 'the key is null' : prepareKey(input);
    if (typeof key === 'string') return fail(`"${at}": ${key}.`);
    return key;
  });
  if (mixesFamilies(keys)) fail(`"${name}": ${MIXED_FAMILIES}.`);
  const crowded = crowdedAlgorithm(keys);
  if (crowded !== undefined) {
    fail(
      `"${name}" holds more than ${MAX_KEY_CANDIDATES} keys without a kid that verify ${crowded}, and at most ${MAX_KEY_CANDIDATES} are tried ` +
        'for a token: remove retired keys, or give the keys a kid (as JWKs) so that tokens naming it find theirs.',
    );
  }
  const usable = [...new Set(keys.flatMap((key) => key.algorithms))];
  return [{ kind: 'keys', keys }, narrow(requested, usable, 'This list of keys', fail)];
}

/** What people write when they mean the environment variable behind a value is missing. */
const UNSET = (name: string, example: string) => `"${name}" is undefined: is the environment variable it is read from (such as ${example}) set?`;
const EMPTY = (name: string, example: string) =>
  `"${name}" is an empty string: is the environment variable it is read from (such as ${example}) set to a value?`;

/** `jwks` must be `{ uri }` or `{ keys }` (with `discovery`, timing only); say what was probably meant. */
function checkJwksShape(jwks: unknown, discovery: boolean, name: string, fail: Fail): void {
  if (typeof jwks === 'string') {
    if (/^\s*[[{]/.test(jwks)) fail(`"${name}" is a string of JSON; pass the parsed JWK Set: ${name}: JSON.parse(text).`);
    fail(`"${name}" is a string; to fetch a JWK Set from a URL write ${name}: { uri: 'https://…' }.`);
  }
  if (Array.isArray(jwks)) fail(`"${name}" is an array; write ${name}: { keys: [...] }.`);
  if (typeof jwks !== 'object' || jwks === null) {
    fail(`"${name}" must be { uri: 'https://…' } to fetch a JWK Set, or { keys: [...] } to hold one in memory.`);
  }
  const fields = jwks as Record<string, unknown>;
  if (typeof fields.kty === 'string') fail(`"${name}" is a single JWK; write ${name}: { keys: [jwk] } (or pass the JWK as "secret").`);
  const misnamed = ['url', 'jwksUri', 'jwks_uri'].find((field) => field in fields);
  if (misnamed !== undefined && !('uri' in fields)) fail(`"${name}" has "${misnamed}"; the option is named "uri": ${name}: { uri: 'https://…' }.`);
  if ('uri' in fields && 'keys' in fields) fail(`give "${name}.uri" or "${name}.keys", not both.`);
  if ('uri' in fields && fields.uri === undefined) fail(UNSET(`${name}.uri`, 'JWKS_URI'));
  if (fields.uri === '') fail(EMPTY(`${name}.uri`, 'JWKS_URI'));
  const holdsKeys = 'uri' in fields || 'keys' in fields;
  if (discovery && holdsKeys) {
    fail(`with "discovery", "${name}" holds only timing options: the JWK Set's URL comes from the issuer's metadata.`);
  }
  if (!discovery && !holdsKeys) fail(`"${name}" needs "uri" (to fetch a JWK Set) or "keys" (a JWK Set in memory).`);
}

/**
 * Exactly one key source, each of the right shape: mistakes get a sentence naming the fix, such
 * as `secret: process.env.JWT_SECRET` with the variable unset.
 */
function checkKeySourceShape(options: KeySourceOptions, prefix: string, fail: Fail): void {
  const { secret, jwks, discovery } = options;
  if (discovery !== undefined && typeof discovery !== 'boolean') fail(`"${prefix}discovery" must be true or false.`);
  if (secret === null) {
    fail(`"${prefix}secret" is null; give the key (a string, bytes, a JWK, a KeyObject or a CryptoKey) or a function returning it.`);
  }
  if (secret === '') fail(EMPTY(`${prefix}secret`, 'JWT_SECRET'));
  if (jwks !== undefined) checkJwksShape(jwks, discovery === true, `${prefix}jwks`, fail);
  const given = [
    ...(secret === undefined ? [] : ['secret']),
    ...(jwks === undefined || discovery === true ? [] : ['jwks']),
    ...(discovery === true ? ['discovery'] : []),
  ].map((name) => `"${prefix}${name}"`);
  // Several issuers are an alternative only at the top level.
  const choices =
    prefix === ''
      ? '"secret" (an HMAC secret, a public key or a key function), "jwks" ({ uri } or { keys }), "discovery: true" (with "issuer") or "issuers"'
      : `"${prefix}secret", "${prefix}jwks" or "${prefix}discovery: true"`;
  if (given.length === 0) {
    if ('secret' in options) fail(UNSET(`${prefix}secret`, 'JWT_SECRET'));
    fail(`no key given: give exactly one of ${choices}.`);
  }
  if (given.length > 1) fail(`give exactly one of ${choices}, not ${given.join(' and ')} together.`);
}

/**
 * Builds the key source of one issuer (or of the only one), with its algorithm allowlist.
 * `at` names the options in messages; `issuer` is needed for discovery.
 */
export function keySourceFrom(
  options: KeySourceOptions,
  context: { at: string; issuer: string | undefined; fetch: FetchFunction | undefined; emit: Emit | undefined; fail: Fail },
): [KeySource, readonly string[]] {
  const { secret, jwks, discovery, algorithms: requested } = options;
  const { at } = context;
  const fail: Fail = context.fail;
  const prefix = at === '' ? '' : `${at}.`;
  checkKeySourceShape(options, prefix, fail);
  const remoteUri = typeof jwks === 'object' && jwks !== null && 'uri' in jwks;

  if (typeof secret === 'function') return [{ kind: 'function', resolve: secret as KeyFunction<unknown> }, requested ?? [...SUPPORTED_ALGORITHMS]];
  if (isList(secret)) return keyList(secret, `${prefix}secret`, requested, fail);
  if (secret !== undefined) {
    const key = prepareKey(secret);
    if (typeof key === 'string') fail(`"${prefix}secret": ${key}.`);
    return [{ kind: 'static', key }, narrow(requested, key.algorithms, 'This key', fail)];
  }
  const fetchImpl = context.fetch ?? ((input, init) => fetch(input, init));
  if (discovery === true) {
    if (context.issuer === undefined) fail(`"${prefix}discovery" needs the issuer: set "issuer" to its URL.`);
    httpUrl(context.issuer, at === '' ? '"issuer"' : `the issuer ${JSON.stringify(context.issuer)} of "issuers"`, fail, true);
    const timing = timingOf(jwks as RemoteJwksTiming | undefined, `${prefix}jwks`, fail);
    const resolve = createDiscoveredKeySet(context.issuer, timing, fetchImpl, context.emit);
    return [{ kind: 'jwks', resolve }, narrow(requested, ASYMMETRIC_ALGORITHMS, 'A discovered JWK Set', fail)];
  }
  if (typeof jwks !== 'object' || jwks === null) return fail(`"${prefix}jwks" must be { keys: [...] } or { uri }.`);
  if (!remoteUri) return localJwks(jwks as LocalJwks, `${prefix}jwks`, requested, fail);
  const uri = httpUrl(jwks.uri, `"${prefix}jwks.uri"`, fail);
  const resolve = createRemoteKeySet(uri, timingOf(jwks, `${prefix}jwks`, fail), fetchImpl, context.emit);
  return [{ kind: 'jwks', resolve }, narrow(requested, ASYMMETRIC_ALGORITHMS, 'A JWK Set', fail)];
}
