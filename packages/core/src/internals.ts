/**
 * What `@jwtauth/issuer` shares with core: token verification, configuration and key handling.
 * Exported as the `internals` namespace of core's one bundle (a second entry point would give
 * CommonJS a second copy of `AuthError`), for the issuer, which is released in step with core.
 * Not for applications: it follows no semver and can change in any release.
 *
 * @packageDocumentation
 */
export { resolveConfig, type AuthConfig } from './config.js';
export { toSeconds } from './duration.js';
export { verifyError, verifyToken } from './jwt/verify.js';
export { markRevocationGrace } from './revocation-store.js';
export { algorithmsFor, type KeyFamily } from './keys/algorithms.js';
export { pkcs8KeyFamily } from './keys/der.js';
export { cryptoKeyStrengthProblem, hmacAlgorithmsForLength, rsaSizeProblem } from './keys/key-strength.js';
export { secretBytesProblem, secretTextProblem } from './keys/key-text.js';
export { cryptoKeyAlgorithm, isCryptoKey, isKeyObject, jwkFamily, keyObjectFamily, prepareKey } from './keys/keys.js';
export { armour, readPem } from './keys/pem.js';
export { headerValues } from './http/request.js';
export { proofOptions, proofOrigin } from './dpop/config.js';
export { sha256Base64url } from './crypto/runtime.js';
