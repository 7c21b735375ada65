import { importJWK, importSPKI, importX509, type JWK } from 'jose';
import { algorithmsFor, normaliseCurve, type KeyFamily } from './algorithms.js';
import { pemKeyFamily, pemKind } from './pem.js';

/** A Node `KeyObject`, described structurally so core needs no Node types. */
export interface KeyObjectLike {
  readonly type: 'secret' | 'public' | 'private';
  readonly asymmetricKeyType?: string | undefined;
  readonly asymmetricKeyDetails?: { namedCurve?: string | undefined } | undefined;
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
  keyFor(alg: string): Promise<VerifyKey>;
}

function isCryptoKey(value: object): value is CryptoKey {
  return (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'CryptoKey';
}

function isKeyObject(value: object): value is KeyObjectLike {
  return (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'KeyObject';
}

function cryptoKeyAlgorithm(key: CryptoKey): string[] {
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

function keyObjectFamily(key: KeyObjectLike): KeyFamily | undefined {
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

function once<T>(make: (alg: string) => Promise<T>): (alg: string) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (alg) => {
    let key = made.get(alg);
    if (key === undefined) {
      key = make(alg);
      made.set(alg, key);
    }
    return key;
  };
}

function isPrivateJwk(jwk: JWK): boolean {
  return ['d', 'p', 'q', 'dp', 'dq', 'qi'].some((field) => field in jwk) && jwk.kty !== 'oct';
}

/**
 * Prepares a key for verification, or returns a sentence saying what is wrong with it. Keys are
 * imported once per algorithm and reused.
 */
export function prepareKey(input: KeyInput): PreparedKey | string {
  if (typeof input === 'string') {
    const kind = pemKind(input);
    if (kind === undefined) {
      if (input.length === 0) return 'the HMAC secret is empty';
      const bytes = new TextEncoder().encode(input);
      return { algorithms: algorithmsFor({ kind: 'hmac' }), keyFor: async () => bytes };
    }
    if (kind === 'private') return 'a private key was given; pass the public key (or certificate) instead';
    if (kind === 'other') return 'the PEM string is neither a public key (SPKI) nor a certificate';
    const family = pemKeyFamily(input);
    if (family === undefined || algorithmsFor(family).length === 0) return 'the PEM key type is not supported';
    const importer = kind === 'public' ? importSPKI : importX509;
    return { algorithms: algorithmsFor(family), keyFor: once((alg) => importer(input, alg)) };
  }
  if (input instanceof Uint8Array) {
    if (input.length === 0) return 'the HMAC secret is empty';
    return { algorithms: algorithmsFor({ kind: 'hmac' }), keyFor: async () => input };
  }
  if (typeof input !== 'object' || input === null) return 'the key must be a string, bytes, a JWK, a KeyObject or a CryptoKey';
  if (isCryptoKey(input)) {
    if (input.type === 'private') return 'a private CryptoKey was given; pass the public key instead';
    return { algorithms: cryptoKeyAlgorithm(input), keyFor: async () => input };
  }
  if (isKeyObject(input)) {
    if (input.type === 'private') return 'a private KeyObject was given; pass the public key instead';
    const family = keyObjectFamily(input);
    if (family === undefined) return 'the KeyObject type is not supported';
    return { algorithms: algorithmsFor(family), keyFor: async () => input };
  }
  const jwk = input as JWK;
  if (typeof jwk.kty !== 'string') return 'the key object is not a JWK (it has no kty)';
  if (isPrivateJwk(jwk)) return 'a private JWK was given; pass the public key instead';
  const algorithms = jwkAlgorithms(jwk);
  if (algorithms.length === 0) return 'the JWK cannot verify signatures (unsupported kty/crv, or use/key_ops/alg exclude it)';
  return {
    algorithms,
    keyFor: once(async (alg) => {
      const key = await importJWK({ ...jwk, alg }, alg);
      return key;
    }),
  };
}
