import type { jwtVerify, JWSHeaderParameters } from 'jose';
import type { KeySource } from './key-source.js';
import { MIXED_FAMILIES, mixesFamilies, selectKeys } from './key-list.js';
import { isKeyShaped, prepareKey, type KeyInput, type PreparedKey } from './keys.js';
import type { VerifyFailure } from '../jwt/verify.js';

/** What jose's `jwtVerify` takes as key: a key, or a function choosing one (a JWK Set). */
export type JoseKeyInput = Parameters<typeof jwtVerify>[1];

/**
 * A key to try for a token. `id` tells apart keys found per request (by a `secret` function), so
 * that a verification kept in the token cache is reused only when the request's keys include the
 * one that verified it; it is empty for keys that are the same for every request.
 */
export interface Candidate {
  id: string;
  /** The key, or a promise of it while it is first imported. */
  key(): JoseKeyInput | Promise<JoseKeyInput>;
}

/** The keys to try, in order (`skipped`: more keys fitted than are tried), or why there are none. */
export type Found = { candidates: Candidate[]; skipped: number } | { failure: VerifyFailure };

const ids = new WeakMap<object, string>();
let lastId = 0;

/** A short name for an object, ending in a space (which no token holds), to prefix cache keys with. */
export function idOf(value: object): string {
  let id = ids.get(value);
  if (id === undefined) {
    lastId += 1;
    id = `${lastId} `;
    ids.set(value, id);
  }
  return id;
}

/**
 * Keys a `secret` function returns, prepared once: key functions usually return the same few
 * keys. A JWK or byte array is kept with a copy of its content and prepared again when it has
 * changed in place, so a key rotated by mutation never keeps verifying with the old material.
 */
interface PreparedObject {
  prepared: PreparedKey | string;
  /** The JWK's JSON, or a copy of the bytes; undefined for immutable keys (CryptoKey, KeyObject). */
  content: string | Uint8Array | undefined;
}
const preparedObjects = new WeakMap<object, PreparedObject>();
const preparedStrings = new Map<string, PreparedKey | string>();
const MAX_PREPARED_STRINGS = 64;

/** What a mutable key holds now: bytes as a copy, a plain JWK object as its JSON. */
function contentOf(input: object): string | Uint8Array | undefined {
  if (input instanceof Uint8Array) return input.slice();
  if (typeof (input as { kty?: unknown }).kty === 'string') return JSON.stringify(input);
  return undefined;
}

function sameContent(input: object, content: string | Uint8Array | undefined): boolean {
  if (content === undefined) return true;
  if (typeof content === 'string') return JSON.stringify(input) === content;
  const bytes = input as Uint8Array;
  if (bytes.length !== content.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== content[i]) return false;
  return true;
}

function preparedOnce(input: KeyInput): PreparedKey | string {
  if (typeof input === 'string') {
    let prepared = preparedStrings.get(input);
    if (prepared === undefined) {
      prepared = prepareKey(input);
      if (preparedStrings.size >= MAX_PREPARED_STRINGS) preparedStrings.clear();
      preparedStrings.set(input, prepared);
    }
    return prepared;
  }
  const kept = preparedObjects.get(input);
  if (kept !== undefined && sameContent(input, kept.content)) return kept.prepared;
  const prepared = prepareKey(input);
  preparedObjects.set(input, { prepared, content: contentOf(input) });
  return prepared;
}

/** What a key function returned instead of a key, for operators: its type, never its value. */
function notAKey(value: unknown): string {
  if (value === undefined || value === null) return 'no key';
  if (Array.isArray(value)) return 'an array without a key';
  const type = typeof value === 'object' ? 'an object without "kty"' : `a ${typeof value}`;
  return `${type}, not a key`;
}

const noKey = (reason: string): Found => ({ failure: { ok: false, code: 'invalid_signature', description: 'No key matches the token', reason } });

/** Several keys: the ones to try for this token (see {@link selectKeys}). */
function fromList(keys: readonly PreparedKey[], alg: string, kid: unknown, perRequest: boolean): Found {
  const selection = selectKeys(keys, { alg, kid });
  if ('none' in selection) {
    if (selection.none === 'kid') return noKey('no key has the kid of the token');
    return { failure: { ok: false, code: 'algorithm_not_allowed', reason: `none of the keys for this token verifies ${alg}` } };
  }
  const candidates = selection.keys.map((key) => ({ id: perRequest ? idOf(key) : '', key: () => key.keyFor(alg) }));
  return { candidates, skipped: selection.skipped };
}

/**
 * The keys a `secret` function returns for this token and request. `keys[header.kid]` gives
 * Object.prototype for kid "__proto__" and functions for "constructor" or "toString": the token
 * names a key that does not exist, which is the client's failure (401), not a broken
 * configuration (500); so are such entries in an array. A key that is meant as one but cannot be
 * used, or HMAC secrets returned with public keys, is the app's bug: a TypeError.
 */
async function fromFunction(
  resolve: (header: JWSHeaderParameters, token: string, request: unknown) => unknown,
  header: JWSHeaderParameters & { alg: string },
  token: string,
  request: unknown,
): Promise<Found> {
  const returned: unknown = await resolve(header, token, request);
  const several = Array.isArray(returned);
  const inputs: unknown[] = several ? returned.filter(isKeyShaped) : isKeyShaped(returned) ? [returned] : [];
  if (inputs.length === 0) return noKey(`the "secret" function returned ${notAKey(returned)}`);
  const keys = inputs.map((input) => {
    const key = preparedOnce(input as KeyInput);
    if (typeof key === 'string') throw new TypeError(`jwtAuth: the "secret" function returned an unusable key: ${key}.`);
    return key;
  });
  if (several) {
    if (mixesFamilies(keys)) throw new TypeError(`jwtAuth: the "secret" function returned keys that cannot be used together: ${MIXED_FAMILIES}.`);
    return fromList(keys, header.alg, header.kid, true);
  }
  // One key, as before arrays: used whatever the token's kid, if it can verify its alg.
  const key = keys[0]!;
  if (!key.algorithms.includes(header.alg)) return { failure: { ok: false, code: 'algorithm_not_allowed' } };
  return { candidates: [{ id: idOf(key), key: () => key.keyFor(header.alg) }], skipped: 0 };
}

/** The keys (or the jose key function) to check this token against, per the configured key source. */
export function findKeys(source: KeySource, header: JWSHeaderParameters & { alg: string }, token: string, request: unknown): Found | Promise<Found> {
  switch (source.kind) {
    case 'static':
      return { candidates: [{ id: '', key: () => source.key.keyFor(header.alg) }], skipped: 0 };
    case 'keys':
      return fromList(source.keys, header.alg, header.kid, false);
    case 'function':
      return fromFunction(source.resolve, header, token, request);
    case 'jwks':
      return { candidates: [{ id: '', key: () => source.resolve }], skipped: 0 };
    case 'issuers':
    case 'issuer-function':
      throw new TypeError('jwtAuth: issuers are resolved before keys.');
  }
}
