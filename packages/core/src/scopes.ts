import type { JWTPayload } from 'jose';

/** Where scopes are read by default: `scope` (RFC 8693, RFC 9068), else `scp` (Okta, Azure AD). */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = ['scope', 'scp'];

/**
 * Scopes granted by a token: those of the first claim of `claims` (default `scope`, then `scp`)
 * that the token has, a space-separated string or an array of strings, without repeats. `undefined`
 * when that claim has another type (the token then fails with `claim_invalid`).
 */
export function parseScopes(payload: JWTPayload, claims: readonly string[] = DEFAULT_SCOPE_CLAIMS): string[] | undefined {
  // Own properties only: a claim named "constructor" must not find Object.prototype's.
  const claim = claims.find((name) => Object.hasOwn(payload, name));
  if (claim === undefined) return [];
  const value: unknown = payload[claim];
  const granted: unknown = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(granted) || !granted.every((scope) => typeof scope === 'string')) return undefined;
  return [...new Set(granted.filter((scope) => scope !== ''))];
}
