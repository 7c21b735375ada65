import { errors, type JWSHeaderParameters, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { checkClaims } from './claims.js';
import { decodeCompact, type DecodedToken } from './compact.js';
import { runtimeSignatureCheck } from '../crypto/runtime.js';
import type { SignatureCheck } from '../crypto/signature.js';
import type { VerifyConfig } from '../config.js';
import { AuthError, type AuthErrorCode } from '../errors.js';
import type { Claimed } from '../events.js';
import { findKeys, idOf, type Candidate, type Found } from '../keys/find-keys.js';
import type { VerifyKey } from '../keys/keys.js';
import { MAX_KEY_CANDIDATES } from '../keys/key-list.js';
import { dependsOnRequest, type TrustedIssuer } from '../keys/key-source.js';
import { candidateLimit, KeysUnavailable } from '../jwks/remote-jwks.js';
import { withoutStack } from '../without-stack.js';

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

/** Maps an error a JWK Set's key lookup raised to the contract's code; `undefined` for anything else. */
function fromKeySetError(error: unknown): VerifyFailure | undefined {
  if (error instanceof KeysUnavailable) return { ok: false, code: 'key_unavailable', reason: error.message, cause: error };
  if (error instanceof errors.JWKSNoMatchingKey) {
    return { ok: false, code: 'invalid_signature', description: 'No key matches the token', reason: error.message, cause: error };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { ok: false, code: 'algorithm_not_allowed', reason: error.message, cause: error };
  if (error instanceof errors.JOSEError) return { ok: false, code: 'malformed_token', reason: error.message, cause: error };
  return undefined;
}

/** A malformed token, with as `cause` the error jose raised for it (JWSInvalid unless said). */
const malformed = (reason: string, JoseError: new (message: string) => errors.JOSEError = errors.JWSInvalid): VerifyFailure => ({
  ok: false,
  code: 'malformed_token',
  reason,
  cause: withoutStack(() => new JoseError(reason)),
});

/**
 * What jose refuses in a JWS header before checking its signature: a `crit` naming an extension
 * it does not understand (only `b64` is known), and an unencoded payload (`b64: false`), which a
 * JWT must not use.
 */
function criticalHeaderProblem(header: JWSHeaderParameters): VerifyFailure | undefined {
  const { crit } = header;
  if (crit === undefined) return undefined;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string' || name.length === 0)) {
    return malformed('"crit" (Critical) Header Parameter MUST be an array of non-empty strings when present');
  }
  for (const name of crit) {
    if (name !== 'b64') return malformed(`Extension Header Parameter "${name}" is not recognized`, errors.JOSENotSupported);
    if (header.b64 === undefined) return malformed('Extension Header Parameter "b64" is missing');
  }
  if (typeof header.b64 !== 'boolean') return malformed('The "b64" (base64url-encode payload) Header Parameter must be a boolean');
  return header.b64 ? undefined : malformed('JWTs MUST NOT use unencoded payload', errors.JWTInvalid);
}

/**
 * The cause of every refused signature: one frozen error, shared. A forged token is the attack
 * case, and its refusal should cost the signature check and little else; the specific reason
 * (several keys tried, and so on) goes to the event hook as `reason`.
 */
const SIGNATURE_FAILED = Object.freeze(withoutStack(() => new errors.JWSSignatureVerificationFailed()));

function badSignature(reason = 'signature verification failed'): VerifyFailure {
  return { ok: false, code: 'invalid_signature', reason, cause: SIGNATURE_FAILED };
}

/** The signature check of this runtime (replaced in tests to run both). */
let signatureCheck: SignatureCheck = runtimeSignatureCheck;

/** Uses other signature checks (for tests that compare `node:crypto` with Web Crypto); returns the previous ones. */
export function useSignatureCheck(check: SignatureCheck): SignatureCheck {
  const previous = signatureCheck;
  signatureCheck = check;
  return previous;
}

/** The signature checks in use: `node:crypto` on Node, Web Crypto elsewhere. */
export function signatureCheckName(): SignatureCheck['name'] {
  return signatureCheck.name;
}

/** Whether the signature verifies: a boolean at once with node:crypto, a promise with Web Crypto. */
function signatureValid(decoded: DecodedToken, key: VerifyKey): boolean | Promise<boolean> {
  return signatureCheck.verify(decoded.header.alg, key, decoded.signingInput, decoded.signature);
}

/**
 * A JWK Set (a jose key function): the key it picks for the token, or when several keys match it
 * (no `kid`, or a shared one) each in the set's order. Each costs a signature check, so only the
 * first few are tried: a forged token must not make us try every key of a large set.
 */
async function keySetVerdict(getKey: JWTVerifyGetKey, decoded: DecodedToken): Promise<true | VerifyFailure> {
  const [protectedHeader, payload, signature] = decoded.segments;
  let key: VerifyKey;
  try {
    key = (await getKey(decoded.header, { protected: protectedHeader, payload, signature })) as VerifyKey;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) {
      const failure = fromKeySetError(error);
      if (failure === undefined) throw error;
      return failure;
    }
    const limit = candidateLimit(getKey);
    let tried = 0;
    for await (const candidate of error as unknown as AsyncIterable<CryptoKey>) {
      if (await signatureValid(decoded, candidate)) return true;
      tried += 1;
      if (tried >= limit) break;
    }
    return badSignature(
      `several keys match the token (no kid, or a shared one) and none of the ${tried} tried verified it (at most maxCandidates = ${limit} are tried)`,
    );
  }
  return (await signatureValid(decoded, key)) || badSignature();
}

/**
 * Several keys, in order: the first whose signature verifies decides. Returns the key that
 * verified, or why none did.
 */
async function verifiedBy(
  decoded: DecodedToken,
  { candidates, skipped }: { candidates: readonly Candidate[]; skipped: number },
): Promise<Candidate | VerifyFailure> {
  for (const candidate of candidates) {
    let key: unknown;
    try {
      key = candidate.key();
      if (key instanceof Promise) key = await key;
    } catch (error) {
      // A key a `secret` function returned that jose cannot import for this token's alg.
      const failure = fromKeySetError(error);
      if (failure === undefined) throw error;
      return failure;
    }
    let verdict: true | VerifyFailure;
    if (typeof key === 'function') {
      verdict = await keySetVerdict(key as JWTVerifyGetKey, decoded);
    } else {
      let valid = signatureValid(decoded, key as VerifyKey);
      if (typeof valid !== 'boolean') valid = await valid;
      verdict = valid || badSignature();
    }
    if (verdict === true) return candidate;
    // One key: its failure is the answer. Several: only a signature that did not verify moves on.
    if (candidates.length === 1 || verdict.code !== 'invalid_signature') return verdict;
  }
  const limit = skipped > 0 ? ` (at most ${MAX_KEY_CANDIDATES} are tried: ${skipped} more were not)` : '';
  return badSignature(`none of the ${candidates.length} keys tried verified the signature${limit}`);
}

/**
 * Verifies a compact JWS and its claims, reusing a verification kept in `config.cache`. Returns a
 * result for every kind of bad token; throws only when a user-supplied function (a `secret` or
 * `issuers` function) throws or returns an unusable key. `request` is the framework's request,
 * handed to those functions.
 */
export async function verifyToken<P extends JWTPayload>(token: string, config: VerifyConfig, request?: unknown): Promise<VerifyResult<P>> {
  const now = config.currentDate();
  // Keys that are the same for every request: a token verified moments ago needs nothing more.
  // Keys found per request must be found first (see verifyDecoded).
  let cacheKey: string | undefined;
  if (config.cache !== undefined && !dependsOnRequest(config.keySource)) {
    cacheKey = config.cache.keyFor(token);
    const cached = config.cache.get(cacheKey, now.getTime());
    if (cached !== undefined) return { ok: true, header: cached.header, payload: cached.payload as P };
  }
  const decoded = decodeCompact(token);
  if (decoded === undefined) return { ok: false, code: 'malformed_token', reason: 'not a compact JWS with JSON object header and payload' };
  const result = await verifyDecoded<P>(token, decoded, config, request, now, cacheKey);
  if (result.ok) return result;
  // Why, and what the token claimed, for the event hook (failures are fresh objects: no copy).
  if (config.emit !== undefined) {
    result.reason ??= result.cause instanceof Error ? result.cause.message : (result.description ?? result.code);
    result.claimed = { alg: decoded.header.alg, kid: decoded.header.kid, iss: decoded.payload.iss };
  }
  return result;
}

async function verifyDecoded<P extends JWTPayload>(
  token: string,
  decoded: DecodedToken,
  config: VerifyConfig,
  request: unknown,
  currentDate: Date,
  /** The cache key computed already, for keys that are the same for every request. */
  cacheKey: string | undefined,
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
    issuer = iss;
  }
  if (!algorithms.includes(alg)) return { ok: false, code: 'algorithm_not_allowed', reason: `alg is not one of ${algorithms.join(', ')}` };

  const { cache } = config;
  const now = currentDate.getTime();
  let found: Found;
  try {
    const finding = findKeys(keySource, decoded.header, token, request);
    found = finding instanceof Promise ? await finding : finding;
  } catch (error) {
    // A `secret` function may throw KeysUnavailable (its key server is down): 503, as for a JWK Set.
    const failure = fromKeySetError(error);
    if (failure === undefined) throw error;
    return failure;
  }
  if ('failure' in found) return found.failure;
  const headerProblem = criticalHeaderProblem(decoded.header);
  if (headerProblem !== undefined) return headerProblem;
  // Keys found for this request: a verification kept for the same token counts only if it was
  // made with one of them (a token of one tenant proves nothing at another's host, and a key
  // the function no longer returns no longer verifies anything).
  if (cache !== undefined && dependsOnRequest(config.keySource)) {
    for (const candidate of found.candidates) {
      const cached = cache.get(cache.keyFor(scope + candidate.id + token), now);
      if (cached !== undefined) return { ok: true, header: cached.header, payload: cached.payload as P };
    }
  }
  const used = await verifiedBy(decoded, found);
  if (!('id' in used)) return used;
  const verified: VerifiedToken<P> = { header: decoded.header, payload: decoded.payload as P };

  const refused = checkClaims(decoded.header, decoded.payload, {
    typ: config.typ,
    requiredClaims: config.requiredClaims,
    issuer,
    subject: config.subject,
    audience: config.audience,
    clockTolerance: config.clockTolerance,
    maxTokenAge: config.maxTokenAge,
    currentDate,
  });
  if (refused !== undefined) return refused;

  const mistyped = mistypedClaim(verified.payload);
  if (mistyped !== undefined) return { ok: false, code: 'claim_invalid', description: `The ${mistyped} claim is invalid` };

  // jose checks a future `iat` only together with maxTokenAge; the contract always does (with the
  // default 5 s clockTolerance, an issuer whose clock runs a second ahead still gets through).
  const { iat } = verified.payload;
  if (typeof iat === 'number' && iat > currentDate.getTime() / 1000 + config.clockTolerance) {
    return {
      ok: false,
      code: 'token_not_yet_valid',
      description: 'The token was issued in the future (clockTolerance allows for clock skew)',
      reason: 'iat is in the future',
    };
  }
  cache?.set(cacheKey ?? cache.keyFor(scope + used.id + token), decoded, now, { tolerance: config.clockTolerance, maxTokenAge: config.maxTokenAge });
  return { ok: true, ...verified };
}

/** Turns a failed {@link VerifyResult} into the error the client sees. */
export function verifyError(result: VerifyFailure, realm: string | undefined): AuthError {
  return withoutStack(() => new AuthError(result.code, { realm, description: result.description, cause: result.cause }));
}
