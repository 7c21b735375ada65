import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const source = (name: string) => here(`./packages/${name}/src/index.ts`);

// Tests run against the sources; test/packaging.test.ts checks the built output.
const packages = Object.entries({
  '@jwtauth/core': source('core'),
  '@jwtauth/express': source('express'),
  '@jwtauth/koa': source('koa'),
  '@jwtauth/fastify': source('fastify'),
  '@jwtauth/hono': source('hono'),
  '@jwtauth/redis': source('redis'),
  '@jwtauth/issuer': source('issuer'),
}).map(([find, replacement]) => ({ find, replacement }));

/**
 * The suites that verify tokens, run a second time with core's Web Crypto path (what Bun, Deno and
 * Workers use) in place of Node's synchronous node:crypto one: the conformance cases through every
 * adapter, and core's own verification tests.
 */
const BOTH_CRYPTO_PATHS = [
  'test/conformance.test.ts',
  'test/jwks.test.ts',
  'test/events.test.ts',
  'packages/core/src/jwt/verify.test.ts',
  'packages/core/src/authenticate.test.ts',
  'packages/core/src/jwt/token-cache.test.ts',
  'packages/core/src/crypto/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 15000,
    hookTimeout: 15000,
    // Coverage of the published code only (`vitest run --coverage`, which the root `test` script runs):
    // the floor below sits a little under the figure in the README, so a change that drops tests fails CI.
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.test-d.ts', '**/*.d.ts', '**/*.fixture.ts', '**/fixtures/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: './coverage',
      // The figures print even when a test fails (a slow machine timing one out), so a run always says where it stands.
      reportOnFailure: true,
      // The floor: a little under what the packages' own tests reach (README, "Coverage"); the whole
      // suite (conformance, examples) covers more, so only lost tests or untested new code fall below.
      thresholds: { statements: 94, branches: 92, functions: 95, lines: 96 },
    },
    projects: [
      {
        resolve: { alias: packages },
        test: {
          name: 'node',
          include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          provide: { signatureChecks: 'node:crypto' },
          typecheck: {
            enabled: true,
            include: ['packages/*/src/**/*.test-d.ts', 'test/**/*.test-d.ts'],
            tsconfig: './tsconfig.test.json',
          },
          testTimeout: 15000,
          hookTimeout: 15000,
        },
      },
      {
        resolve: { alias: [{ find: /^(\.\.?\/)+crypto\/runtime\.js$/, replacement: here('./test/harness/web-crypto-runtime.ts') }, ...packages] },
        test: {
          name: 'web-crypto',
          include: BOTH_CRYPTO_PATHS,
          provide: { signatureChecks: 'web-crypto' },
          testTimeout: 15000,
          hookTimeout: 15000,
        },
      },
    ],
  },
});
