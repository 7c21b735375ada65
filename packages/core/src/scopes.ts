import type { JWTPayload } from 'jose';

/**
 * Scopes granted by a token: the space-separated `scope` claim (RFC 8693 / RFC 9068), else the
 * `scp` claim as an array or string. `undefined` when a claim has the wrong type.
 */
export function parseScopes(payload: JWTPayload): string[] | undefined {
  const split = (value: string) => value.split(' ').filter((scope) => scope !== '');
  const { scope, scp } = payload as { scope?: unknown; scp?: unknown };
  if (scope !== undefined) return typeof scope === 'string' ? split(scope) : undefined;
  if (scp === undefined) return [];
  if (typeof scp === 'string') return split(scp);
  if (Array.isArray(scp) && scp.every((item) => typeof item === 'string')) return scp;
  return undefined;
}
