// Core's crypto/runtime.ts as Bun, Deno and Workers get it: Web Crypto for signatures, tokens
// cached under their own text. The `web-crypto` test project (vitest.config.ts) puts this module
// in place of that one, so the same suites prove both paths give the same answers.
export { webCrypto as runtimeSignatureCheck, webSha256Base64url as sha256Base64url } from '../../packages/core/src/crypto/web.js';

/** Web Crypto hashes only asynchronously: the cache keys tokens by their text. */
export const tokenFingerprint = (token: string): string => token;
