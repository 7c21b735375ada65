import { errors, jwtVerify, type JWSHeaderParameters, type JWTPayload, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import { decodeCompact, type DecodedToken } from './compact.js';
import type { VerifyConfig } from './config.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import type { Claimed } from './events.js';
import { findKeys, idOf, type Candidate, type JoseKeyInput } from './find-keys.js';
import { MAX_KEY_CANDIDATES } from './key-list.js';
import { dependsOnRequest, type TrustedIssuer } from './key-source.js';
import { candidateLimit, KeysUnavailable } from './remote-jwks.js';

/** A token that passed signature and claim checks. */
export interface VerifiedToken<Payload extends JWTPayload> {
  header: JWSHeaderParameters;
  payload: Payload;
}

/** Why a token was refused. */
export interface VerifyFailure {
  ok: false;
  code: AuthErrorCode;
  /** Replaces the error table's text for the client. */
  description?: string;
  /** Why, for operators (the `onEvent` hook); never token or key material. */
  reason?: string;
  cause?: unknown;
  /** What the refused token claimed to be, as sent (for the `onEvent` hook). */
  claimed?: Claimed;
}

export type VerifyResult<Payload extends JWTPayload> = ({ ok: true } & VerifiedToken<Payload>) | VerifyFailure;

const SAFE_CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function claimDescription(claim: string, reason: string): string | undefined {
  if (claim === 'typ') return 'The token type (typ header) is not accepted';
  if (!SAFE_CLAIM_NAME.test(claim)) return undefined;
  return reason === 'missing' ? `The token has no ${claim} claim` : `The ${claim} claim is invalid`;
}

/**
 * The first registered claim of the wrong type. jose checks `iss`, `sub` and `aud` only when
 * asked to compare them; a wrong type is refused whether or not the app checks the value.
 * Numeric dates must be finite.
 */
function mistypedClaim(payload: JWTPayload): string | undefined {
  for (const claim of ['iss', 'sub', 'jti'] as const) {
    if (payload[claim] !== undefined && typeof payload[claim] !== 'string') return claim;
  }
  // JSON.parse reads 1e400 as Infinity: a token that would never expire.
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && !Number.isFinite(payload[claim])) return claim;
  }
  const { aud } = payload;
  const audienceOk = aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every((item) => typeof item === 'string'));
  return audienceOk ? undefined : 'aud';
}

/** Maps a jose error to the contract's code; `undefined` for anything jose did not raise. */
function fromJoseError(error: unknown): VerifyFailure | undefined {
  if (error instanceof KeysUnavailable) return { ok: false, code: 'key_unavailable', reason: error.message, cause: error };
  if (error instanceof errors.JWTExpired) {
    return { ok: false, code: error.claim === 'iat' ? 'token_too_old' : 'token_expired', cause: error };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') {
      return { ok: false, code: 'token_not_yet_valid', cause: error };
    }
    const description = claimDescription(error.claim, error.reason);
    return { ok: false, code: 'claim_invalid', cause: error, ...(description === undefined ? {} : { description }) };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, code: 'invalid_signature', cause: error };
  if (error instanceof errors.JWKSNoMatchingKey) {
    return { ok: false, code: 'invalid_signature', description: 'No key matches the token', cause: error };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, code: 'algorithm_not_allowed', cause: error };
  if (error instanceof errors.JOSEError) return { ok: false, code: 'malformed_token', cause: error };
  return undefined;
}

async function verifyWithKey<P extends JWTPayload>(token: string, key: JoseKeyInput, options: JWTVerifyOptions) {
  try {
    return await jwtVerify<P>(token, key, options);
  } catch (error) {
    // A JWK Set with several candidates for this token (no `kid`, or a shared one): try them in
    // the set's order. Each costs a key import and a signature check, so only the first few are
    // tried: a forged token must not make us try every key of a large set.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    const limit = candidateLimit(key);
    let tried = 0;
    for await (const candidate of error as unknown as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify<P>(token, candidate, options);
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
      tried += 1;
      if (tried >= limit) break;
    }
    throw new errors.JWSSignatureVerificationFailed(
      `several keys match the token (no kid, or a shared one) and none of the ${tried} tried verified it (at most maxCandidates = ${limit} are tried)`,
    );
  }
}

/**
 * Several keys, in order: the first whose signature verifies decides. A signature that fails with
 * one key may verify with the next; any other failure (an expired token, a wrong audience) comes
 * after a verified signature and is final.
 */
async function verifyWithCandidates<P extends JWTPayload>(
  token: string,
  { candidates, skipped }: { candidates: readonly Candidate[]; skipped: number },
  options: JWTVerifyOptions,
): Promise<{ result: JWTVerifyResult<P>; used: Candidate }> {
  for (const candidate of candidates) {
    try {
      return { result: await verifyWithKey<P>(token, await candidate.key(), options), used: candidate };
    } catch (error) {
      if (candidates.length === 1 || !(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
    }
  }
  const limit = skipped > 0 ? ` (at most ${MAX_KEY_CANDIDATES} are tried: ${skipped} more were not)` : '';
  throw new errors.JWSSignatureVerificationFailed(`none of the ${candidates.length} keys tried verified the signature${limit}`);
}

/**
 * Verifies a compact JWS and its claims, reusing a verification kept in `config.cache`. Returns a
 * result for every kind of bad token; throws only when a user-supplied function (a `secret` or
 * `issuers` function) throws or returns an unusable key. `request` is the framework's request,
 * handed to those functions.
 */
export async function verifyToken<P extends JWTPayload>(
  token: string,
  config: VerifyConfig,
  request?: unknown,
): Promise<VerifyResult<P>> {
  const now = config.currentDate();
  // Keys that are the same for every request: a token verified moments ago needs nothing more.
  // Keys found per request must be found first (see verifyDecoded).
  if (config.cache !== undefined && !dependsOnRequest(config.keySource)) {
    const cached = config.cache.get(token, now.getTime());
    if (cached !== undefined) return { ok: true, header: cached.header, payload: cached.payload as P };
  }
  const decoded = decodeCompact(token);
  if (decoded === undefined) return { ok: false, code: 'malformed_token', reason: 'not a compact JWS with JSON object header and payload' };
  const result = await verifyDecoded<P>(token, decoded, config, request, now);
  if (result.ok) return result;
  // What the token claimed, for the event hook.
  return {
    ...result,
    reason: result.reason ?? (result.cause instanceof Error ? result.cause.message : result.description ?? result.code),
    claimed: { alg: decoded.header.alg, kid: decoded.header.kid, iss: decoded.payload.iss },
  };
}

async function verifyDecoded<P extends JWTPayload>(
  token: string,
  decoded: DecodedToken,
  config: VerifyConfig,
  request: unknown,
  currentDate: Date,
): Promise<VerifyResult<P>> {
  const { alg } = decoded.header;
  let { keySource, algorithms, issuer } = config;
  /** Which issuer's keys, when an `issuers` function chose them: part of the cache key. */
  let scope = '';
  if (keySource.kind === 'issuers' || keySource.kind === 'issuer-function') {
    // Only a trusted issuer's keys are ever looked up: an unknown `iss` fetches nothing.
    const { iss } = decoded.payload;
    let trusted: TrustedIssuer | string | undefined;
    if (typeof iss === 'string') trusted = keySource.kind === 'issuers' ? keySource.byIssuer.get(iss) : await keySource.find(iss, request);
    if (trusted === undefined || typeof trusted === 'string') {
      const reason = typeof trusted === 'string' ? trusted : 'iss is not one of the configured issuers';
      return { ok: false, code: 'claim_invalid', description: 'The iss claim is not a trusted issuer', reason };
    }
    if (keySource.kind === 'issuer-function') scope = idOf(trusted);
    ({ source: keySource, algorithms } = trusted);
    issuer = iss as string;
  }
  if (!algorithms.includes(alg)) return { ok: false, code: 'algorithm_not_allowed', reason: `alg is not one of ${algorithms.join(', ')}` };

  const options: JWTVerifyOptions = {
    algorithms: [alg],
    clockTolerance: config.clockTolerance,
    currentDate,
    requiredClaims: config.requiredClaims,
    ...(issuer === undefined ? {} : { issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    ...(config.subject === undefined ? {} : { subject: config.subject }),
    ...(config.typ === undefined ? {} : { typ: config.typ }),
    ...(config.maxTokenAge === undefined ? {} : { maxTokenAge: config.maxTokenAge }),
  };
  const { cache } = config;
  const now = currentDate.getTime();
  const perRequest = dependsOnRequest(config.keySource);
  let verified: VerifiedToken<P>;
  let cacheKey: string;
  try {
    const found = await findKeys(keySource, decoded.header, token, request);
    if ('failure' in found) return found.failure;
    // Keys found for this request: a verification kept for the same token counts only if it was
    // made with one of them (a token of one tenant proves nothing at another's host, and a key
    // the function no longer returns no longer verifies anything).
    if (cache !== undefined && perRequest) {
      for (const candidate of found.candidates) {
        const cached = cache.get(scope + candidate.id + token, now);
        if (cached !== undefined) return { ok: true, header: cached.header, payload: cached.payload as P };
      }
    }
    const { result, used } = await verifyWithCandidates<P>(token, found, options);
    verified = { header: result.protectedHeader, payload: result.payload };
    cacheKey = scope + used.id + token;
  } catch (error) {
    const mapped = fromJoseError(error);
    if (mapped === undefined) throw error;
    // A signed refresh token fails the access-token `typ` check first; say what it really is.
    const refreshAsAccess =
      error instanceof errors.JWTClaimValidationFailed && error.claim === 'typ' && decoded.payload.token_type === 'refresh';
    return refreshAsAccess ? { ok: false, code: 'wrong_token_type', cause: error } : mapped;
  }

  const mistyped = mistypedClaim(verified.payload);
  if (mistyped !== undefined) return { ok: false, code: 'claim_invalid', description: `The ${mistyped} claim is invalid` };

  // jose checks a future `iat` only together with maxTokenAge; the contract always does (with the
  // default 5 s clockTolerance, an issuer whose clock runs a second ahead still gets through).
  const { iat } = verified.payload;
  if (typeof iat === 'number' && iat > currentDate.getTime() / 1000 + config.clockTolerance) {
    return { ok: false, code: 'token_not_yet_valid', description: 'The token was issued in the future (clockTolerance allows for clock skew)', reason: 'iat is in the future' };
  }
  cache?.set(cacheKey, verified, now, { tolerance: config.clockTolerance, maxTokenAge: config.maxTokenAge });
  return { ok: true, ...verified };
}

/** Turns a failed {@link VerifyResult} into the error the client sees. */
export function verifyError(result: VerifyFailure, realm: string | undefined): AuthError {
  return new AuthError(result.code, { realm, description: result.description, cause: result.cause });
}
