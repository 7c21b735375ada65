import { base64url } from 'jose';
import { cryptoKeyAlgorithm, isCryptoKey, isKeyObject, type KeyObjectLike, type VerifyKey } from '../keys/keys.js';
import { hashOf, type SignatureCheck } from './signature.js';

type Algorithm = AlgorithmIdentifier | RsaPssParams | EcdsaParams;

/** Web Crypto's parameters for verifying with each JWS algorithm. */
function verifyParams(alg: string): Algorithm | undefined {
  const hash = hashOf(alg);
  switch (alg.slice(0, 2)) {
    case 'HS':
      return { name: 'HMAC' };
    case 'RS':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'PS':
      return hash === undefined ? undefined : { name: 'RSA-PSS', saltLength: Number(alg.slice(2)) / 8 };
    case 'ES':
      return hash === undefined ? undefined : { name: 'ECDSA', hash };
    default:
      return alg === 'EdDSA' || alg === 'Ed25519' ? { name: 'Ed25519' } : undefined;
  }
}

/** What a KeyObject (on Bun or Deno) is imported as, per algorithm. */
function importParams(alg: string): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams | HmacImportParams | undefined {
  const hash = hashOf(alg);
  switch (alg.slice(0, 2)) {
    case 'HS':
      return hash && { name: 'HMAC', hash };
    case 'RS':
      return hash && { name: 'RSASSA-PKCS1-v1_5', hash };
    case 'PS':
      return hash && { name: 'RSA-PSS', hash };
    case 'ES':
      return { name: 'ECDSA', namedCurve: ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg] ?? '' };
    default:
      return { name: 'Ed25519' };
  }
}

const ENCODER = new TextEncoder();

/** CryptoKeys made from bytes or KeyObjects, once per key and algorithm. */
const imported = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

function cryptoKeyFor(alg: string, key: Uint8Array | KeyObjectLike): Promise<CryptoKey> {
  let byAlg = imported.get(key);
  if (byAlg === undefined) {
    byAlg = new Map();
    imported.set(key, byAlg);
  }
  let made = byAlg.get(alg);
  if (made === undefined) {
    const params = importParams(alg)!;
    made =
      key instanceof Uint8Array
        ? crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, params, false, ['verify'])
        : key.type === 'secret'
          ? crypto.subtle.importKey('raw', key.export() as Uint8Array<ArrayBuffer>, params, false, ['verify'])
          : crypto.subtle.importKey('jwk', key.export({ format: 'jwk' }) as JsonWebKey, params, false, ['verify']);
    byAlg.set(alg, made);
  }
  return made;
}

async function verifyAsync(alg: string, key: VerifyKey, signingInput: string, signature: Uint8Array): Promise<boolean> {
  const params = verifyParams(alg);
  if (params === undefined) return false;
  try {
    let cryptoKey: CryptoKey;
    if (key instanceof Uint8Array || isKeyObject(key)) cryptoKey = await cryptoKeyFor(alg, key);
    else if (isCryptoKey(key)) {
      // A CryptoKey is bound to one algorithm (and hash, and curve); Web Crypto would verify with
      // the key's own hash, whatever `alg` says. jose and node:crypto refuse any other alg.
      if (!cryptoKeyAlgorithm(key).includes(alg)) return false;
      cryptoKey = key;
    } else return false;
    return await crypto.subtle.verify(params, cryptoKey, signature as Uint8Array<ArrayBuffer>, ENCODER.encode(signingInput));
  } catch {
    // A key that does not fit the algorithm, or a signature Web Crypto cannot read.
    return false;
  }
}

/** Signature checks with Web Crypto (`crypto.subtle`), the same on every runtime that has it. */
export const webCrypto: SignatureCheck = { name: 'web-crypto', verify: verifyAsync };

/** base64url of the SHA-256 of a string's UTF-8, with Web Crypto (asynchronous). */
export async function webSha256Base64url(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}
