import type { PreparedKey } from './keys.js';
import { REMOTE_JWKS_DEFAULTS } from '../jwks/remote-jwks.js';

/**
 * Keys tried for one token at most, as `maxCandidates` of a JWK Set: each costs a signature
 * check, and a forged token must not make the verifier walk a long list.
 */
export const MAX_KEY_CANDIDATES = REMOTE_JWKS_DEFAULTS.maxCandidates;

/**
 * Why HMAC secrets and public keys may not share one `secret`: whoever holds a shared secret
 * (every service that verifies with it) could then sign tokens that pass where only the
 * public-key issuer's should (RFC 8725 §2.1, §3.1).
 */
export const MIXED_FAMILIES =
  'it mixes HMAC secrets with public keys: every holder of the secret could then sign tokens that pass for the ' +
  'public-key issuer\'s (algorithm confusion). Keep one kind per list, and give each issuer its own keys with "issuers"';

const isHmac = (key: PreparedKey) => key.algorithms.some((alg) => alg.startsWith('HS'));

/** Whether the keys mix HMAC secrets with public keys (several asymmetric families may be mixed). */
export function mixesFamilies(keys: readonly PreparedKey[]): boolean {
  const hmac = keys.filter(isHmac).length;
  return hmac > 0 && hmac < keys.length;
}

/**
 * An algorithm that more than {@link MAX_KEY_CANDIDATES} keys without `kid` can verify: a token
 * can reach those keys only by being tried against them in turn, so the ones past the limit
 * would never verify anything.
 */
export function crowdedAlgorithm(keys: readonly PreparedKey[]): string | undefined {
  const counts = new Map<string, number>();
  for (const key of keys) {
    if (key.kid !== undefined) continue;
    for (const alg of key.algorithms) counts.set(alg, (counts.get(alg) ?? 0) + 1);
  }
  return [...counts].find(([, count]) => count > MAX_KEY_CANDIDATES)?.[0];
}

/** The keys to try for one token, or why there are none. */
export type Selection =
  | { keys: PreparedKey[]; /** Keys that fit but were left out by the limit. */ skipped: number }
  /** `kid`: the token names a `kid` no key has (and every key has another); `alg`: none of the keys it may use verifies its `alg`. */
  | { none: 'kid' | 'alg' };

/**
 * Chooses among several keys, in their order. A token with a `kid` is tried against the keys
 * carrying that `kid`, or, when none does, against the keys carrying none (a key with another
 * `kid` says it is not this token's); a token without `kid` against every key. Of those, only the
 * keys that verify the token's `alg`, and at most {@link MAX_KEY_CANDIDATES} of them.
 */
export function selectKeys(keys: readonly PreparedKey[], header: { alg: string; kid?: unknown }): Selection {
  const { alg, kid } = header;
  let named: readonly PreparedKey[] = keys;
  if (typeof kid === 'string') {
    const matching = keys.filter((key) => key.kid === kid);
    named = matching.length > 0 ? matching : keys.filter((key) => key.kid === undefined);
  }
  if (named.length === 0) return { none: 'kid' };
  const fitting = named.filter((key) => key.algorithms.includes(alg));
  if (fitting.length === 0) return { none: 'alg' };
  return { keys: fitting.slice(0, MAX_KEY_CANDIDATES), skipped: Math.max(0, fitting.length - MAX_KEY_CANDIDATES) };
}
