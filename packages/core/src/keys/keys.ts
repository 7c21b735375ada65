import { importJWK, importSPKI, importX509, type JWK } from 'jose';
import { algorithmsFor, normaliseCurve, type KeyFamily } from './algorithms.js';
import { derPublicKeyInfo } from './der.js';
import { cryptoKeyStrengthProblem, hmacAlgorithmsForLength, rsaSizeProblem } from './key-strength.js';
import { secretBytesProblem, secretTextProblem } from './key-text.js';
import { armour, readPem, type PemBlock } from './pem.js';

/** A Node `KeyObject`, described structurally so core needs no Node types. */
export interface KeyObjectLike {
  /** Whether it is a secret (HMAC) key, a public key or a private key. */
  readonly type: 'secret' | 'public' | 'private';
  /** The asymmetric key's type (`'rsa'`, `'rsa-pss'`, `'ec'`, `'ed25519'`, …); unset for a secret key. */
  readonly asymmetricKeyType?: string | undefined;
  /** Details of an asymmetric key; unset for a secret key. */
  readonly asymmetricKeyDetails?:
    | {
        /** An EC key's curve (`'prime256v1'`, `'secp384r1'`, …). */
        namedCurve?: string | undefined;
        /** An RSA key's size, in bits. */
        modulusLength?: number | undefined;
      }
    | undefined;
  /** A secret key's size, in bytes; unset for an asymmetric key. */
  readonly symmetricKeySize?: number | undefined;
  /** The key's material: the bytes of a secret key without options, or the form `options` asks for (`{ format: 'jwk' }`). */
  export(options?: object): unknown;
}

/**
 * A verification key: an HMAC secret (string or bytes), a public key as PEM (SPKI or X.509
 * certificate) string, a public JWK, a Node `KeyObject` or a Web Crypto `CryptoKey`.
 */
export type KeyInput = string | Uint8Array | JWK | CryptoKey | KeyObjectLike;

/** The key handed to jose for one algorithm. */
export type VerifyKey = Uint8Array | CryptoKey | KeyObjectLike;

/** A key ready for use: the algorithms it may verify and a way to get it for one of them. */
export interface PreparedKey {
  readonly algorithms: readonly string[];
  /** The JWK's `kid`, by which a key among several is chosen for a token naming it. */
  readonly kid?: string | undefined;
  /** The key for `alg`: the key itself once it is imported (no await on the hot path), else the import. */
  keyFor(alg: string): VerifyKey | Promise<VerifyKey>;
}

export function isCryptoKey(value: object): value is CryptoKey {
  return (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'CryptoKey';
}

export function isKeyObject(value: object): value is KeyObjectLike {
  return (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'KeyObject';
}

export function cryptoKeyAlgorithm(key: CryptoKey): string[] {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  const bits = algorithm.hash?.name.replace('SHA-', '');
  switch (algorithm.name) {
    case 'HMAC':
      return [`HS${bits}`];
    case 'RSASSA-PKCS1-v1_5':
      return [`RS${bits}`];
    case 'RSA-PSS':
      return [`PS${bits}`];
    case 'ECDSA':
      return algorithmsFor({ kind: 'ec', curve: algorithm.namedCurve ?? '' });
    case 'Ed25519':
    case 'EdDSA':
      return algorithmsFor({ kind: 'ed25519' });
    default:
      return [];
  }
}

export function keyObjectFamily(key: KeyObjectLike): KeyFamily | undefined {
  if (key.type === 'secret') return { kind: 'hmac' };
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { kind: 'rsa' };
    case 'rsa-pss':
      return { kind: 'rsa-pss' };
    case 'ec':
      return { kind: 'ec', curve: normaliseCurve(key.asymmetricKeyDetails?.namedCurve ?? '') };
    case 'ed25519':
      return { kind: 'ed25519' };
    default:
      return undefined;
  }
}

/** The family of a public JWK, or undefined when it is not a usable verification key. */
export function jwkFamily(jwk: JWK): KeyFamily | undefined {
  switch (jwk.kty) {
    case 'oct':
      return { kind: 'hmac' };
    case 'RSA':
      return { kind: 'rsa' };
    case 'EC':
      return { kind: 'ec', curve: jwk.crv ?? '' };
    case 'OKP':
      return jwk.crv === 'Ed25519' ? { kind: 'ed25519' } : undefined;
    default:
      return undefined;
  }
}

/** Algorithms a JWK may verify, narrowed by its own `alg`; none when `use`/`key_ops` forbid verifying. */
export function jwkAlgorithms(jwk: JWK): string[] {
  if (jwk.use !== undefined && jwk.use !== 'sig') return [];
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return [];
  const family = jwkFamily(jwk);
  if (family === undefined) return [];
  const algorithms = algorithmsFor(family);
  return jwk.alg === undefined ? algorithms : algorithms.filter((alg) => alg === jwk.alg);
}

/**
 * Imports once per algorithm, and hands out the imported key itself afterwards, so that checking
 * a token waits for nothing once its key is ready.
 */
function once<T>(make: (alg: string) => Promise<T>): (alg: string) => T | Promise<T> {
  const made = new Map<string, Promise<T>>();
  const ready = new Map<string, T>();
  return (alg) => {
    const key = ready.get(alg);
    if (key !== undefined) return key;
    let making = made.get(alg);
    if (making === undefined) {
      making = make(alg).then((imported) => {
        ready.set(alg, imported);
        return imported;
      });
      made.set(alg, making);
    }
    return making;
  };
}

function isPrivateJwk(jwk: JWK): boolean {
  return ['d', 'p', 'q', 'dp', 'dq', 'qi'].some((field) => field in jwk) && jwk.kty !== 'oct';
}

function hmacKey(bytes: Uint8Array): PreparedKey | string {
  const algorithms = hmacAlgorithmsForLength(bytes.length);
  if (typeof algorithms === 'string') return algorithms;
  // Imported once per algorithm: jose would import raw bytes again on every verification.
  const importHmac = (alg: string) =>
    crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify']);
  return { algorithms, keyFor: once(importHmac) };
}

function base64UrlLength(value: unknown): number {
  return typeof value === 'string' ? Math.floor((value.replace(/=+$/, '').length * 3) / 4) : 0;
}

function preparePem(pem: PemBlock): PreparedKey | string {
  const { kind, label, der } = pem;
  if (kind === 'private') return 'a private key was given; pass the public key (or certificate) instead';
  if (label === 'RSA PUBLIC KEY') {
    return 'the PEM is a PKCS #1 RSA PUBLIC KEY; convert it to SPKI (openssl rsa -RSAPublicKey_in -in key.pem -pubout) and pass that';
  }
  if (kind === 'other') return `the PEM holds a ${label}, which is neither a public key (SPKI) nor a certificate`;
  const info = der && derPublicKeyInfo(der, kind === 'certificate');
  if (der === undefined || info === undefined || algorithmsFor(info.family).length === 0) return 'the PEM key type is not supported';
  const tooSmall = rsaSizeProblem(info.modulusBits);
  if (tooSmall !== undefined) return tooSmall;
  // Re-armoured, so whitespace or text around the block cannot make jose refuse it per request.
  const text = armour(label, der);
  const importer = kind === 'public' ? importSPKI : importX509;
  return { algorithms: algorithmsFor(info.family), keyFor: once((alg) => importer(text, alg)) };
}

function prepareCryptoKey(key: CryptoKey): PreparedKey | string {
  if (key.type === 'private') return 'a private CryptoKey was given; pass the public key instead';
  return cryptoKeyStrengthProblem(key) ?? { algorithms: cryptoKeyAlgorithm(key), keyFor: () => key };
}

function prepareKeyObject(key: KeyObjectLike): PreparedKey | string {
  if (key.type === 'private') return 'a private KeyObject was given; pass the public key instead';
  const family = keyObjectFamily(key);
  if (family === undefined) return 'the KeyObject type is not supported';
  // Neither Web Crypto nor jose can use an id-RSASSA-PSS key, so it could verify on no runtime but
  // Node; an ordinary RSA key verifies PS256/384/512 as well.
  if (family.kind === 'rsa-pss') {
    return 'an RSA-PSS KeyObject (id-RSASSA-PSS) cannot be used; pass the RSA key in its usual form (SPKI "rsaEncryption", a JWK with kty "RSA"), which verifies PS256/384/512 too';
  }
  if (family.kind === 'hmac') {
    const algorithms = hmacAlgorithmsForLength(key.symmetricKeySize ?? 0);
    return typeof algorithms === 'string' ? algorithms : { algorithms, keyFor: () => key };
  }
  const tooSmall = rsaSizeProblem(key.asymmetricKeyDetails?.modulusLength);
  if (tooSmall !== undefined) return tooSmall;
  return { algorithms: algorithmsFor(family), keyFor: () => key };
}

function prepareJwk(jwk: JWK): PreparedKey | string {
  if (typeof jwk.kty !== 'string') return 'the key object is not a JWK (it has no kty)';
  if (isPrivateJwk(jwk)) return 'a private JWK was given; pass the public key instead';
  let algorithms = jwkAlgorithms(jwk);
  if (jwk.kty === 'oct') {
    const allowed = hmacAlgorithmsForLength(base64UrlLength(jwk.k));
    if (typeof allowed === 'string') return allowed;
    algorithms = algorithms.filter((alg) => allowed.includes(alg));
  }
  if (jwk.kty === 'RSA') {
    const tooSmall = rsaSizeProblem(base64UrlLength(jwk.n) * 8);
    if (tooSmall !== undefined) return tooSmall;
  }
  if (algorithms.length === 0) return 'the JWK cannot verify signatures (unsupported kty/crv, or use/key_ops/alg exclude it)';
  const keyFor = once((alg) => importJWK({ ...jwk, alg }, alg)) as (alg: string) => VerifyKey | Promise<VerifyKey>;
  return typeof jwk.kid === 'string' ? { algorithms, kid: jwk.kid, keyFor } : { algorithms, keyFor };
}

/**
 * Whether a value a `secret` function returned is meant as a key: a string, bytes, a `CryptoKey`,
 * a `KeyObject` or an object with a `kty`. Anything else (`undefined`, a number, a function, an
 * object such as `Object.prototype` that `keys[kid]` yields for kid `__proto__`) means "no key
 * for this token", not a broken configuration.
 */
export function isKeyShaped(value: unknown): boolean {
  if (typeof value === 'string' || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  return isCryptoKey(value) || isKeyObject(value) || typeof (value as { kty?: unknown }).kty === 'string';
}

/**
 * Prepares a key for verification, or returns a sentence saying what is wrong with it. Keys are
 * imported once per algorithm and reused. HMAC secrets must be as long as the hash (RFC 7518
 * §3.2), RSA keys at least 2048 bits, and key text (a PEM read as bytes, a JWK Set, an SSH key,
 * base64 DER…) is never taken as an HMAC secret.
 */
export function prepareKey(input: KeyInput): PreparedKey | string {
  if (typeof input === 'string') {
    const pem = readPem(input);
    if (typeof pem === 'string') return pem;
    if (pem !== undefined) return preparePem(pem);
    return secretTextProblem(input, 'verify') ?? hmacKey(new TextEncoder().encode(input));
  }
  if (input instanceof Uint8Array) return secretBytesProblem(input, 'verify') ?? hmacKey(input);
  if (typeof input !== 'object' || input === null || ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
    return 'the key must be a string, bytes (a Uint8Array), a JWK, a KeyObject or a CryptoKey';
  }
  if (isCryptoKey(input)) return prepareCryptoKey(input);
  if (isKeyObject(input)) return prepareKeyObject(input);
  return prepareJwk(input);
}
