import { checkTokenFrom } from './config.js';
import type { TokenFrom } from './http/token-source.js';
import { dpopFrom } from './dpop/config.js';
import type { DpopOptions } from './dpop/options.js';
import { protectedResourceFrom, type ProtectedResource, type ProtectedResourceOptions } from './http/protected-resource.js';

/** What the metadata route reads: the `resource` and `tokenFrom` options of `jwtAuth` (the same object may be given). */
export interface ProtectedResourceMetadataOptions {
  /** The `resource` option of `jwtAuth`. */
  resource: ProtectedResourceOptions;
  /** The `tokenFrom` option of `jwtAuth`, which `bearer_methods_supported` follows. Default: the header. */
  tokenFrom?: TokenFrom;
  /** The `dpop` option of `jwtAuth`: its algorithms and mode are published (`dpop_signing_alg_values_supported`, `dpop_bound_access_tokens_required`). */
  dpop?: DpopOptions;
}

/**
 * Checks the `resource` option as `jwtAuth` does and builds the RFC 9728 metadata the adapters'
 * `protectedResourceMetadata()` routes serve. Pass the options given to `jwtAuth` (only
 * `resource`, `tokenFrom` and `dpop` are read). Throws a `TypeError` that says what to fix.
 */
export function createProtectedResource(options: ProtectedResourceMetadataOptions): ProtectedResource {
  const fail = (message: string): never => {
    throw new TypeError(`protectedResourceMetadata: ${message}`);
  };
  if (typeof options !== 'object' || options === null || options.resource === undefined) {
    fail('pass the options given to jwtAuth, with their "resource": { resource: "https://api.example/mcp", authorizationServers: [...] }.');
  }
  let tokenFrom;
  try {
    tokenFrom = checkTokenFrom(options.tokenFrom);
  } catch (error) {
    fail((error as Error).message.replace(/^jwtAuth: /, ''));
  }
  const dpop = dpopFrom(options.dpop, options.resource.resource, fail);
  return protectedResourceFrom(options.resource, tokenFrom, fail, dpop);
}
