/** RFC 7518 §3.2: an HMAC key at least as long as the hash output. */
const HMAC_MINIMUM_BYTES: ReadonlyArray<readonly [string, number]> = [
  ['HS256', 32],
  ['HS384', 48],
  ['HS512', 64],
];

/** RFC 7518 §3.3 and jose: RSA keys of fewer bits are refused. */
export const RSA_MINIMUM_BITS = 2048;

/**
 * The HMAC algorithms a secret of this many bytes is long enough for, or a sentence saying why
 * it is too short for all of them.
 */
export function hmacAlgorithmsForLength(bytes: number): string[] | string {
  const algorithms = HMAC_MINIMUM_BYTES.filter(([, minimum]) => bytes >= minimum).map(([alg]) => alg);
  if (algorithms.length > 0) return algorithms;
  return `the HMAC secret is ${bytes} bytes; RFC 7518 §3.2 requires at least 32 bytes for HS256, 48 for HS384 and 64 for HS512`;
}

/** A sentence for an RSA key below the minimum size, or undefined when it is large enough. */
export function rsaSizeProblem(bits: number | undefined): string | undefined {
  if (bits === undefined || bits >= RSA_MINIMUM_BITS) return undefined;
  return `the RSA key has ${bits} bits; at least ${RSA_MINIMUM_BITS} are required`;
}

/**
 * A sentence when a Web Crypto key is too weak (HMAC shorter than SHA-256's output, RSA under
 * 2048 bits), or undefined. A CryptoKey carries its size in `algorithm`.
 */
export function cryptoKeyStrengthProblem(key: CryptoKey): string | undefined {
  const algorithm = key.algorithm as { name: string; length?: number; modulusLength?: number };
  if (algorithm.name === 'HMAC') {
    const allowed = hmacAlgorithmsForLength((algorithm.length ?? 0) / 8);
    if (typeof allowed === 'string') return allowed;
  }
  return rsaSizeProblem(algorithm.modulusLength);
}
