import type { JWK } from 'jose';
import { runtimeSignatureCheck, sha256Base64url } from '../crypto/runtime.js';
import { decodeCompact } from '../jwt/compact.js';
import { prepareKey, type PreparedKey } from '../keys/keys.js';

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
  /** The proof's public key (its RFC 7638 members). */
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
/** Private or symmetric key members: a proof's `jwk` must be a public key (RFC 9449 §4.3 check 7). */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const refused = (reason: string): RefusedDpopProof => ({ ok: false, reason });

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
  return sha256Base64url(accessToken);
}

/**
 * The RFC 7638 members of a public JWK in their canonical JSON (what its thumbprint hashes), with
 * the key itself reduced to them; `undefined` for a key that is not a public EC, RSA or OKP key.
 */
function thumbprintInput(jwk: Record<string, unknown>): { input: string; key: JWK } | undefined {
  if (SECRET_MEMBERS.some((member) => Object.hasOwn(jwk, member))) return undefined;
  const text = (name: string) => (typeof jwk[name] === 'string' && jwk[name] !== '' ? jwk[name] : undefined);
  const [kty, crv, x, y, n, e] = [text('kty'), text('crv'), text('x'), text('y'), text('n'), text('e')];
  // Members in lexicographic order, as RFC 7638 §3.2 requires; JSON.stringify escapes as it does.
  if (kty === 'EC' && crv !== undefined && x !== undefined && y !== undefined) {
    return { input: JSON.stringify({ crv, kty, x, y }), key: { kty, crv, x, y } };
  }
  if (kty === 'RSA' && n !== undefined && e !== undefined) return { input: JSON.stringify({ e, kty, n }), key: { kty, n, e } };
  if (kty === 'OKP' && crv !== undefined && x !== undefined) return { input: JSON.stringify({ crv, kty, x }), key: { kty, crv, x } };
  return undefined;
}

/** A proof key ready for use: its thumbprint and the prepared key, or why it cannot be one. */
type ProofKey = { jkt: string; prepared: PreparedKey } | { problem: string };

/**
 * Proof keys by their thumbprint input. A client signs every proof with the same key, so its key is
 * imported and hashed once, not per request. Bounded: a flood of made-up keys costs each an import
 * (as it would without the cache) and evicts the oldest.
 */
const proofKeys = new Map<string, Promise<ProofKey>>();
const MAX_PROOF_KEYS = 1000;

function proofKeyOf(input: string, key: JWK): Promise<ProofKey> {
  let made = proofKeys.get(input);
  if (made === undefined) {
    made = (async (): Promise<ProofKey> => {
      const prepared = prepareKey(key);
      if (typeof prepared === 'string') return { problem: prepared };
      return { jkt: await sha256Base64url(input), prepared };
    })();
    if (proofKeys.size >= MAX_PROOF_KEYS) proofKeys.delete(proofKeys.keys().next().value!);
    proofKeys.set(input, made);
  }
  return made;
}

/** `typ` as RFC 7515 §4.1.9 lets it be written: case-insensitive, `application/` optional. */
function isDpopType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'dpop+jwt' || lower === 'application/dpop+jwt';
}

/**
 * Verifies a DPoP proof JWT (RFC 9449 §4.3): one compact JWS with `typ: dpop+jwt`, an allowed
 * asymmetric `alg`, no `crit`, the public key in `jwk` (a private or symmetric key is refused)
 * whose signature verifies, and `jti`, `htm`, `htu`, `iat` (and `ath` when an access token comes
 * with it) matching the request; `exp` and `nbf`, when present, hold. Replay, nonce and the
 * token's binding are the caller's. The signature is checked with core's own verifier
 * (synchronous `node:crypto` on Node) and each client key is imported once.
 */
export async function verifyDpopProof(proof: string, request: DpopProofRequest, policy: DpopProofPolicy): Promise<VerifiedDpopProof | RefusedDpopProof> {
  if (proof.length > MAX_PROOF_LENGTH) return refused('the DPoP proof is too long');
  const decoded = decodeCompact(proof);
  if (decoded === undefined) return refused('the DPoP proof does not verify: it is not a JWT');
  const { header, payload } = decoded;
  if (!isDpopType(header.typ)) return refused('the DPoP proof does not verify: its typ is not dpop+jwt');
  if (!policy.algorithms.includes(header.alg)) return refused('the DPoP proof does not verify: its alg is not allowed');
  // No extension is understood here (RFC 7515 §4.1.11); b64 only exists with crit.
  if (header.crit !== undefined || header.b64 !== undefined) return refused('the DPoP proof does not verify: it names crit or b64');
  const jwk = header.jwk as unknown;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refused('the DPoP proof does not verify: it has no jwk');
  const thumbprint = thumbprintInput(jwk as Record<string, unknown>);
  if (thumbprint === undefined) return refused('the DPoP proof does not verify: its jwk is not a public key');
  const key = await proofKeyOf(thumbprint.input, thumbprint.key);
  if ('problem' in key) return refused(`the DPoP proof does not verify: its jwk cannot be used (${key.problem})`);
  if (!key.prepared.algorithms.includes(header.alg)) return refused('the DPoP proof does not verify: its alg does not fit its jwk');
  let verifyKey;
  try {
    verifyKey = await key.prepared.keyFor(header.alg);
  } catch {
    return refused('the DPoP proof does not verify: its jwk cannot be imported');
  }
  if (!(await runtimeSignatureCheck.verify(header.alg, verifyKey, decoded.signingInput, decoded.signature))) {
    return refused('the DPoP proof does not verify: its signature is invalid');
  }

  const { jti, htm, htu, iat, ath, nonce, exp, nbf } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return refused('the DPoP proof has no valid jti');
  if (htm !== request.method.toUpperCase()) return refused('the DPoP proof htm does not match the request method');
  if (typeof htu !== 'string' || !sameTarget(htu, request.url)) return refused('the DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return refused('the DPoP proof has no iat');
  if (Math.abs(policy.now - iat) > policy.iatWindow) return refused('the DPoP proof iat is outside the accepted window');
  if (exp !== undefined && (typeof exp !== 'number' || exp <= policy.now)) return refused('the DPoP proof has expired (exp)');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > policy.now)) return refused('the DPoP proof is not valid yet (nbf)');
  if (nonce !== undefined && typeof nonce !== 'string') return refused('the DPoP proof nonce is not a string');
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string' || ath !== (await sha256Base64url(request.accessToken))) {
      return refused('the DPoP proof ath is not the hash of the access token');
    }
  }
  return { ok: true, jkt: key.jkt, jwk: { ...thumbprint.key }, jti, iat, nonce };
}
