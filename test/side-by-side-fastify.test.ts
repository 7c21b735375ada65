import { isAuthError, jwtAuth, sendAuthError } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyRequest } from 'fastify';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listenFastify } from './harness/listen.js';
import { HS_SECRET, sign } from './fixtures.js';

// A staged migration: @fastify/jwt and @jwtauth/fastify in one project (issue 9, item 10).
// 1. Types: a project that uses @fastify/jwt's documented typing (its FastifyJWT augmentation,
//    request.jwtVerify(), request.user.id) compiles next to ours, with skipLibCheck false and true,
//    as ESM and as CommonJS. Compiled against the built packages (dist/), as a user's project is:
//    run `pnpm build` first.
// 2. Runtime: both plugins on one app, in different encapsulated scopes.

const root = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Types

const PROJECT = `
import fastifyJwt from '@fastify/jwt';
import { jwtAuth, requireScopes, type JwtAuthenticate, type JwtVerify } from '@jwtauth/fastify';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

// @fastify/jwt's documented typing (its README, "TypeScript").
declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { id: number };
    user: { id: number; name: string };
  }
}

declare module 'fastify' {
  // @fastify/jwt's README: the authenticate decorator its routes use.
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    // Ours, registered with { hook: false, namespace: 'partner' } (the @jwtauth/fastify README).
    partnerJwtAuthenticate: JwtAuthenticate;
  }
  interface FastifyRequest {
    partnerJwtVerify: JwtVerify;
  }
}

export async function build() {
  const app = Fastify();

  // The routes still on @fastify/jwt.
  await app.register(async (legacy) => {
    await legacy.register(fastifyJwt, { secret: 'supersecret', sign: { expiresIn: '15m' }, verify: { allowedIss: 'api.example.tld' } });
    legacy.decorate('authenticate', async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await request.jwtVerify();
      } catch (err) {
        reply.send(err);
      }
    });
    legacy.get('/legacy/me', { onRequest: [legacy.authenticate] }, async (request) => {
      const id: number = request.user.id;
      const name: string = request.user.name;
      // @ts-expect-error -- request.user is @fastify/jwt's user here: its id is a number
      const wrong: string = request.user.id;
      return { id, name, wrong };
    });
    legacy.get('/legacy/verify', async (request) => {
      const decoded = await request.jwtVerify<{ id: number }>();
      const raw = await request.jwtDecode<{ id: number }>();
      return { id: decoded.id, raw: raw.id };
    });
    legacy.post('/legacy/token', async (_request, reply) => {
      const token: string = await reply.jwtSign({ id: 1 });
      // @ts-expect-error -- @fastify/jwt's payload type: id is a number
      await reply.jwtSign({ id: '1' });
      return { token, verified: legacy.jwt.verify<{ id: number }>(token).id, decoded: legacy.jwt.decode<{ id: number }>(token)?.id };
    });
  });

  // The routes already on @jwtauth/fastify, with its hook.
  await app.register(async (api) => {
    await api.register(jwtAuth, { secret: 'a-secret-long-enough-for-hs256-of-32+bytes', audience: 'api' });
    api.get('/api/me', { preHandler: requireScopes('read') }, async (request) => {
      const sub: string | undefined = request.auth?.payload.sub;
      const scopes: string[] | undefined = request.auth?.scopes;
      return { sub, scopes, reason: request.authError?.code ?? null };
    });
  });

  // And on demand, in a namespace.
  await app.register(async (partner) => {
    await partner.register(jwtAuth, { secret: 'another-secret-long-enough-for-hs256-32+b', hook: false, namespace: 'partner' });
    partner.get('/partner/a', { onRequest: partner.partnerJwtAuthenticate }, async (request) => request.auth?.payload.sub);
    partner.get('/partner/b', async (request) => {
      const auth = await request.partnerJwtVerify();
      return auth?.payload.sub;
    });
  });
  return app;
}
`;

/** The same project as CommonJS (`.cts`: @jwtauth/fastify's index.d.cts, @fastify/jwt's CJS typing). */
const PROJECT_CJS = `
import fastifyJwt = require('@fastify/jwt');
import jwtauth = require('@jwtauth/fastify');
import Fastify = require('fastify');

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { id: number };
    user: { id: number; name: string };
  }
}

export function build() {
  const app = Fastify();
  app.register(async (legacy) => {
    await legacy.register(fastifyJwt, { secret: 'supersecret' });
    legacy.get('/legacy/me', async (request) => {
      await request.jwtVerify();
      const id: number = request.user.id;
      return { id };
    });
  });
  app.register(async (api) => {
    await api.register(jwtauth.jwtAuth, { secret: 'a-secret-long-enough-for-hs256-of-32+bytes' });
    api.get('/api/me', async (request) => request.auth?.payload.sub);
  });
  return app;
}
`;

/** What the project was up against before: a plugin declaring `user` on FastifyRequest itself. */
const CLASHING = `
import '@fastify/jwt';
declare module 'fastify' {
  interface FastifyRequest {
    user: { sub: string } | null;
  }
}
export {};
`;

function compile(files: string[], skipLibCheck: boolean): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    noEmit: true,
    skipLibCheck,
  };
  const program = ts.createProgram({ rootNames: files, options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return `${at}TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

// One host for every program, so that lib, @types/node and the frameworks are parsed once.
const host = ts.createCompilerHost({}, true);
const parsed = new Map<string, ts.SourceFile | undefined>();
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
  if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, languageVersion, onError, shouldCreate));
  return parsed.get(fileName);
};

let dir: string | undefined;
function project(): string {
  if (dir !== undefined) return dir;
  for (const name of ['core', 'fastify']) {
    if (!existsSync(join(root, `packages/${name}/dist/index.d.ts`))) throw new Error(`packages/${name}/dist is missing: run pnpm build first`);
  }
  // Under test/node_modules, so that the packages resolve from test/node_modules as in a user's project.
  const cache = join(root, 'test/node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'side-by-side-fastify-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'app.ts'), PROJECT);
  writeFileSync(join(dir, 'app.cts'), PROJECT_CJS);
  writeFileSync(join(dir, 'clashing.ts'), CLASHING);
  return dir;
}

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('types: @fastify/jwt and @jwtauth/fastify in one project', () => {
  it.each([false, true])('an ESM project using both compiles with no error (skipLibCheck: %s)', { timeout: 120_000 }, (skipLibCheck) => {
    expect(compile([join(project(), 'app.ts')], skipLibCheck)).toEqual([]);
  });

  it.each([false, true])('a CommonJS project using both compiles with no error (skipLibCheck: %s)', { timeout: 120_000 }, (skipLibCheck) => {
    expect(compile([join(project(), 'app.cts')], skipLibCheck)).toEqual([]);
  });

  it('the check sees a clash: a plugin that declares request.user itself next to @fastify/jwt fails with TS2717', { timeout: 120_000 }, () => {
    const errors = compile([join(project(), 'clashing.ts')], false);
    expect(errors).toEqual([expect.stringMatching(/clashing\.ts:5: TS2717: Subsequent property declarations must have the same type\.\s+Property 'user'/)]);
  });
});

// ---------------------------------------------------------------------------------------------
// Runtime
//
// @fastify/jwt is loaded with require, not imported: its declarations (request.user,
// request.jwtVerify) would otherwise become those of every test file type-checked with this one,
// as they do in a user's project (the type tests above).

/** The parts of @fastify/jwt these tests use. */
type FastifyJwtOptions = { secret: string; decoratorName?: string };
const fastifyJwt = createRequire(import.meta.url)('@fastify/jwt') as FastifyPluginCallback<FastifyJwtOptions>;
const jwtOf = (instance: FastifyInstance) => (instance as unknown as { jwt: { sign(payload: object): string } }).jwt;
const legacyVerify = (request: FastifyRequest) => (request as unknown as { jwtVerify(): Promise<Record<string, unknown>> }).jwtVerify();

const OTHER_SECRET = 'a-second-secret-for-the-partner-namespace-of-forty-eight-bytes!';
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return (await listenFastify(app)).url;
}

async function get(url: string, token?: string): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: response.status, body: text };
  }
}

describe('runtime: @fastify/jwt and @jwtauth/fastify on one app', () => {
  it('in sibling scopes, each plugin verifies its own routes, with its own answers', async () => {
    const app = Fastify();
    let legacyToken = '';
    await app.register(async (legacy) => {
      await legacy.register(fastifyJwt, { secret: OTHER_SECRET });
      legacy.addHook('onRequest', async (request, reply) => {
        try {
          await legacyVerify(request);
        } catch (err) {
          return reply.send(err);
        }
      });
      legacy.get('/legacy/me', async (request) => request.user);
      legacyToken = jwtOf(legacy).sign({ id: 7 });
    });
    await app.register(async (api) => {
      await api.register(jwtAuth, { secret: HS_SECRET });
      api.get('/api/me', async (request) => ({ sub: request.auth?.payload.sub, user: request.user }));
    });
    await app.register(async (onDemand) => {
      // hook: false without a namespace: request.jwtVerify is ours in this scope, @fastify/jwt's in the other.
      onDemand.setErrorHandler((error, _request, reply) => (isAuthError(error) ? sendAuthError(reply, error) : reply.send(error)));
      await onDemand.register(jwtAuth, { secret: HS_SECRET, hook: false });
      onDemand.get('/on-demand/me', async (request) => ({ sub: (await request.jwtVerify())?.payload.sub }));
    });
    const url = await listen(app);
    const ours = await sign({ sub: 'alice' });

    expect(await get(`${url}/legacy/me`, legacyToken)).toMatchObject({ status: 200, body: { id: 7 } });
    expect(await get(`${url}/api/me`, ours)).toMatchObject({ status: 200, body: { sub: 'alice', user: { sub: 'alice' } } });
    expect(await get(`${url}/on-demand/me`, ours)).toEqual({ status: 200, body: { sub: 'alice' } });
    // Each refuses the other's token, in its own words.
    expect(await get(`${url}/legacy/me`, ours)).toMatchObject({ status: 401, body: { code: 'FST_JWT_AUTHORIZATION_TOKEN_INVALID' } });
    expect(await get(`${url}/api/me`, legacyToken)).toMatchObject({ status: 401, body: { error: 'invalid_token', code: 'invalid_signature' } });
    expect(await get(`${url}/on-demand/me`, legacyToken)).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    expect(await get(`${url}/api/me`)).toMatchObject({ status: 401, body: { code: 'missing_token' } });
  });

  it('@fastify/jwt on the root and ours in a child scope: hook mode works; hook: false needs a namespace', async () => {
    const app = Fastify();
    await app.register(fastifyJwt, { secret: OTHER_SECRET });
    await app.register(async (api) => {
      await api.register(jwtAuth, { secret: HS_SECRET });
      api.get('/api/me', async (request) => ({ sub: request.auth?.payload.sub }));
    });
    await app.register(async (partner) => {
      await partner.register(jwtAuth, { secret: HS_SECRET, hook: false, namespace: 'partner' });
      partner.get(
        '/partner',
        { onRequest: (partner as unknown as { partnerJwtAuthenticate: typeof partner.jwtAuthenticate }).partnerJwtAuthenticate },
        async (request) => ({ sub: request.auth?.payload.sub }),
      );
    });
    app.get('/legacy', async (request) => (await legacyVerify(request)).id);
    const url = await listen(app);
    expect(await get(`${url}/api/me`, await sign({ sub: 'alice' }))).toEqual({ status: 200, body: { sub: 'alice' } });
    expect(await get(`${url}/partner`, await sign({ sub: 'bob' }))).toEqual({ status: 200, body: { sub: 'bob' } });
    expect(await get(`${url}/legacy`, jwtOf(app).sign({ id: 3 }))).toEqual({ status: 200, body: 3 });

    const clash = Fastify();
    apps.push(clash);
    await clash.register(fastifyJwt, { secret: OTHER_SECRET });
    const error = await clash.register(jwtAuth, { secret: HS_SECRET, hook: false }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/request\.jwtVerify is already decorated .*@fastify\/jwt.*namespace/);
  });

  // Ours on the root decorates request.user (and request.jwtVerify with hook: false) first: @fastify/jwt
  // below it would throw FST_ERR_DEC_ALREADY_PRESENT (from its registration, uncaught) unless it
  // gets a decoratorName of its own and ours a namespace.
  it('ours on the root and @fastify/jwt in a child scope: with its decoratorName and our namespace', async () => {
    const app = Fastify();
    await app.register(jwtAuth, { secret: HS_SECRET, hook: false, namespace: 'api' });
    app.get('/api/me', { onRequest: (app as unknown as { apiJwtAuthenticate: typeof app.jwtAuthenticate }).apiJwtAuthenticate }, async (request) => ({
      sub: request.auth?.payload.sub,
    }));
    let legacyToken = '';
    await app.register(async (legacy) => {
      await legacy.register(fastifyJwt, { secret: OTHER_SECRET, decoratorName: 'legacyUser' });
      legacy.get('/legacy/me', async (request) => {
        await legacyVerify(request);
        return (request as unknown as { legacyUser: unknown }).legacyUser;
      });
      legacyToken = jwtOf(legacy).sign({ id: 9 });
    });
    const url = await listen(app);
    expect(await get(`${url}/api/me`, await sign({ sub: 'alice' }))).toEqual({ status: 200, body: { sub: 'alice' } });
    expect(await get(`${url}/legacy/me`, legacyToken)).toMatchObject({ status: 200, body: { id: 9 } });
  });
});
