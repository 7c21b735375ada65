import { jwtAuth, requireScopes } from '@jwtauth/express';
import express, { type ErrorRequestHandler } from 'express';
import { expressjwt, UnauthorizedError, type Request as JWTRequest } from 'express-jwt';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, sign } from './fixtures.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// Issue 9, item 10: a project with express-jwt (or express-oauth2-jwt-bearer) next to
// @jwtauth/express, as in a staged migration. The type programs below are compiled as a user's
// project compiles them: @jwtauth/express resolves to its built dist/ through test/node_modules
// (run `pnpm build` first), with skipLibCheck false and true.

const root = fileURLToPath(new URL('..', import.meta.url));

/** Type equality that `any` cannot satisfy. */
const PRELUDE = `type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;\n`;

/** express-jwt's documented TypeScript usage (its README), on routes of their own. */
const EXPRESS_JWT_ROUTES = `
interface MyClaims { sub: string; admin: boolean }
const legacy = express.Router();
legacy.use(expressjwt({ secret: 'shhhhhhared-secret', algorithms: ['HS256'] }));
legacy.get('/protected', function (req: JWTRequest, res: express.Response) {
  if (!req.auth?.admin) return res.sendStatus(401);
  res.sendStatus(200);
});
legacy.get('/claims', (req: JWTRequest<MyClaims>, res: express.Response) => {
  const admin: boolean | undefined = req.auth?.admin;
  res.json({ sub: req.auth?.sub, admin });
});
function named(req: JWTRequest<MyClaims>, res: express.Response) { res.json(req.auth?.sub); }
legacy.get('/named', named);
`;

const PROGRAMS: Record<string, string> = {
  // Without a declaration: our global req.auth (AuthInfo) is not a MyClaims, so JWTRequest<MyClaims>
  // handlers do not compile. The README tells such projects to declare the names (below).
  'express-jwt-undeclared': `
import express from 'express';
import { expressjwt, type Request as JWTRequest } from 'express-jwt';
import { jwtAuth } from '@jwtauth/express';
${EXPRESS_JWT_ROUTES}
const app = express();
app.use('/legacy', legacy);
app.use('/api', jwtAuth({ secret: process.env.JWT_SECRET! }));
`,
  // requestProperty: false: we declare no req.auth; express-jwt's types apply; our routes are typed
  // the way express-jwt's are, by annotating the request.
  'express-jwt-optout': `
import express from 'express';
import { expressjwt, type Request as JWTRequest } from 'express-jwt';
import { jwtAuth, requireScopes, type AuthInfo, type AuthError } from '@jwtauth/express';
declare module '@jwtauth/express' {
  interface JwtAuthProperties { requestProperty: false }
}
${PRELUDE}${EXPRESS_JWT_ROUTES}
type AuthRequest = express.Request & { auth?: AuthInfo };
const api = express.Router();
api.use(jwtAuth({ secret: process.env.JWT_SECRET! }));
api.get('/me', requireScopes('read'), (req: AuthRequest, res: express.Response) => {
  const ok: [Equal<typeof req.auth, AuthInfo | undefined>, Equal<typeof req.user, Express.User | undefined>, Equal<typeof req.authError, AuthError | undefined>] = [true, true, true];
  res.json({ ok, sub: req.auth?.payload.sub, scopes: req.auth?.scopes });
});
const app = express();
app.use('/legacy', legacy);
app.use('/api', api);
`,
  // requestProperty: 'jwt' (and userProperty): both sets of routes typed with no annotation on ours.
  'express-jwt-renamed': `
import express from 'express';
import { expressjwt, type Request as JWTRequest } from 'express-jwt';
import { jwtAuth, type AuthInfo } from '@jwtauth/express';
declare module '@jwtauth/express' {
  interface JwtAuthProperties { requestProperty: 'jwt'; userProperty: 'principal' }
}
${PRELUDE}${EXPRESS_JWT_ROUTES}
const api = express.Router();
api.use(jwtAuth({ secret: process.env.JWT_SECRET!, requestProperty: 'jwt', userProperty: 'principal' }));
api.get('/me', (req, res) => {
  const ok: [Equal<typeof req.jwt, AuthInfo | undefined>, Equal<typeof req.principal, Express.User | undefined>] = [true, true];
  // @ts-expect-error -- renamed: req.user is not declared any more
  req.user;
  res.json({ ok, sub: req.jwt?.payload.sub, scopes: req.jwt?.scopes });
});
const app = express();
app.use('/legacy', legacy);
app.use('/api', api);
`,
  // The default, unchanged: req.auth, req.user and req.authError typed with no annotation.
  default: `
import express from 'express';
import { jwtAuth, type AuthInfo, type AuthError } from '@jwtauth/express';
${PRELUDE}
const app = express();
app.use(jwtAuth({ secret: process.env.JWT_SECRET! }));
app.get('/me', (req, res) => {
  const ok: [Equal<typeof req.auth, AuthInfo | undefined>, Equal<typeof req.user, Express.User | undefined>, Equal<typeof req.authError, AuthError | undefined>] = [true, true, true];
  res.json({ ok, sub: req.auth?.payload.sub, scopes: req.auth?.scopes });
});
`,
  // express-oauth2-jwt-bearer declares Express.Request.auth itself (its VerifyJwtResult), which
  // overrides ours: without a declaration req.auth is its type (and, skipLibCheck false, TS2430).
  'oauth2-bearer-undeclared': `
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { jwtAuth } from '@jwtauth/express';
const app = express();
app.get('/legacy', auth({ issuerBaseURL: 'https://issuer.example/', audience: 'api' }), (req, res) => {
  res.json({ sub: req.auth?.payload.sub });
});
app.get('/api', jwtAuth({ secret: process.env.JWT_SECRET! }), (req, res) => {
  res.json({ scopes: req.auth?.scopes });
});
`,
  // With requestProperty: false both packages compile together, and req.auth is its type.
  'oauth2-bearer-optout': `
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { jwtAuth, requireScopes } from '@jwtauth/express';
declare module '@jwtauth/express' {
  interface JwtAuthProperties { requestProperty: false }
}
const app = express();
app.get('/legacy', auth({ issuerBaseURL: 'https://issuer.example/', audience: 'api' }), requiredScopes('read'), (req, res) => {
  res.json({ sub: req.auth?.payload.sub });
});
app.get('/api', jwtAuth({ secret: process.env.JWT_SECRET! }), requireScopes('read'), (req, res) => {
  res.json({ sub: req.auth?.payload.sub, user: req.user });
});
`,
};

let dir: string;
beforeAll(() => {
  if (!existsSync(join(root, 'packages/express/dist/index.d.ts'))) throw new Error('packages/express/dist missing: run pnpm build first');
  const cache = join(root, 'test/node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'side-by-side-express-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  for (const [name, code] of Object.entries(PROGRAMS)) writeFileSync(join(dir, `${name}.ts`), code);
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const parsed = new Map<string, ts.SourceFile | undefined>();

/** The diagnostics of one program, as `file:line TSxxxx message`, with paths relative to the program. */
function compile(name: string, skipLibCheck: boolean): string[] {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
  const { options: base } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...base,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    noEmit: true,
    declaration: false,
    skipLibCheck,
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  // Declaration files are parsed once for all programs.
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, languageVersion, onError, shouldCreate));
    return parsed.get(fileName);
  };
  const program = ts.createProgram({ rootNames: [join(dir, `${name}.ts`)], options, host });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.replace(root, '')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
    return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]}`;
  });
}

describe.each([false, true])('type programs with skipLibCheck %s', (skipLibCheck) => {
  it(
    'express-jwt documented handlers (JWTRequest<MyClaims>) fail next to our default declaration: the reason for JwtAuthProperties',
    { timeout: 60_000 },
    () => {
      const errors = compile('express-jwt-undeclared', skipLibCheck);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e.includes('express-jwt-undeclared.ts') && e.includes('TS2769'))).toBe(true);
    },
  );

  it('express-oauth2-jwt-bearer, undeclared, types req.auth its own way (no scopes)', { timeout: 60_000 }, () => {
    const errors = compile('oauth2-bearer-undeclared', skipLibCheck);
    expect(errors.some((e) => e.includes('oauth2-bearer-undeclared.ts:10 TS2339') && e.includes("'scopes'"))).toBe(true);
    expect(errors.some((e) => e.includes('TS2430'))).toBe(!skipLibCheck);
  });

  it.each(['express-jwt-optout', 'express-jwt-renamed', 'default', 'oauth2-bearer-optout'])('%s compiles', { timeout: 60_000 }, (name) => {
    expect(compile(name, skipLibCheck)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// At run time: express-jwt on one router, ours on another, in one app, each working.

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('express-jwt and @jwtauth/express in one app', () => {
  it('each protects its own router with its own semantics', async () => {
    const legacy = express.Router();
    legacy.use(expressjwt({ secret: HS_SECRET, algorithms: ['HS256'] }));
    legacy.get('/me', (req: JWTRequest, res) => {
      res.json({ by: 'express-jwt', sub: req.auth?.sub });
    });
    const api = express.Router();
    api.use(jwtAuth({ secret: HS_SECRET, requestProperty: 'jwt' }));
    api.get('/me', (req, res) => {
      const auth = (req as unknown as { jwt?: { payload: { sub?: string } } }).jwt;
      res.json({ by: '@jwtauth/express', sub: auth?.payload.sub, auth: (req as { auth?: unknown }).auth ?? null });
    });
    api.get('/admin', requireScopes('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    const app = express();
    app.use('/legacy', legacy);
    app.use('/api', api);
    const onError: ErrorRequestHandler = (err, _req, res, next) => {
      if (!(err instanceof UnauthorizedError)) return next(err);
      res.status(err.status).json({ legacy: err.code });
    };
    app.use(onError);
    server = await listen(createServer(app));

    const token = await sign({ sub: 'alice', scope: 'admin' });
    const headers = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${server.url}/legacy/me`, { headers })).json()).toEqual({ by: 'express-jwt', sub: 'alice' });
    expect(await (await fetch(`${server.url}/api/me`, { headers })).json()).toEqual({ by: '@jwtauth/express', sub: 'alice', auth: null });
    expect((await fetch(`${server.url}/api/admin`, { headers })).status).toBe(200);

    // Each answers a failure its own way: express-jwt through the error handler, ours directly.
    const legacyMissing = await fetch(`${server.url}/legacy/me`);
    expect(legacyMissing.status).toBe(401);
    expect(await legacyMissing.json()).toEqual({ legacy: 'credentials_required' });
    const apiMissing = await fetch(`${server.url}/api/me`);
    expect(apiMissing.status).toBe(401);
    expect(await apiMissing.json()).toMatchObject({ code: 'missing_token' });
    expect(apiMissing.headers.get('www-authenticate')).toBe('Bearer');

    const reader = { authorization: `Bearer ${await sign({ sub: 'bob', scope: 'read' })}` };
    expect((await fetch(`${server.url}/api/admin`, { headers: reader })).status).toBe(403);
  });

  it('both may keep req.auth at run time: each router sees its own shape', async () => {
    const app = express();
    app.use('/legacy', expressjwt({ secret: HS_SECRET, algorithms: ['HS256'] }), (req: JWTRequest, res) => {
      res.json({ sub: req.auth?.sub ?? null });
    });
    app.use('/api', jwtAuth({ secret: HS_SECRET }), (req, res) => {
      res.json({ sub: req.auth?.payload.sub ?? null });
    });
    server = await listen(createServer(app));
    const headers = { authorization: `Bearer ${await sign({ sub: 'carol' })}` };
    expect(await (await fetch(`${server.url}/legacy`, { headers })).json()).toEqual({ sub: 'carol' });
    expect(await (await fetch(`${server.url}/api`, { headers })).json()).toEqual({ sub: 'carol' });
  });
});
