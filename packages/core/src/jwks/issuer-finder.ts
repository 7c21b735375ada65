import type { TrustedIssuer } from '../keys/key-source.js';
import type { IssuerKeys, IssuerResolver } from '../options.js';

/**
 * Issuers whose keys are kept for an `issuers` function, at most; the least recently used is
 * forgotten first (and built again if it comes back). Bounds memory when the function trusts
 * many issuers, while a remote JWK Set stays fetched once per issuer, not once per request.
 */
export const MAX_KEPT_ISSUERS = 1000;

/** Deeper than any issuer entry: a cyclic answer is simply never taken for the same one. */
const MAX_DEPTH = 8;

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Plain objects and arrays copied (so an answer changed in place later is seen as a new one),
 * URLs by their text, anything else (keys, bytes, functions) by reference.
 */
function snapshot(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (value instanceof URL) return new URL(value.href);
  if (Array.isArray(value)) return value.map((item) => snapshot(item, depth + 1));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, snapshot(item, depth + 1)]));
}

/**
 * Whether two answers hold the same keys: equal plain data, URLs with the same text, and the
 * very same key objects (a `CryptoKey`, a `KeyObject`, bytes or a function made anew counts as
 * another key; the entry is then built again).
 */
function same(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || depth > MAX_DEPTH) return false;
  if (a instanceof URL || b instanceof URL) return a instanceof URL && b instanceof URL && a.href === b.href;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => same(item, b[index], depth + 1));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => Object.hasOwn(b, name) && same(a[name], b[name], depth + 1));
}

/**
 * Whether an answer is meant as an issuer's keys. `tenants[iss]` gives `Object.prototype` for iss
 * `"__proto__"` and a function for `"constructor"`: such answers (and `undefined`, `null`, a
 * number, an empty object) mean "not trusted here" (401), not a broken configuration.
 */
function isEntry(value: unknown): value is IssuerKeys<unknown> {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** What the function returned instead of an issuer's keys, for operators: its type, never its value. */
function describe(value: unknown): string {
  if (value === undefined || value === null) return 'the "issuers" function does not trust this iss';
  const type = typeof value === 'object' ? 'an object without keys' : `a ${typeof value}`;
  return `the "issuers" function returned ${type}, not an issuer's keys`;
}

/**
 * Finds the trusted issuer of a token for one request through an `issuers` function: its keys,
 * built by `build` (which throws a `TypeError` for an unusable answer) and kept per `iss`, or why
 * it is not trusted. The function runs for every token; only the building is saved.
 */
export function createIssuerFinder(
  resolve: IssuerResolver<unknown>,
  build: (iss: string, entry: IssuerKeys<unknown>) => TrustedIssuer,
  max: number = MAX_KEPT_ISSUERS,
): (iss: string, request: unknown) => Promise<TrustedIssuer | string> {
  const kept = new Map<string, { answer: unknown; trusted: TrustedIssuer }>();
  return async (iss, request) => {
    const answer: unknown = await resolve(iss, request);
    if (!isEntry(answer)) return describe(answer);
    const previous = kept.get(iss);
    kept.delete(iss);
    if (previous !== undefined && same(previous.answer, answer)) {
      // Most recently used last: the first in the map is the one to forget.
      kept.set(iss, previous);
      return previous.trusted;
    }
    const trusted = build(iss, answer);
    if (kept.size >= max) kept.delete(kept.keys().next().value!);
    kept.set(iss, { answer: snapshot(answer), trusted });
    return trusted;
  };
}
