import type { AuthError } from '@jwtauth/core';
import type { JWTPayload } from 'jose';
import type { TokenIssuer, TokenPair } from './options.js';

/**
 * What the token endpoints need of an issuer beyond its public interface, for the authorization
 * code grant: the issuer's clock, short-lived tokens of their own `typ` signed with its key (the
 * authorization request and the code), and sessions whose access tokens name another audience
 * (the RFC 8707 `resource`). Not part of the package's API.
 */
export interface IssuerInternals {
  /** The issuer's clock, in seconds since the epoch. */
  now(): number;
  /** Signs `claims` with the issuer's current key, with header `typ`, `iss`, `iat`, `jti` and `exp` added (no `aud`). */
  signTyped(claims: JWTPayload, typ: string, exp: number): Promise<string>;
  /** Verifies a token signed by {@link signTyped} with this `typ`: signature, `typ`, `iss`, `exp`. */
  verifyTyped(token: string, typ: string): Promise<{ ok: true; payload: JWTPayload } | { ok: false; error: AuthError }>;
  /**
   * `issue()`, with the access tokens of the session (refreshes included) carrying `audience` as
   * `aud`, and bound to the DPoP key `jkt` when given.
   */
  issueFor(subject: string, claims: Record<string, unknown>, audience: string | undefined, jkt?: string): Promise<TokenPair>;
}

const registry = new WeakMap<TokenIssuer, IssuerInternals>();

/** Called by `createTokenIssuer()` for the issuer it returns. */
export function registerInternals(issuer: TokenIssuer, internals: IssuerInternals): void {
  registry.set(issuer, internals);
}

/** The internals of an issuer made by `createTokenIssuer()`; `undefined` for any other object. */
export function internalsOf(issuer: TokenIssuer): IssuerInternals | undefined {
  return registry.get(issuer);
}
