import { errors, jwtVerify, type JWSHeaderParameters, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { decodeCompact, type DecodedToken } from './compact.js';
import type { VerifyConfig } from './config.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import type { Claimed } from './events.js';
import type { KeySource } from './key-source.js';
import { isKeyShaped, prepareKey, type KeyInput, type PreparedKey, type VerifyKey } from './keys.js';
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

type JoseKeyInput = Parameters<typeof jwtVerify>[1];

/** Keys a `secret` function returns, prepared once: key functions usually return the same few keys. */
const preparedObjects = new WeakMap<object, PreparedKey | string>();
const preparedStrings = new Map<string, PreparedKey | string>();
const MAX_PREPARED_STRINGS = 64;

function preparedOnce(input: KeyInput): PreparedKey | string {
  const cache = typeof input === 'string' ? preparedStrings : preparedObjects;
  const key = input as object & string;
  let prepared = cache.get(key);
  if (prepared === undefined) {
    prepared = prepareKey(input);
    if (typeof input === 'string' && preparedStrings.size >= MAX_PREPARED_STRINGS) preparedStrings.clear();
    cache.set(key, prepared);
  }
  return prepared;
}

/** What a key function returned instead of a key, for operators: its type, never its value. */
function notAKey(value: unknown): string {
  if (value === undefined || value === null) return 'no key';
  const type = typeof value === 'object' ? 'an object without "kty"' : `a ${typeof value}`;
  return `${type}, not a key`;
}

/** The key (or jose key function) for this token, per the configured key source. */
async function keyFor(
  source: KeySource,
  header: JWSHeaderParameters & { alg: string },
  token: string,
): Promise<{ key: JoseKeyInput } | { failure: VerifyFailure }> {
  switch (source.kind) {
    case 'static':
      return { key: (await source.key.keyFor(header.alg)) as JoseKeyInput };
    case 'function': {
      const returned: unknown = await source.resolve(header, token);
      // `keys[header.kid]` gives Object.prototype for kid "__proto__" and functions for
      // "constructor" or "toString": the token names a key that does not exist, which is the
      // client's failure (401), not a broken configuration (500).
      if (!isKeyShaped(returned)) {
        return { failure: { ok: false, code: 'invalid_signature', description: 'No key matches the token', reason: `the "secret" function returned ${notAKey(returned)}` } };
      }
      const key = preparedOnce(returned as KeyInput);
      if (typeof key === 'string') throw new TypeError(`jwtAuth: the "secret" function returned an unusable key: ${key}.`);
      if (!key.algorithms.includes(header.alg)) return { failure: { ok: false, code: 'algorithm_not_allowed' } };
      return { key: (await key.keyFor(header.alg)) as VerifyKey as JoseKeyInput };
    }
    case 'jwks':
      return { key: source.resolve };
    case 'issuers':
      throw new TypeError('jwtAuth: issuers are resolved before keys.');
  }
}

async function verifyWithKey<P extends JWTPayload>(token: string, key: JoseKeyInput, options: JWTVerifyOptions) {
  try {
    return await jwtVerify<P>(token, key as Parameters<typeof jwtVerify>[1], options);
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
 * Verifies a compact JWS and its claims. Returns a result for every kind of bad token; throws
 * only when a user-supplied key function throws.
 */
export async function verifyToken<P extends JWTPayload>(
  token: string,
  config: VerifyConfig,
): Promise<VerifyResult<P>> {
  const decoded = decodeCompact(token);
  if (decoded === undefined) return { ok: false, code: 'malformed_token', reason: 'not a compact JWS with JSON object header and payload' };
  const result = await verifyDecoded<P>(token, decoded, config);
  if (result.ok) return result;
  // What the token claimed, for the event hook.
  return {
    ...result,
    reason: result.reason ?? (result.cause instanceof Error ? result.cause.message : result.description ?? result.code),
    claimed: { alg: decoded.header.alg, kid: decoded.header.kid, iss: decoded.payload.iss },
  };
}

async function verifyDecoded<P extends JWTPayload>(token: string, decoded: DecodedToken, config: VerifyConfig): Promise<VerifyResult<P>> {
  const { alg } = decoded.header;
  let { keySource, algorithms, issuer } = config;
  if (keySource.kind === 'issuers') {
    // Only a trusted issuer's keys are ever looked up: an unknown `iss` fetches nothing.
    const { iss } = decoded.payload;
    const trusted = typeof iss === 'string' ? keySource.byIssuer.get(iss) : undefined;
    if (trusted === undefined) return { ok: false, code: 'claim_invalid', description: 'The iss claim is not a trusted issuer', reason: 'iss is not one of the configured issuers' };
    ({ source: keySource, algorithms } = trusted);
    issuer = iss;
  }
  if (!algorithms.includes(alg)) return { ok: false, code: 'algorithm_not_allowed', reason: `alg is not one of ${algorithms.join(', ')}` };

  const currentDate = config.currentDate();
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
  let verified: VerifiedToken<P>;
  try {
    const found = await keyFor(keySource, decoded.header, token);
    if ('failure' in found) return found.failure;
    const result = await verifyWithKey<P>(token, found.key, options);
    verified = { header: result.protectedHeader, payload: result.payload };
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
  return { ok: true, ...verified };
}

/** Turns a failed {@link VerifyResult} into the error the client sees. */
export function verifyError(result: VerifyFailure, realm: string | undefined): AuthError {
  return new AuthError(result.code, { realm, description: result.description, cause: result.cause });
}
