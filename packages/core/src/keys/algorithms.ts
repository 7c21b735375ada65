/** JWS algorithms this package verifies. `none` is deliberately absent and can never be added. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export const RSA_PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'] as const;
export const EDDSA_ALGORITHMS = ['EdDSA', 'Ed25519'] as const;
const EC_BY_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

/** Every algorithm name accepted in the `algorithms` option. */
export const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set([...HMAC_ALGORITHMS, ...RSA_ALGORITHMS, ...Object.values(EC_BY_CURVE), ...EDDSA_ALGORITHMS]);

/** The algorithm family a key belongs to, which fixes the algorithms it may verify. */
export type KeyFamily = { kind: 'hmac' } | { kind: 'rsa' } | { kind: 'rsa-pss' } | { kind: 'ec'; curve: string } | { kind: 'ed25519' };

/** The algorithms a key of this family can verify. */
export function algorithmsFor(family: KeyFamily): string[] {
  switch (family.kind) {
    case 'hmac':
      return [...HMAC_ALGORITHMS];
    case 'rsa':
      return [...RSA_ALGORITHMS];
    case 'rsa-pss':
      return [...RSA_PSS_ALGORITHMS];
    case 'ec': {
      const alg = EC_BY_CURVE[family.curve];
      return alg === undefined ? [] : [alg];
    }
    case 'ed25519':
      return [...EDDSA_ALGORITHMS];
  }
}

/** Maps OpenSSL/Node curve names to JOSE ones. */
export function normaliseCurve(curve: string): string {
  const names: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  return names[curve] ?? curve;
}
