/**
 * The conformance keys, carried from the test (Node) into a Bun, Deno or workerd process as JSON,
 * so that the scenarios' `options(keys)` build there the very options they build in Node, and the
 * tokens Node signs verify in the other runtime.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { exportJWK, importJWK, type JWK } from 'jose';
import type { KeyServer } from '../jwks-server.js';
import type { KeyPair, Keys } from '../fixtures.js';

const PAIRS = { rs: 'RS256', rsOther: 'RS256', ps: 'PS256', es: 'ES256', es512: 'ES512', ed: 'EdDSA' } as const;
type PairName = keyof typeof PAIRS;

/** {@link Keys} as JSON: private and public JWKs, the PEM and the key server's URLs. */
export interface SharedKeys {
  /** Public keys, and the private ones that are extractable (tokens are signed in Node; the issuer signs with `ed`'s). */
  pairs: Record<PairName, { privateKey?: JWK; publicKey: JWK }>;
  rsPublicPem: string;
  esPublicJwk: JWK;
  edNode: { privateKey: JWK; publicKey: JWK };
  urls: Pick<Keys, 'jwksUri' | 'deadJwksUri' | 'familiesJwksUri' | 'brokenJwksUri' | 'discoveryIssuer' | 'tenantIssuer'> & { keyServer: string };
}

/** Exports the keys a Node test made with `makeKeys()`. */
export async function shareKeys(keys: Keys): Promise<SharedKeys> {
  const pairs = {} as SharedKeys['pairs'];
  for (const name of Object.keys(PAIRS) as PairName[]) {
    const { privateKey, publicKey } = keys[name];
    pairs[name] = { publicKey: await exportJWK(publicKey), ...(privateKey.extractable ? { privateKey: await exportJWK(privateKey) } : {}) };
  }
  return {
    pairs,
    rsPublicPem: keys.rsPublicPem,
    esPublicJwk: keys.esPublicJwk,
    edNode: { privateKey: keys.edPrivateKeyObject.export({ format: 'jwk' }), publicKey: keys.edPublicKeyObject.export({ format: 'jwk' }) },
    urls: {
      jwksUri: keys.jwksUri,
      deadJwksUri: keys.deadJwksUri,
      familiesJwksUri: keys.familiesJwksUri,
      brokenJwksUri: keys.brokenJwksUri,
      discoveryIssuer: keys.discoveryIssuer,
      tenantIssuer: keys.tenantIssuer,
      keyServer: keys.keyServer.url,
    },
  };
}

/**
 * The keys again, in the runtime under test. The key server stays in Node: scenarios that change
 * it from `options()` are not run there (the stand-in refuses, so such a scenario cannot pass by
 * accident).
 */
export async function receiveKeys(shared: SharedKeys): Promise<Keys> {
  const refuse = (what = 'the key server runs in the Node test'): never => {
    throw new Error(`${what}; this scenario cannot run in another runtime`);
  };
  const pairs = {} as Record<PairName, KeyPair>;
  for (const name of Object.keys(PAIRS) as PairName[]) {
    const alg = PAIRS[name];
    const { privateKey, publicKey } = shared.pairs[name];
    const pair = { publicKey: (await importJWK(publicKey, alg, { extractable: true })) as CryptoKey } as KeyPair;
    if (privateKey !== undefined) pair.privateKey = (await importJWK(privateKey, alg, { extractable: true })) as CryptoKey;
    else Object.defineProperty(pair, 'privateKey', { get: () => refuse(`the private key "${name}" stays in Node`) });
    pairs[name] = pair;
  }
  const keyServer = {
    url: shared.urls.keyServer,
    jwksUri: `${shared.urls.keyServer}/jwks.json`,
    mode: 'ok',
    setKeys: () => refuse(),
    setDocument: () => refuse(),
    removeDocument: () => refuse(),
    setMode: () => refuse(),
    setDelay: () => refuse(),
    count: () => refuse(),
    resetCounts: () => refuse(),
    close: async () => undefined,
  } satisfies KeyServer;
  const { keyServer: _url, ...urls } = shared.urls;
  return {
    ...pairs,
    ...urls,
    rsPublicPem: shared.rsPublicPem,
    esPublicJwk: shared.esPublicJwk,
    // KeyObjects only when a scenario asks: a Worker without nodejs_compat has no node:crypto.
    get rsPrivateKeyObject() {
      return createPrivateKey({ key: shared.pairs.rs.privateKey ?? refuse('the RSA private key stays in Node'), format: 'jwk' });
    },
    get edPrivateKeyObject() {
      return createPrivateKey({ key: shared.edNode.privateKey, format: 'jwk' });
    },
    get edPublicKeyObject() {
      return createPublicKey({ key: shared.edNode.publicKey, format: 'jwk' });
    },
    keyServer,
    close: async () => undefined,
  };
}
