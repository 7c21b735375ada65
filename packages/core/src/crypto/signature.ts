import type { VerifyKey } from '../keys/keys.js';

/**
 * Checks JWS signatures with one runtime's cryptography. Two implement it: `node:crypto`
 * (synchronous, on Node) and Web Crypto (Bun, Deno, Workers, browsers); see `runtime.ts`.
 * Both answer `false` for a signature that does not verify, whatever is wrong with it (wrong
 * length, wrong encoding), and never throw for the token's sake: a bad signature is the common
 * case under attack and must cost no exception.
 */
export interface SignatureCheck {
  /** Which cryptography this is, for diagnostics and tests. */
  readonly name: 'node:crypto' | 'web-crypto';
  /**
   * Whether `signature` is `alg`'s signature of `signingInput` (the token up to its last `.`,
   * ASCII) with `key`. The key has already been chosen for `alg` (see `keys.ts`).
   */
  verify(alg: string, key: VerifyKey, signingInput: string, signature: Uint8Array): boolean | Promise<boolean>;
}

/** The hash of an `HS*`, `RS*`, `PS*` or `ES*` algorithm, as `SHA-256` etc.; undefined for EdDSA. */
export function hashOf(alg: string): 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined {
  switch (alg.slice(2)) {
    case '256':
      return 'SHA-256';
    case '384':
      return 'SHA-384';
    case '512':
      return 'SHA-512';
    default:
      return undefined;
  }
}

/** Bytes of one `r` or `s` in an ECDSA signature (IEEE P1363: `r || s`), by algorithm. */
export const EC_COORDINATE_BYTES: Readonly<Record<string, number>> = { ES256: 32, ES384: 48, ES512: 66 };
