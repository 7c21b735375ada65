import { exportJWK, importJWK, importPKCS8, importSPKI, importX509, type JWK } from 'jose';
import { internals, type KeyInput, type KeyObjectLike } from '@jwtauth/core';

const {
  algorithmsFor,
  armour,
  cryptoKeyAlgorithm,
  cryptoKeyStrengthProblem,
  hmacAlgorithmsForLength,
  isCryptoKey,
  isKeyObject,
  jwkFamily,
  keyObjectFamily,
  pkcs8KeyFamily,
  prepareKey,
  readPem,
  rsaSizeProblem,
  secretBytesProblem,
  secretTextProblem,
} = internals;
type KeyFamily = internals.KeyFamily;

/** A key tokens are signed with: an HMAC secret, or a private key (PKCS #8 PEM, JWK, `KeyObject`, `CryptoKey`). */
export type SigningKeyInput = string | Uint8Array | JWK | CryptoKey | KeyObjectLike;

/** A key that verifies the signatures of one algorithm: a signing key's, or a retired key's. */
export interface VerifyingKey {
  readonly alg: string;
  /** The same secret for HMAC, or the public key as a JWK (its public members and `alg` only). */
  verificationKey(): Promise<KeyInput>;
}

/** A signing key ready for use, with the key that verifies its signatures. */
export interface SigningKey extends VerifyingKey {
  /** The key jose signs with. */
  signingKey(): Promise<Uint8Array | CryptoKey | KeyObjectLike>;
}

/** Whether signatures of `alg` are made with a shared secret, which must never be published. */
export const isSymmetric = (alg: string): boolean => alg.startsWith('HS');

const DEFAULT_ALGORITHM: Record<KeyFamily['kind'], string> = {
  hmac: 'HS256',
  rsa: 'RS256',
  'rsa-pss': 'PS256',
  ec: '',
  ed25519: 'EdDSA',
};

const PUBLIC_MEMBERS = ['kty', 'crv', 'n', 'e', 'x', 'y'] as const;

/** The public half of a private JWK: only the members RFC 7518 §6 defines for public keys. */
export function publicJwk(jwk: JWK): JWK {
  const entries = PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]);
  return Object.fromEntries(entries) as JWK;
}

function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** The algorithm to sign with: the requested one if the key fits it, else the family's default. */
function chooseAlgorithm(usable: readonly string[], family: KeyFamily, requested: string | undefined): string | { problem: string } {
  const fallback = family.kind === 'ec' ? usable[0] : DEFAULT_ALGORITHM[family.kind];
  const alg = requested ?? fallback;
  if (alg === undefined || !usable.includes(alg)) {
    return { problem: `this key cannot sign ${alg ?? 'anything'}; it can sign ${usable.join(', ') || 'nothing'}` };
  }
  return alg;
}

/** An HMAC key of `length` bytes: the same key signs and verifies. */
function hmacSigningKey(key: Uint8Array | KeyObjectLike, length: number, requested: string | undefined): SigningKey | string {
  const usable = hmacAlgorithmsForLength(length);
  if (typeof usable === 'string') return usable;
  const alg = chooseAlgorithm(usable, { kind: 'hmac' }, requested);
  if (typeof alg !== 'string') return alg.problem;
  return { alg, signingKey: async () => key, verificationKey: async () => key };
}

function asymmetric(
  family: KeyFamily | undefined,
  requested: string | undefined,
  importKey: (alg: string) => Promise<CryptoKey | KeyObjectLike>,
  exportPublic: (key: CryptoKey | KeyObjectLike) => Promise<JWK>,
): SigningKey | string {
  if (family === undefined) return 'the private key type is not supported';
  const alg = chooseAlgorithm(algorithmsFor(family), family, requested);
  if (typeof alg !== 'string') return alg.problem;
  const signingKey = memo(() => importKey(alg));
  return { alg, signingKey, verificationKey: memo(async () => ({ ...(await exportPublic(await signingKey())), alg })) };
}

const exportPublicJwk = async (key: CryptoKey | KeyObjectLike) => publicJwk(await exportJWK(key));

/**
 * Prepares a signing key, or returns a sentence saying what is wrong with it. `requested` is the
 * algorithm to sign with; by default HS256, RS256, PS256 (RSA-PSS keys), the curve's ES* or EdDSA.
 */
export function prepareSigningKey(input: SigningKeyInput, requested?: string): SigningKey | string {
  if (typeof input === 'string') {
    const pem = readPem(input);
    if (typeof pem === 'string') return pem;
    if (pem === undefined) {
      const bytes = new TextEncoder().encode(input);
      return secretTextProblem(input, 'sign') ?? hmacSigningKey(bytes, bytes.length, requested);
    }
    if (pem.kind !== 'private') return 'a public key cannot sign; pass the private key (PKCS #8 PEM)';
    const family = pem.label === 'PRIVATE KEY' && pem.der !== undefined ? pkcs8KeyFamily(pem.der) : undefined;
    if (pem.der === undefined || family === undefined) {
      return 'the private key must be a PKCS #8 PEM (-----BEGIN PRIVATE KEY-----) of a supported type; openssl pkcs8 -topk8 -nocrypt converts other forms';
    }
    // Re-armoured, so whitespace or text around the block cannot make jose refuse it when signing.
    const text = armour(pem.label, pem.der);
    return asymmetric(family, requested, (alg) => importPKCS8(text, alg, { extractable: true }), exportPublicJwk);
  }
  if (input instanceof Uint8Array) return secretBytesProblem(input, 'sign') ?? hmacSigningKey(input, input.length, requested);
  if (typeof input !== 'object' || input === null) return 'the key must be a string, bytes, a JWK, a KeyObject or a CryptoKey';
  if (isCryptoKey(input)) {
    const weak = cryptoKeyStrengthProblem(input);
    if (weak !== undefined) return weak;
    const usable = cryptoKeyAlgorithm(input);
    const alg = requested ?? usable[0];
    if (alg === undefined || !usable.includes(alg)) return `this CryptoKey cannot sign ${alg ?? 'anything'}`;
    if (input.type === 'secret') return { alg, signingKey: async () => input, verificationKey: async () => input };
    if (input.type !== 'private') return 'a public key cannot sign; pass the private key';
    if (!input.extractable) return 'the private CryptoKey must be extractable, so that its public key can be derived';
    return { alg, signingKey: async () => input, verificationKey: memo(async () => ({ ...(await exportPublicJwk(input)), alg })) };
  }
  if (isKeyObject(input)) {
    if (input.type === 'secret') return hmacSigningKey(input, input.symmetricKeySize ?? 0, requested);
    if (input.type !== 'private') return 'a public key cannot sign; pass the private key';
    const tooSmall = rsaSizeProblem(input.asymmetricKeyDetails?.modulusLength);
    if (tooSmall !== undefined) return tooSmall;
    return asymmetric(keyObjectFamily(input), requested, async () => input, exportPublicJwk);
  }
  const jwk = input;
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string') return 'the oct JWK has no k';
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(jwk.k.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    } catch {
      return 'the oct JWK has a k that is not base64url';
    }
    return hmacSigningKey(bytes, bytes.length, requested);
  }
  if (typeof jwk.d !== 'string') return 'a public JWK cannot sign; pass the private JWK';
  if (jwk.kty === 'RSA') {
    const tooSmall = rsaSizeProblem(typeof jwk.n === 'string' ? Math.floor((jwk.n.length * 3) / 4) * 8 : 0);
    if (tooSmall !== undefined) return tooSmall;
  }
  return asymmetric(
    jwkFamily(jwk),
    requested ?? jwk.alg,
    (alg) => importJWK({ ...jwk, alg }, alg) as Promise<CryptoKey>,
    async () => publicJwk(jwk),
  );
}

/** Whether a key given to verify with is a public key (or certificate), rather than a secret or a private key. */
function isPublicKeyInput(input: SigningKeyInput): boolean {
  if (typeof input === 'string') {
    const pem = readPem(input);
    // A PEM that is no private key: core's reader says best what it is (a PKCS #1 public key…).
    return typeof pem === 'object' && pem.kind !== 'private';
  }
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array) return false;
  if (isCryptoKey(input) || isKeyObject(input)) return input.type === 'public';
  const jwk = input;
  return jwk.kty !== 'oct' && jwk.d === undefined;
}

/**
 * Prepares a key that only has to verify (a retired signing key), or returns a sentence saying
 * what is wrong with it: what {@link prepareSigningKey} takes, or the public key alone (SPKI PEM,
 * X.509 certificate, public JWK, `KeyObject` or extractable `CryptoKey`). `requested` is the
 * algorithm it signed with; by default as for {@link prepareSigningKey}, or the JWK's own `alg`.
 */
export function prepareVerifyingKey(input: SigningKeyInput, requested?: string): VerifyingKey | string {
  if (!isPublicKeyInput(input)) return prepareSigningKey(input, requested);
  // Core's checks of a verification key (PEM armour, RSA size, curve), with the algorithms it allows.
  const prepared = prepareKey(input);
  if (typeof prepared === 'string') return prepared;
  const jwk = typeof input === 'object' && !isCryptoKey(input) && !isKeyObject(input) ? (input as JWK) : undefined;
  const usable = prepared.algorithms;
  // The first of the family's algorithms is its default (RS256, the curve's ES*, EdDSA), as for signing keys.
  const alg = requested ?? jwk?.alg ?? usable[0];
  if (alg === undefined || !usable.includes(alg)) return `this key cannot verify ${alg ?? 'anything'}; it can verify ${usable.join(', ') || 'nothing'}`;
  if (typeof input === 'object' && isCryptoKey(input) && !input.extractable) {
    return 'the public CryptoKey must be extractable, so that it can be published in the JWK Set';
  }
  let exported: () => Promise<JWK>;
  if (jwk !== undefined) exported = async () => publicJwk(jwk);
  else if (typeof input === 'string') {
    const pem = readPem(input) as { label: string; kind: string; der: Uint8Array };
    const text = armour(pem.label, pem.der);
    const importer = pem.kind === 'public' ? importSPKI : importX509;
    exported = async () => exportPublicJwk(await importer(text, alg, { extractable: true }));
  } else exported = () => exportPublicJwk(input as CryptoKey | KeyObjectLike);
  return { alg, verificationKey: memo(async () => ({ ...(await exported()), alg })) };
}
