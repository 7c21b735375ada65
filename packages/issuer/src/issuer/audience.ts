import { internals, type AuthError } from '@jwtauth/core';
import type { JWTPayload } from 'jose';
import type { VerifierOptions } from './options.js';

const { resolveConfig, verifyError, verifyToken } = internals;

function list(audience: string | string[] | undefined): string[] {
  return audience === undefined ? [] : Array.isArray(audience) ? audience : [audience];
}

/**
 * The `aud` of a session's token when the session has an RFC 8707 resource: the resource alone
 * for its access tokens (`fallback` undefined), the issuer's audience plus the resource for its
 * refresh tokens (so that the issuer still recognises them, and a refresh keeps the resource).
 * Nothing when the session has no resource: the issuer's audience then applies as before.
 */
export function audienceOf(resource: string | undefined, fallback: string | string[] | undefined): { aud?: string | string[] } {
  if (resource === undefined) return {};
  const audience = [...new Set([...list(fallback), resource])];
  return { aud: audience.length === 1 ? audience[0]! : audience };
}

/** Verifies the issuer's own short-lived tokens of one `typ` (signature, `typ`, `iss`, `exp`), on the issuer's clock. */
export function typedVerifier(
  verifierOptions: VerifierOptions,
  currentDate: () => Date,
): (token: string, typ: string) => Promise<{ ok: true; payload: JWTPayload } | { ok: false; error: AuthError }> {
  const configs = new Map<string, internals.AuthConfig<JWTPayload, unknown, unknown>>();
  return async (token, typ) => {
    let config = configs.get(typ);
    if (config === undefined) {
      config = resolveConfig({
        secret: verifierOptions.secret,
        algorithms: verifierOptions.algorithms,
        currentDate,
        cache: false,
        clockTolerance: 0,
        typ,
        ...(verifierOptions.issuer === undefined ? {} : { issuer: verifierOptions.issuer }),
      });
      configs.set(typ, config);
    }
    const verified = await verifyToken(token, config);
    return verified.ok ? { ok: true, payload: verified.payload } : { ok: false, error: verifyError(verified, undefined) };
  };
}
