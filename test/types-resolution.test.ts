import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES, packAll, packageDir, repoRoot, run } from './pack-packages.js';

// The packed tarballs, installed in a project of a TypeScript user, type-checked with
// `skipLibCheck: false` (so our .d.ts/.d.cts files are checked, not trusted) under every module
// setting users compile with. The CommonJS ones load dist/index.d.cts, which must not import an
// ES module's declarations (jose's are: TS1479 on node16/node18); the ESM ones load dist/index.d.ts.

/** What a user of every package writes; each import must reach the real types, not `any`. */
const USER_CODE = `import { createAuthenticator, isAuthError, type AuthInfo, type JWTPayload, type JwtAuthOptions } from '@jwtauth/core';
import { jwtAuth as expressAuth, requireScopes } from '@jwtauth/express';
import { jwtAuth as koaAuth } from '@jwtauth/koa';
import { jwtAuth as fastifyAuth } from '@jwtauth/fastify';
import { jwtAuth as honoAuth } from '@jwtauth/hono';
import { createRedisStore } from '@jwtauth/redis';
import { createTokenIssuer } from '@jwtauth/issuer';

const options: JwtAuthOptions = { secret: 'a-secret-that-is-long-enough-for-hs256-0123' };
export const mounted = [createAuthenticator(options), expressAuth(options), requireScopes('read'), koaAuth(options), honoAuth(options)];
export const plugins = [fastifyAuth, createRedisStore, createTokenIssuer, isAuthError] as const;
export type Info = AuthInfo;
const payload: JWTPayload = { sub: 'alice' };
// @ts-expect-error: jose's JWTPayload reaches the user with its types (sub is a string), not as any
export const wrong: number = payload.sub;
`;

/**
 * Where the project may import jose itself, jose's own types and ours are interchangeable (in a
 * CommonJS project ours are the copy in index.d.cts).
 */
const WITH_JOSE = `import { decodeJwt, type JWK as JoseJwk } from 'jose';
import type { JWK, JWTPayload as Payload, JwtAuthOptions as Options } from '@jwtauth/core';
const joseKey: JoseJwk = { kty: 'oct', k: 'c2VjcmV0LXRoYXQtaXMtbG9uZy1lbm91Z2gtZm9yLWhzMjU2LTAxMjM0NTY3' };
export const fromJose: Options = { secret: joseKey };
export const ours: JWK = joseKey;
export const claims: Payload = decodeJwt('a.b.c');
`;

interface Mode {
  /** What the user's project is: its package.json "type" and the file's extension decide the format. */
  format: 'cjs' | 'esm';
  compilerOptions: Record<string, string | boolean>;
  /** Whether the project can import jose (an ES module) itself: not from CommonJS on node16/node18 (TS1479). */
  jose: boolean;
}

const MODES: Record<string, Mode> = {
  'node16, CommonJS package': { format: 'cjs', compilerOptions: { module: 'node16' }, jose: false },
  'node16, ESM package': { format: 'esm', compilerOptions: { module: 'node16' }, jose: true },
  'node18, CommonJS package': { format: 'cjs', compilerOptions: { module: 'node18' }, jose: false },
  'node18, ESM package': { format: 'esm', compilerOptions: { module: 'node18' }, jose: true },
  // nodenext models require(esm) (TypeScript 5.8+): a CommonJS file may import jose there.
  'nodenext, CommonJS package': { format: 'cjs', compilerOptions: { module: 'nodenext' }, jose: true },
  'nodenext, ESM package': { format: 'esm', compilerOptions: { module: 'nodenext' }, jose: true },
  'moduleResolution bundler': { format: 'esm', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, jose: true },
  // The oldest setting still common (`"module": "commonjs"`): exports maps are ignored, `types` is read.
  // esModuleInterop as `tsc --init` sets it: fastify's pino typings need it there (the node* modes imply it).
  'node10 (module commonjs)': { format: 'cjs', compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, jose: true },
};

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
let project: string;
let packDir: string;

beforeAll(async () => {
  const packed = await packAll();
  packDir = packed.dir;
  project = join(packed.dir, 'project');
  const modules = join(project, 'node_modules');
  await mkdir(join(modules, '@jwtauth'), { recursive: true });
  await mkdir(join(modules, '@types'), { recursive: true });
  const linked = new Set<string>();
  /** Links a third-party package as installed for the workspace (its own dependencies sit beside it in pnpm's store). */
  const link = async (name: string, from: string) => {
    const installed = join(from, 'node_modules', name);
    if (linked.has(name) || !existsSync(installed)) return;
    linked.add(name);
    if (name.includes('/')) await mkdir(join(modules, name.split('/')[0]!), { recursive: true });
    await symlink(realpathSync(installed), join(modules, name), 'dir');
  };
  for (const name of PACKAGES) {
    const target = join(modules, '@jwtauth', name);
    await mkdir(target, { recursive: true });
    await run('tar', ['-xzf', packed.tarballs[name], '-C', target, '--strip-components=1'], { timeout: 60_000 });
    const manifest = JSON.parse(await readFile(join(target, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (!dependency.startsWith('@jwtauth/')) await link(dependency, packageDir(name));
    }
  }
  await link('@types/node', repoRoot);
  for (const [label, mode] of Object.entries(MODES)) {
    const dir = join(project, label.replace(/\W+/g, '-'));
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ private: true, type: mode.format === 'cjs' ? 'commonjs' : 'module' }));
    await writeFile(join(dir, 'index.ts'), USER_CODE);
    if (mode.jose) await writeFile(join(dir, 'with-jose.ts'), WITH_JOSE);
    // lib DOM: the declarations name Web Crypto's CryptoKey and BufferSource, which @types/node 20
    // does not declare globally (a Node project without DOM gets TS2304 for them).
    const compilerOptions = {
      ...mode.compilerOptions,
      target: 'ES2022',
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: mode.jose ? ['index.ts', 'with-jose.ts'] : ['index.ts'] }));
  }
}, 240_000);

afterAll(async () => {
  if (packDir) await rm(packDir, { recursive: true, force: true });
});

describe.each(Object.entries(MODES))('the packed packages in a TypeScript project on %s', (label, mode) => {
  it(`type-check with skipLibCheck false, through ${mode.format === 'cjs' ? 'index.d.cts' : 'index.d.ts'}`, async () => {
    const dir = join(project, label.replace(/\W+/g, '-'));
    const result = await run(process.execPath, [tsc, '-p', dir, '--listFiles'], { timeout: 120_000 }).catch((error: { stdout?: string; stderr?: string }) => ({
      failed:
        `${error.stdout ?? ''}${error.stderr ?? ''}`
          .split('\n')
          .filter((line) => /error TS/.test(line))
          .join('\n') || `tsc failed: ${(error as Error).message}`,
      stdout: '',
    }));
    expect('failed' in result ? result.failed : '').toBe('');
    // Each package's declarations were read in the format this project loads them.
    const declarations = mode.format === 'cjs' ? 'index.d.cts' : 'index.d.ts';
    for (const name of PACKAGES) expect(result.stdout, name).toContain(`/node_modules/@jwtauth/${name}/dist/${declarations}`);
  }, 120_000);
});
