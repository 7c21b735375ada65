import { loadNodeCrypto, nodeSignatureCheck } from './node.js';
import type { SignatureCheck } from './signature.js';
import { webCrypto, webSha256Base64url } from './web.js';

/**
 * Whether this is Node itself. Bun, Deno and Cloudflare Workers (with `nodejs_compat`) also
 * report a `process.versions.node`; they keep Web Crypto, their native cryptography, whose
 * answers the conformance suite proves identical.
 */
function isNode(): boolean {
  const scope = globalThis as { process?: { versions?: Record<string, string | undefined> }; Deno?: unknown; navigator?: { userAgent?: string } };
  const versions = scope.process?.versions;
  if (versions?.node === undefined || versions.bun !== undefined || versions.deno !== undefined) return false;
  return scope.Deno === undefined && scope.navigator?.userAgent !== 'Cloudflare-Workers';
}

const nodeCrypto = isNode() ? loadNodeCrypto() : undefined;

/**
 * The signature checks this runtime uses: synchronous `node:crypto` on Node, Web Crypto
 * elsewhere. Chosen once, when core loads.
 */
export const runtimeSignatureCheck: SignatureCheck = nodeCrypto === undefined ? webCrypto : nodeSignatureCheck(nodeCrypto);

/**
 * The key a verified token is cached under: its SHA-256 on Node (short, and no token kept
 * alive), the token itself where hashing is asynchronous only (Web Crypto), which costs memory
 * but no time.
 */
export const tokenFingerprint: (token: string) => string = nodeCrypto === undefined ? (token) => token : (token) => nodeCrypto.hash('sha256', token, 'base64');

/**
 * base64url of the SHA-256 of a string's UTF-8: synchronous `node:crypto` on Node, Web Crypto
 * elsewhere (a DPoP proof's `ath`, a JWK thumbprint).
 */
export const sha256Base64url: (text: string) => string | Promise<string> =
  nodeCrypto === undefined ? webSha256Base64url : (text) => nodeCrypto.hash('sha256', text, 'base64url');
