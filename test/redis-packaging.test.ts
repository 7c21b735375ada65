import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built @jwtauth/redis as users load it (ESM through `import`, CommonJS through `require`),
// and its errors understood by a core loaded the other way.
const require = createRequire(import.meta.url);
const dist = (name: string, file: string) => fileURLToPath(new URL(`../packages/${name}/dist/${file}`, import.meta.url));
type RedisModule = typeof import('@jwtauth/redis');
type CoreModule = typeof import('@jwtauth/core');
type IssuerModule = typeof import('@jwtauth/issuer');

/** A client of neither library's making, whose every command fails as a dropped connection does. */
const broken = {
  exists: async () => Promise.reject(new Error('Connection is closed.')),
  evalSha: async () => Promise.reject(new Error('Connection is closed.')),
  eval: async () => 0,
};

describe('@jwtauth/redis build', () => {
  it('exports the same API from the ESM and the CommonJS builds', async () => {
    const esm = (await import(dist('redis', 'index.js'))) as Record<string, unknown>;
    const cjs = require(dist('redis', 'index.cjs')) as Record<string, unknown>;
    expect(Object.keys(esm).sort()).toEqual(['DEFAULT_TIMEOUT', 'createRedisStore']);
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });

  it("a CommonJS store's failure is a 503 store_unavailable for an ESM core, and the other way round", async () => {
    const esmCore = (await import(dist('core', 'index.js'))) as CoreModule;
    const cjsCore = require(dist('core', 'index.cjs')) as CoreModule;
    const esmRedis = (await import(dist('redis', 'index.js'))) as RedisModule;
    const cjsRedis = require(dist('redis', 'index.cjs')) as RedisModule;
    // Each issuer build loads the core of its own format, as it would in an app.
    const esmIssuer = (await import(dist('issuer', 'index.js'))) as IssuerModule;
    const cjsIssuer = require(dist('issuer', 'index.cjs')) as IssuerModule;
    for (const [core, issuers, redis] of [
      [esmCore, esmIssuer, cjsRedis],
      [cjsCore, cjsIssuer, esmRedis],
    ] as const) {
      const issuer = issuers.createTokenIssuer({ key: 'redis-packaging-test-secret-long-enough-for-hs256', store: redis.createRedisStore({ client: broken }) });
      const tokens = await issuer.issue('alice');
      const authenticator = core.createAuthenticator({ ...issuer.verifierOptions });
      const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { authorization: `Bearer ${tokens.accessToken}` } }), null);
      expect(result.ok).toBe(false);
      if (!result.ok) expect([result.error.code, result.error.status]).toEqual(['store_unavailable', 503]);
      const refreshed = await issuer.refresh(tokens.refreshToken);
      expect(refreshed.ok ? 'ok' : refreshed.error.code).toBe('store_unavailable');
    }
  });
});
