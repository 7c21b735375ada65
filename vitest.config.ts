import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources; test/packaging.test.ts checks the built output.
    alias: {
      '@jwtauth/core': source('core'),
      '@jwtauth/express': source('express'),
      '@jwtauth/koa': source('koa'),
      '@jwtauth/fastify': source('fastify'),
      '@jwtauth/hono': source('hono'),
      '@jwtauth/redis': source('redis'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts', 'test/**/*.test-d.ts'],
      tsconfig: './tsconfig.test.json',
    },
    testTimeout: 15000,
    hookTimeout: 15000,
  },
});
