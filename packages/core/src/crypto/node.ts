import { cryptoKeyAlgorithm, isCryptoKey, isKeyObject, keyObjectFamily, type KeyObjectLike, type VerifyKey } from '../keys/keys.js';
import { algorithmsFor } from '../keys/algorithms.js';
import { EC_COORDINATE_BYTES, hashOf, type SignatureCheck } from './signature.js';

/**
 * The part of `node:crypto` used here, described structurally: core is built without Node's
 * types and must load on runtimes that have no `node:crypto`.
 */
interface NodeKeyObject extends KeyObjectLike {
  equals?(other: NodeKeyObject): boolean;
}
export interface NodeCrypto {
  createSecretKey(key: Uint8Array): NodeKeyObject;
  createHmac(algorithm: string, key: NodeKeyObject): { update(data: string): { digest(): Uint8Array } };
  verify(
    algorithm: string | null,
    data: Uint8Array,
    key: NodeKeyObject | { key: NodeKeyObject; padding?: number; saltLength?: number; dsaEncoding?: string },
    signature: Uint8Array,
  ): boolean;
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  hash(algorithm: 'sha256', data: string, encoding: 'base64' | 'base64url'): string;
  KeyObject: { from(key: CryptoKey): NodeKeyObject };
  constants: { RSA_PKCS1_PSS_PADDING: number };
}

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

/**
 * `node:crypto`, when this runtime is Node. `process.getBuiltinModule` (Node ≥ 20.16) loads it
 * without an `import` statement, so bundlers for other runtimes see nothing to resolve.
 */
export function loadNodeCrypto(): NodeCrypto | undefined {
  const process = (globalThis as { process?: NodeProcess }).process;
  const nodeCrypto = process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  // crypto.hash is Node >= 20.12; an older Node (or a partial polyfill) keeps Web Crypto.
  return typeof nodeCrypto?.hash === 'function' ? nodeCrypto : undefined;
}

/** A key made ready for `node:crypto`, with the algorithms it may check (never more than the key's own). */
interface NodeKey {
  keyObject: NodeKeyObject;
  algorithms: readonly string[];
}

const HASHES = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' } as const;

/**
 * Signature checks with `node:crypto`, synchronous: no hop to libuv's thread pool (where Web
 * Crypto's checks queue behind scrypt and file I/O), about 1 µs for an HMAC. Keys become
 * `KeyObject`s once each.
 */
export function nodeSignatureCheck(nodeCrypto: NodeCrypto): SignatureCheck {
  const encoder = new TextEncoder();
  const prepared = new WeakMap<object, NodeKey>();

  function nodeKey(key: VerifyKey): NodeKey | undefined {
    if (typeof key !== 'object' || key === null) return undefined;
    let made = prepared.get(key);
    if (made === undefined) {
      if (key instanceof Uint8Array) {
        // Web Crypto cannot import an empty HMAC key (nor can jose): refused here too.
        made = { keyObject: nodeCrypto.createSecretKey(key.slice()), algorithms: key.length === 0 ? [] : ['HS256', 'HS384', 'HS512'] };
      } else if (isCryptoKey(key)) {
        // A CryptoKey is bound to its algorithm (and HMAC hash): only that one may use it.
        made = { keyObject: nodeCrypto.KeyObject.from(key), algorithms: key.usages.includes('verify') ? cryptoKeyAlgorithm(key) : [] };
      } else if (isKeyObject(key)) {
        const family = keyObjectFamily(key);
        // Keys Web Crypto (and jose) cannot import verify nothing here either, so that every
        // runtime gives the same answer: an empty HMAC secret, and an `rsa-pss` KeyObject (an
        // RSA key restricted to PSS, whose SPKI Web Crypto refuses and which has no JWK form).
        const unusable = family === undefined || family.kind === 'rsa-pss' || (family.kind === 'hmac' && key.symmetricKeySize === 0);
        made = { keyObject: key, algorithms: unusable ? [] : algorithmsFor(family) };
      } else {
        return undefined;
      }
      prepared.set(key, made);
    }
    return made;
  }

  function verify(alg: string, key: VerifyKey, signingInput: string, signature: Uint8Array): boolean {
    const made = nodeKey(key);
    if (made === undefined || !made.algorithms.includes(alg)) return false;
    const { keyObject } = made;
    const hash = hashOf(alg);
    const digest = hash === undefined ? null : HASHES[hash];
    try {
      switch (alg.slice(0, 2)) {
        case 'HS': {
          const expected = nodeCrypto.createHmac(digest!, keyObject).update(signingInput).digest();
          return expected.length === signature.length && nodeCrypto.timingSafeEqual(expected, signature);
        }
        case 'RS':
          return nodeCrypto.verify(digest, encoder.encode(signingInput), keyObject, signature);
        case 'PS':
          return nodeCrypto.verify(
            digest,
            encoder.encode(signingInput),
            { key: keyObject, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 },
            signature,
          );
        case 'ES':
          // Web Crypto refuses any other length; so must this (DER or padded forms are not JWS).
          if (signature.length !== 2 * EC_COORDINATE_BYTES[alg]!) return false;
          return nodeCrypto.verify(digest, encoder.encode(signingInput), { key: keyObject, dsaEncoding: 'ieee-p1363' }, signature);
        default:
          return nodeCrypto.verify(null, encoder.encode(signingInput), keyObject, signature);
      }
    } catch {
      // A key that does not fit the algorithm, or a signature OpenSSL cannot read.
      return false;
    }
  }

  return { name: 'node:crypto', verify };
}
