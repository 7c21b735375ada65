import { base64url, calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose';

/** The request a DPoP proof must match. */
export interface DpopProofRequest {
  /** The request method (`htm`). */
  method: string;
  /** The request's absolute URL as its client addressed it (`htu`; query and fragment are ignored). */
  url: string;
  /** The access token sent with the proof; its hash must be the proof's `ath`. Unset at a token endpoint. */
  accessToken?: string | undefined;
}

/** What a proof is checked against, besides the request. */
export interface DpopProofPolicy {
  /** Allowed `alg`s (asymmetric only). */
  algorithms: readonly string[];
  /** Seconds a proof's `iat` may be from `now`, either way. */
  iatWindow: number;
  /** Now, in seconds since the epoch. */
  now: number;
}

/** A proof that verified: the key it was signed with, and what must be checked next. */
export interface VerifiedDpopProof {
  /** The proof verified. */
  ok: true;
  /** The RFC 7638 SHA-256 thumbprint of the proof's key: the `cnf.jkt` a bound token must carry. */
  jkt: string;
  /** The proof's public key. */
  jwk: JWK;
  /** The proof's `jti`, for replay detection. */
  jti: string;
  /** The proof's `iat`. */
  iat: number;
  /** The proof's `nonce`, if it carries one. */
  nonce: string | undefined;
}

/** A proof that did not verify, and why (for logs and the `onEvent` hook, never the key or the token). */
export interface RefusedDpopProof {
  /** The proof did not verify. */
  ok: false;
  /** Why, in words safe to log. */
  reason: string;
}

/** Longest `jti` remembered: a proof's id is a random string (RFC 9449 §4.2 suggests 96 bits or more). */
const MAX_JTI_LENGTH = 256;
/** Longest proof read: a header with an RSA 4096 key and the claims fit well within it. */
const MAX_PROOF_LENGTH = 8192;

/** `htu` and the request URL, compared without query and fragment, after URL normalisation (RFC 9449 §4.3). */
function sameTarget(htu: string, url: string): boolean {
  let claimed: URL;
  let actual: URL;
  try {
    claimed = new URL(htu);
    actual = new URL(url);
  } catch {
    return false;
  }
  return claimed.protocol === actual.protocol && claimed.host === actual.host && claimed.pathname === actual.pathname;
}

/** base64url of the SHA-256 of the access token's ASCII: the proof's `ath` (RFC 9449 §4.2). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))));
}

/**
 * Verifies a DPoP proof JWT (RFC 9449 §4.3): one compact JWS with `typ: dpop+jwt`, an allowed
 * asymmetric `alg`, the public key in `jwk` (jose's EmbeddedJWK refuses a private or symmetric
 * key) whose signature verifies, and `jti`, `htm`, `htu`, `iat` (and `ath` when an access token
 * comes with it) matching the request. Replay, nonce and the token's binding are the caller's.
 */
export async function verifyDpopProof(proof: string, request: DpopProofRequest, policy: DpopProofPolicy): Promise<VerifiedDpopProof | RefusedDpopProof> {
  if (proof.length > MAX_PROOF_LENGTH) return { ok: false, reason: 'the DPoP proof is too long' };
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...policy.algorithms], currentDate: new Date(policy.now * 1000) });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk!;
  } catch (thrown) {
    return { ok: false, reason: `the DPoP proof does not verify: ${proofFailure(thrown)}` };
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return { ok: false, reason: 'the DPoP proof has no valid jti' };
  if (htm !== request.method.toUpperCase()) return { ok: false, reason: 'the DPoP proof htm does not match the request method' };
  if (typeof htu !== 'string' || !sameTarget(htu, request.url)) return { ok: false, reason: 'the DPoP proof htu does not match the request URL' };
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return { ok: false, reason: 'the DPoP proof has no iat' };
  if (Math.abs(policy.now - iat) > policy.iatWindow) return { ok: false, reason: 'the DPoP proof iat is outside the accepted window' };
  if (nonce !== undefined && typeof nonce !== 'string') return { ok: false, reason: 'the DPoP proof nonce is not a string' };
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string' || ath !== (await accessTokenHash(request.accessToken))) {
      return { ok: false, reason: 'the DPoP proof ath is not the hash of the access token' };
    }
  }
  const publicJwk: JWK = { ...jwk };
  return { ok: true, jkt: await calculateJwkThumbprint(publicJwk, 'sha256'), jwk: publicJwk, jti, iat, nonce };
}

/** jose's reason, by class: its messages name header parameters, never key material. */
function proofFailure(thrown: unknown): string {
  if (thrown instanceof errors.JOSEAlgNotAllowed) return 'its alg is not allowed';
  if (thrown instanceof errors.JWSSignatureVerificationFailed) return 'its signature is invalid';
  if (thrown instanceof errors.JWTClaimValidationFailed) return `its ${thrown.claim} is invalid`;
  if (thrown instanceof errors.JWTExpired) return 'it has expired';
  if (thrown instanceof errors.JOSEError) return thrown.message;
  return 'it is not a JWT';
}
