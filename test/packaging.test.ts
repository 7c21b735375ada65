import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built packages, as users load them: ESM through `import`, CommonJS through `require`.
const require = createRequire(import.meta.url);
const dist = (name: string, file: string) => fileURLToPath(new URL(`../packages/${name}/dist/${file}`, import.meta.url));

const EXPORTS: Record<string, string[]> = {
  core: ['AuthError', 'createAuthenticator', 'createClaimGuard', 'createScopeGuard', 'isAuthError', 'toErrorResponse'],
  express: ['AuthError', 'isAuthError', 'jwtAuth', 'requireClaims', 'requireScopes', 'tokenRouter'],
  koa: ['AuthError', 'isAuthError', 'jwtAuth', 'requireClaims', 'requireScopes', 'tokenRoutes'],
  fastify: ['AuthError', 'isAuthError', 'jwtAuth', 'requireClaims', 'requireScopes', 'sendAuthError', 'tokenEndpoints'],
  hono: ['AuthError', 'isAuthError', 'jwtAuth', 'requireClaims', 'requireScopes', 'tokenApp'],
  issuer: ['clearRefreshCookie', 'createTokenEndpoints', 'createTokenIssuer', 'refreshCookie'],
};

describe.each(Object.entries(EXPORTS))('@jwtauth/%s build', (name, names) => {
  it('exports the public API from the ESM build', async () => {
    const esm = (await import(dist(name, 'index.js'))) as Record<string, unknown>;
    for (const exported of names) expect(esm[exported], exported).toBeDefined();
  });

  it('exports the same API from the CommonJS build', async () => {
    const esm = (await import(dist(name, 'index.js'))) as Record<string, unknown>;
    const cjs = require(dist(name, 'index.cjs')) as Record<string, unknown>;
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });
});

describe('@jwtauth/core without issuing', () => {
  // Apps that only verify install core alone: no issuer, no signing code, in either build. The
  // one MAC core computes is the HMAC of its DPoP server nonces (createDpopNonces), never a token.
  it.each(['index.js', 'index.cjs'])('%s has no token issuer and does not sign', async (file) => {
    const { readFile } = await import('node:fs/promises');
    const built = await readFile(dist('core', file), 'utf8');
    const loaded = (file.endsWith('.cjs') ? require(dist('core', file)) : await import(dist('core', file))) as Record<string, unknown>;
    expect(loaded.createTokenIssuer).toBeUndefined();
    expect(loaded.refreshCookie).toBeUndefined();
    expect(built).not.toMatch(/SignJWT|CompactSign|FlattenedSign|GeneralSign/);
    expect(built.match(/\.sign\(/g)).toEqual(['.sign(']);
    expect(built).toMatch(/crypto\.subtle\.sign\("HMAC", await key, encoder\.encode\(`dpop-nonce:/);
  });
});

describe('an AuthError from the CommonJS build', () => {
  it('is recognised by isAuthError of the ESM build', async () => {
    const esm = (await import(dist('core', 'index.js'))) as typeof import('@jwtauth/core');
    const cjs = require(dist('core', 'index.cjs')) as typeof import('@jwtauth/core');
    const error = new cjs.AuthError('token_expired');
    expect(error instanceof esm.AuthError).toBe(false);
    expect(esm.isAuthError(error)).toBe(true);
  });
});
