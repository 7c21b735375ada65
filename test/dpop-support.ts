// DPoP (RFC 9449) for the token endpoint tests: a client's proof key and the proofs it signs.
import { accessTokenHash } from '@jwtauth/core';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A client's proof key: the private key it signs with, its public JWK and its thumbprint (`cnf.jkt`). */
export interface ProofKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

export async function proofKey(): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

/** A DPoP proof for `htm` `htu`, with `ath` when an access token is sent with it. */
export async function dpopProof(key: ProofKey, htm: string, htu: string, accessToken?: string): Promise<string> {
  const ath = accessToken === undefined ? {} : { ath: await accessTokenHash(accessToken) };
  return new SignJWT({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...ath })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
}
