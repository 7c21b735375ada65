import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, type JWTPayload } from 'jose';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Found } from './harness/readme-snippet-typecheck.js';

// Every TypeScript / JavaScript code block of every README.md (`git ls-files '*README.md'`) is
// a program a user may copy, so each one is type-checked and run here.
//
// The rules for README authors:
// - A block fenced ```ts, ```typescript, ```tsx, ```js or ```javascript is a snippet, picked up
//   automatically. A snippet is a complete ES module: its imports included, nothing declared
//   elsewhere, so that it works when copied into an empty file. There is no "fragment" opt-out:
//   complete the program instead (a few lines of setup make a better example than an
//   undeclared `app`). Any word after the language in the fence is refused, so that no one
//   believes it switches something off.
// - Type-checked strictly (tsconfig.base.json with `module: NodeNext` and `types: ["node"]`), as
//   a user compiles it. Snippets are modules, so one program holds them all, except a snippet
//   with a `declare global` / `declare module` augmentation: it gets a program of its own, as
//   its augmentation would change the types of the others. `@jwtauth/*` and the frameworks
//   resolve from test/node_modules as in a user's project, that is to the packages' built
//   `dist/`: run `pnpm build` after changing a package. The check runs in a child process
//   (test/harness/readme-snippet-typecheck.ts) while the snippets run.
// - Run with node (compiled with TypeScript's transpileModule) by test/harness/
//   readme-snippet-runner.ts, with `JWT_SECRET` set (48 random characters, enough for HS256 and
//   HS384): it must start without throwing and exit by itself with code 0 and nothing on
//   stderr. `listen(3000)` is moved to an ephemeral port on 127.0.0.1, `fetch` is refused
//   everything but the loopback, and `export default app` (a Hono app / Fetch handler) is served
//   with @hono/node-server. A snippet that serves is sent the requests of PROBES below (or, if it
//   has no entry, `GET /`, which must not answer 5xx); then its servers are closed and the
//   process must exit by itself.
//
// The root README's curl session is also run, with bash and curl, against the built Express
// example (examples/express/dist/server.js).

const root = fileURLToPath(new URL('..', import.meta.url));
const SECRET = randomBytes(36).toString('base64url'); // 48 characters
const START_TIMEOUT = 15_000;
const EXIT_TIMEOUT = 5_000;
const LANGUAGES: Record<string, 'ts' | 'tsx' | 'js'> = { ts: 'ts', typescript: 'ts', tsx: 'tsx', js: 'js', javascript: 'js' };

interface Snippet {
  /** `packages/hono/README.md:50`: the README and the line of the opening fence. */
  name: string;
  readme: string;
  line: number;
  info: string;
  extension: 'ts' | 'tsx' | 'js';
  code: string;
  /** Base name of the files written for it. */
  file: string;
}

/** The fenced blocks of a Markdown file whose info string starts with one of LANGUAGES. */
function snippetsOf(readme: string): Snippet[] {
  const lines = readFileSync(join(root, readme), 'utf8').split(/\r?\n/);
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    // A fence may be indented (inside a list item); its body loses that indentation.
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[i]!);
      if (close !== null && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      body.push(lines[i]!.startsWith(indent) ? lines[i]!.slice(indent.length) : lines[i]!.trimStart());
    }
    const language = info.trim().split(/\s+/)[0]!.toLowerCase();
    const extension = LANGUAGES[language];
    if (extension === undefined) continue;
    const slug = readme.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-');
    found.push({
      name: `${readme}:${start + 1}`,
      readme,
      line: start + 1,
      info: info.trim(),
      extension,
      code: body.join('\n') + '\n',
      file: `${slug}-${start + 1}`,
    });
  }
  return found;
}

const readmes = spawnSync('git', ['ls-files', '*README.md'], { cwd: root, encoding: 'utf8' })
  .stdout.split('\n')
  .filter((path) => path !== '');
const snippets = readmes.flatMap(snippetsOf);

// ---------------------------------------------------------------------------------------------
// What the serving snippets are asked. Each entry names its snippet by README and a piece of its
// code that no other snippet of that README contains; an entry that matches no snippet fails, so
// this table cannot silently go stale when a README changes.

interface Probe {
  method?: string;
  path: string;
  /** Claims of an HS256 token signed with JWT_SECRET (valid for 5 minutes), sent as Bearer. */
  token?: JWTPayload;
  /** A raw Authorization header value, instead of `token`. */
  authorization?: string;
  status: number;
  /** Parsed JSON the body must match (toMatchObject), or text it must equal. */
  body?: Record<string, unknown> | string;
}

const PROBES: { readme: string; contains: string; probes: Probe[] }[] = [
  {
    readme: 'packages/issuer/README.md',
    contains: "clientId: 'my-mcp-client'",
    probes: [
      {
        path: '/.well-known/oauth-authorization-server',
        status: 200,
        body: { authorization_endpoint: 'https://auth.example/auth/authorize', response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] },
      },
      { path: '/auth/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F', status: 400 },
      { path: '/auth/authorize?client_id=my-mcp-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A33418%2Fcallback&response_type=code', status: 302 },
    ],
  },
  {
    readme: 'packages/core/README.md',
    contains: 'export default { fetch: handle }',
    probes: [
      { path: '/', status: 401, body: { code: 'missing_token' } },
      { path: '/', token: { sub: 'alice', iss: 'https://auth.example' }, status: 200, body: { hello: 'alice' } },
      { path: '/', token: { sub: 'alice', iss: 'https://evil.example' }, status: 401, body: { code: 'claim_invalid' } },
    ],
  },
  {
    readme: 'packages/core/README.md',
    contains: 'export default { fetch: deleteOrder }',
    probes: [
      { method: 'DELETE', path: '/orders/7', status: 401, body: { code: 'missing_token' } },
      { method: 'DELETE', path: '/orders/7', token: { sub: 'alice', scope: 'orders:read' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/orders/7', token: { sub: 'alice', scope: 'orders:write' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/orders/7', token: { sub: 'alice', scope: 'orders:write', role: 'admin' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: "app.get('/health'",
    probes: [
      { path: '/health', status: 200, body: 'ok' },
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { method: 'DELETE', path: '/users/42', status: 401, body: { code: 'missing_token' } },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: 'declare global',
    probes: [
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', tenant: 'acme' }, status: 200, body: { id: 'alice', roles: ['admin'], tenant: 'acme' } },
      { path: '/me', token: { sub: 'mallory', tenant: 'acme' }, status: 401, body: { code: 'user_not_found' } },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: 'forwardErrors: true',
    probes: [
      { path: '/me', authorization: 'Bearer not-a-jwt', status: 401, body: { error: 'invalid_token', code: 'malformed_token' } },
      { path: '/me', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  {
    readme: 'packages/koa/README.md',
    contains: "ctx.path === '/health'",
    probes: [
      { path: '/health', status: 200, body: 'ok' },
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', aud: 'https://api.example.com', scope: 'admin' }, status: 204 },
    ],
  },
  {
    readme: 'packages/koa/README.md',
    contains: 'JwtAuthState<Claims, User>',
    probes: [
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', tenant: 'acme' }, status: 200, body: { roles: ['admin'], tenant: 'acme' } },
    ],
  },
  {
    readme: 'packages/koa/README.md',
    contains: 'forwardErrors: true',
    probes: [
      { path: '/', authorization: 'Bearer not-a-jwt', status: 401, body: { error: 'invalid_token', code: 'malformed_token' } },
      { path: '/', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: "app.get('/health'",
    probes: [
      { path: '/health', status: 200, body: 'ok' },
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 403, body: { code: 'insufficient_scope' } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: "declare module 'fastify'",
    probes: [
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice' }, status: 200, body: { id: 'alice', roles: ['reader'] } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: 'forwardErrors: true',
    probes: [
      { path: '/me', authorization: 'Bearer not-a-jwt', status: 401, body: { error: 'invalid_token', code: 'malformed_token' } },
      { path: '/me', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  {
    readme: 'packages/hono/README.md',
    contains: "get('/health'",
    probes: [
      { path: '/health', status: 200, body: 'ok' },
      { path: '/api/me', status: 401, body: { code: 'missing_token' } },
      { method: 'DELETE', path: '/api/users/42', status: 401, body: { code: 'missing_token' } },
    ],
  },
  {
    readme: 'packages/hono/README.md',
    contains: 'JwtAuthEnv<Claims, User>',
    probes: [
      { path: '/api/tenant', status: 401, body: { code: 'missing_token' } },
      { path: '/api/tenant', token: { sub: 'alice', tenant: 'acme' }, status: 200, body: 'acme' },
    ],
  },
  {
    readme: 'packages/hono/README.md',
    contains: 'forwardErrors: true',
    probes: [
      { path: '/api/me', authorization: 'Bearer not-a-jwt', status: 401, body: { error: 'invalid_token', code: 'malformed_token' } },
      { path: '/api/me', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  // packages/hono/README.md: the variables option and the hono/jwt migration guide (before and after).
  {
    readme: 'packages/hono/README.md',
    contains: "variables: { auth: 'token', user: 'account' }",
    probes: [
      { path: '/v2/scopes', status: 401, body: { code: 'missing_token' } },
      { path: '/v2/scopes', token: { sub: 'alice', scope: 'read write' }, status: 200, body: { scopes: ['read', 'write'] } },
      { path: '/api/admin', token: { sub: 'alice', scope: 'admin' }, status: 200, body: 'alice' },
      { path: '/api/admin', token: { sub: 'alice', scope: 'read' }, status: 403, body: { code: 'insufficient_scope' } },
    ],
  },
  {
    readme: 'packages/hono/README.md',
    contains: "from 'hono/jwt'",
    probes: [
      { path: '/ping', status: 200, body: 'pong' },
      { path: '/api/me', status: 401, body: 'Unauthorized' },
      { path: '/api/me', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 200, body: { sub: 'alice' } },
      {
        method: 'DELETE',
        path: '/api/notes/7',
        token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'notes:read' },
        status: 403,
        body: { error: 'forbidden' },
      },
      { method: 'DELETE', path: '/api/notes/7', token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'notes:write' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/hono/README.md',
    contains: "requireScopes('notes:write')",
    probes: [
      { path: '/ping', status: 200, body: 'pong' },
      { path: '/api/me', status: 401, body: { code: 'missing_token' } },
      { path: '/api/me', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 200, body: { sub: 'alice' } },
      { path: '/api/me', token: { sub: 'alice', iss: 'https://evil.example' }, status: 401, body: { code: 'claim_invalid' } },
      {
        method: 'DELETE',
        path: '/api/notes/7',
        token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'notes:read' },
        status: 403,
        body: { code: 'insufficient_scope' },
      },
      { method: 'DELETE', path: '/api/notes/7', token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'notes:write' }, status: 204, body: '' },
    ],
  },
  // Coming from koa-jwt (packages/koa/README.md): the app before, with koa-jwt, and after.
  {
    readme: 'packages/koa/README.md',
    contains: "from 'koa-jwt'",
    probes: [
      { path: '/public/docs', status: 200, body: 'unprotected' },
      { path: '/me', status: 401, body: { error: 'unauthorized' } },
      { path: '/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  {
    readme: 'packages/koa/README.md',
    contains: "tokenFrom: { header: true, cookie: 'access_token' }",
    probes: [
      { path: '/public/docs', status: 200, body: 'unprotected' },
      { path: '/public/../me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', authorization: 'Basic YWxpY2U6cHc=', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      { path: '/me', token: { sub: 'alice', aud: 'https://other.example' }, status: 401, body: { code: 'claim_invalid' } },
    ],
  },
  // packages/express/README.md: requestProperty / userProperty, side by side, and the migration guides.
  {
    readme: 'packages/express/README.md',
    contains: "userProperty: 'principal'",
    probes: [
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', scope: 'read' }, status: 200, body: { sub: 'alice', scopes: ['read'] } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', scope: 'read' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', scope: 'admin' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: 'requestProperty: false',
    probes: [
      // express-jwt's refusals go to Express's final handler, which logs them: only valid tokens here.
      { path: '/v1/me', token: { sub: 'alice', admin: true }, status: 200, body: { sub: 'alice', admin: true } },
      { path: '/v2/me', status: 401, body: { code: 'missing_token' } },
      { path: '/v2/me', token: { sub: 'alice', scope: 'read' }, status: 200, body: { sub: 'alice', scopes: ['read'] } },
      { method: 'DELETE', path: '/v2/users/42', token: { sub: 'alice', scope: 'read' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/v2/users/42', token: { sub: 'alice', scope: 'admin' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: "err.name !== 'UnauthorizedError'",
    probes: [
      { path: '/api/status', status: 200, body: { up: true } },
      { path: '/api/me', status: 401, body: { message: 'No authorization token was found' } },
      { path: '/api/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      { method: 'DELETE', path: '/api/users/42', token: { sub: 'alice', aud: 'https://api.example.com', scope: 'read' }, status: 403 },
      { method: 'DELETE', path: '/api/users/42', token: { sub: 'alice', aud: 'https://api.example.com', scope: 'admin' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: "unless: { path: ['/api/status'] }",
    probes: [
      { path: '/api/status', status: 200, body: { up: true } },
      { path: '/api/me', status: 401, body: { code: 'missing_token' } },
      { path: '/api/me', token: { sub: 'alice', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      { path: '/api/me', token: { sub: 'alice', aud: 'https://other.example.com' }, status: 401, body: { code: 'claim_invalid' } },
      {
        method: 'DELETE',
        path: '/api/users/42',
        token: { sub: 'alice', aud: 'https://api.example.com', scope: 'read' },
        status: 403,
        body: { code: 'insufficient_scope' },
      },
      { method: 'DELETE', path: '/api/users/42', token: { sub: 'alice', aud: 'https://api.example.com', scope: 'admin' }, status: 204, body: '' },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: "tokenSigningAlg: 'HS256'",
    probes: [
      // Its refusals go to Express's final handler, which logs them: only valid tokens here.
      { path: '/me', token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com' }, status: 200, body: { sub: 'alice' } },
      {
        method: 'DELETE',
        path: '/users/42',
        token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com', scope: 'admin' },
        status: 204,
        body: '',
      },
    ],
  },
  {
    readme: 'packages/express/README.md',
    contains: "payload.org_id === 'acme'",
    probes: [
      { path: '/me', status: 401, body: { code: 'missing_token' } },
      {
        path: '/me',
        token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com' },
        status: 200,
        body: { sub: 'alice', scopes: [] },
      },
      { path: '/me', token: { sub: 'alice', iss: 'https://evil.example.com/', aud: 'https://api.example.com' }, status: 401, body: { code: 'claim_invalid' } },
      {
        method: 'DELETE',
        path: '/users/42',
        token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com', scope: 'admin' },
        status: 204,
        body: '',
      },
      {
        path: '/org',
        token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com', org_id: 'acme' },
        status: 200,
        body: { org: 'acme' },
      },
      {
        path: '/org',
        token: { sub: 'alice', iss: 'https://auth.example.com/', aud: 'https://api.example.com', org_id: 'other' },
        status: 403,
        body: { code: 'insufficient_scope' },
      },
    ],
  },
  // packages/fastify/README.md: on-demand verification, namespaces, @fastify/jwt side by side and the migration guide.
  {
    readme: 'packages/fastify/README.md',
    contains: 'const auth = await request.jwtVerify(); // only this request needs a token',
    probes: [
      { path: '/articles', status: 200 },
      { method: 'POST', path: '/articles', status: 401, body: { code: 'missing_token' } },
      { method: 'POST', path: '/articles', token: { sub: 'alice' }, status: 201, body: { author: 'alice' } },
      { path: '/feed', status: 200, body: { drafts: false } },
      { path: '/feed?drafts=1', status: 401, body: { error: 'unauthorized', code: 'missing_token' } },
      { path: '/feed?drafts=1', authorization: 'Bearer not-a-jwt', status: 401, body: { error: 'invalid_token', code: 'malformed_token' } },
      { path: '/feed?drafts=1', token: { sub: 'alice' }, status: 200, body: { drafts: true, for: 'alice' } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: "namespace: 'staff'",
    probes: [
      { path: '/admin/orders', status: 401, body: { code: 'missing_token' } },
      { path: '/admin/orders', token: { sub: 'alice', iss: 'https://login.example.com' }, status: 200, body: { staff: 'alice' } },
      { path: '/admin/orders', token: { sub: 'acme', iss: 'https://partners.example.com', aud: 'orders-api' }, status: 401, body: { code: 'claim_invalid' } },
      {
        method: 'POST',
        path: '/partner/orders',
        token: { sub: 'acme', iss: 'https://partners.example.com', aud: 'orders-api' },
        status: 202,
        body: { partner: 'acme' },
      },
      { method: 'POST', path: '/partner/orders', token: { sub: 'alice', iss: 'https://login.example.com' }, status: 401, body: { code: 'claim_invalid' } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: "legacy.get('/v1/me'",
    probes: [
      { path: '/v1/me', status: 401, body: { code: 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' } },
      { path: '/v1/me', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
      { path: '/v2/me', status: 401, body: { code: 'missing_token' } },
      { path: '/v2/me', token: { sub: 'alice' }, status: 200, body: { sub: 'alice' } },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: 'formatUser: (payload)',
    probes: [
      { path: '/', status: 200, body: 'ok' },
      { path: '/me', status: 401, body: { code: 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' } },
      { path: '/me', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 200, body: { id: 'alice' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 403 },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'admin' }, status: 204 },
    ],
  },
  {
    readme: 'packages/fastify/README.md',
    contains: 'hook: false, // verify where a route asks',
    probes: [
      { path: '/', status: 200, body: 'ok' },
      { path: '/me', status: 401, body: { error: 'unauthorized', code: 'missing_token' } },
      { path: '/me', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 200, body: { id: 'alice' } },
      { path: '/me', token: { sub: 'alice', iss: 'https://evil.example.com' }, status: 401, body: { code: 'claim_invalid' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', iss: 'https://auth.example.com' }, status: 403, body: { code: 'insufficient_scope' } },
      { method: 'DELETE', path: '/users/42', token: { sub: 'alice', iss: 'https://auth.example.com', scope: 'admin' }, status: 204, body: '' },
    ],
  },
];

function probesOf(snippet: Snippet): Probe[] | undefined {
  return PROBES.find((entry) => entry.readme === snippet.readme && snippet.code.includes(entry.contains))?.probes;
}

// ---------------------------------------------------------------------------------------------
// Files: a directory under test/node_modules/.cache, so that `@jwtauth/*` and the frameworks
// resolve from test/node_modules exactly as in a user's project, and nothing lands in git.

let dir: string;
let typeChecked: Promise<Map<string, string[]>>;

beforeAll(() => {
  const missing = ['core', 'express', 'koa', 'fastify', 'hono'].map((name) => `packages/${name}/dist/index.js`).filter((path) => !existsSync(join(root, path)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: README snippets use the built packages, run pnpm build first`);
  const cache = join(root, 'test/node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'readme-snippets-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  for (const snippet of snippets) writeFileSync(join(dir, `${snippet.file}.${snippet.extension}`), snippet.code);
  typeChecked = typeCheck();
  typeChecked.catch(() => {}); // reported by the type-check tests
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('README code blocks', () => {
  it('are found in the READMEs (the extraction works)', () => {
    expect(readmes).toContain('README.md');
    expect(readmes).toContain('packages/core/README.md');
    expect(snippets.filter((s) => s.readme === 'packages/hono/README.md').length).toBeGreaterThanOrEqual(3);
  });

  it('have nothing after the language in their fence', () => {
    expect(snippets.filter((s) => s.info.split(/\s+/).length > 1).map((s) => `${s.name}: ${s.info}`)).toEqual([]);
  });

  it('each serving-snippet probe entry matches exactly one snippet', () => {
    const unmatched = PROBES.filter((entry) => snippets.filter((s) => s.readme === entry.readme && s.code.includes(entry.contains)).length !== 1);
    expect(unmatched.map((entry) => `${entry.readme}: ${entry.contains}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Type checks, as a user's compiler sees the snippet (see the rules at the top).

function compilerOptions(): ts.CompilerOptions {
  const file = join(root, 'tsconfig.base.json');
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, file);
  return {
    ...options,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    moduleDetection: ts.ModuleDetectionKind.Force,
    types: ['node'],
    allowJs: true,
    checkJs: true,
    jsx: ts.JsxEmit.ReactJSX,
    jsxImportSource: 'hono/jsx',
    noEmit: true,
    declaration: false,
    skipLibCheck: true,
  };
}

/** A snippet that augments a global or a module's types must be compiled on its own. */
const augments = (snippet: Snippet) => /\bdeclare\s+(global|module)\b/.test(snippet.code);

/**
 * Type-checks every snippet in a child process (test/harness/readme-snippet-typecheck.ts), so
 * that the snippets run meanwhile; resolves to each snippet's errors, at lines of its README.
 */
async function typeCheck(): Promise<Map<string, string[]>> {
  const fileOf = (snippet: Snippet) => join(dir, `${snippet.file}.${snippet.extension}`);
  // Snippets are modules (moduleDetection: force), so one program can hold all of them but those
  // that augment types; each of these gets its own program.
  const programs = [snippets.filter((s) => !augments(s)), ...snippets.filter(augments).map((s) => [s])].filter((group) => group.length > 0);
  const job = join(dir, 'typecheck-job.json');
  writeFileSync(job, JSON.stringify({ options: compilerOptions(), programs: programs.map((group) => group.map(fileOf)) }));
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn(process.execPath, [harness('readme-snippet-typecheck'), job], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ stdout: out, stderr: err, code: exitCode }));
  });
  if (code !== 0) throw new Error(`the type check failed to run (${code}): ${stderr}`);
  const errors = new Map<string, string[]>(snippets.map((s) => [s.name, []]));
  for (const found of JSON.parse(stdout) as Found[]) {
    const group = programs[found.program]!;
    const snippet = group.find((s) => found.file === fileOf(s));
    const at = found.line === undefined ? '' : snippet !== undefined ? `${snippet.readme}:${snippet.line + found.line}: ` : `${found.file}:${found.line}: `;
    // A diagnostic outside the snippets (a global one, or in a .d.ts) fails every snippet of its program.
    for (const s of snippet === undefined ? group : [snippet]) errors.get(s.name)!.push(`${at}${found.message}`);
  }
  return errors;
}

// The snippets run first, while they are type-checked in another process.
describe.each(snippets.map((s) => [s.name, s] as const))('the README snippet at %s', (_name, snippet) => {
  it('runs: it starts, serves what it shows, and exits cleanly', { timeout: START_TIMEOUT + EXIT_TIMEOUT + 10_000 }, async () => {
    const script = join(dir, `${snippet.file}.mjs`);
    const { outputText } = ts.transpileModule(snippet.code, {
      fileName: `${snippet.file}.${snippet.extension}`,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        jsx: ts.JsxEmit.ReactJSX,
        jsxImportSource: 'hono/jsx',
      },
    });
    writeFileSync(script, outputText);
    await runSnippet(snippet, script);
  });
});

describe.each(snippets.map((s) => [s.name, s] as const))('the README snippet at %s', (_name, snippet) => {
  it('type-checks strictly on its own', { timeout: 120_000 }, async () => {
    expect((await typeChecked).get(snippet.name)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Running.

const compiled = new Map<string, string>();

/** test/harness/<name>.ts, compiled next to the snippets; returns the path of the .js. */
function harness(name: string): string {
  let path = compiled.get(name);
  if (path === undefined) {
    const source = readFileSync(join(root, `test/harness/${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    path = join(dir, `${name}.js`);
    writeFileSync(path, outputText);
    compiled.set(name, path);
  }
  return path;
}

/** The parent's environment without anything a snippet or example reads, plus `vars`. */
function envWith(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'PORT',
    'HOST',
    'JWT_SECRET',
    'NODE_ENV',
    'NODE_OPTIONS',
    'ACCESS_TOKEN_TTL',
    'REFRESH_TOKEN_TTL',
    'TRUST_PROXY',
    'SHUTDOWN_TIMEOUT_MS',
  ]) {
    delete env[name];
  }
  return { ...env, ...vars };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

async function runSnippet(snippet: Snippet, script: string): Promise<void> {
  const child = spawn(process.execPath, [harness('readme-snippet-runner'), script], {
    cwd: dir,
    env: envWith({ JWT_SECRET: SECRET }),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const explain = (what: string) => `${snippet.name} ${what}\nstdout: ${output}\nstderr: ${stderr}`;
  try {
    const ready = await Promise.race([
      new Promise<{ ports: number[] }>((resolve) => child.once('message', (message) => resolve(message as { ports: number[] }))),
      // A snippet that serves nothing may exit before its message is read: code 0 is success.
      exited.then((exit) => {
        if (exit.code === 0 && exit.signal === null) return { ports: [] };
        throw new Error(explain(`exited (${exit.code ?? exit.signal}) while starting`));
      }),
      timeout(START_TIMEOUT).then(() => {
        throw new Error(explain(`did not start within ${START_TIMEOUT} ms`));
      }),
    ]);
    const probes = probesOf(snippet);
    if (probes !== undefined && ready.ports.length === 0) throw new Error(explain('has probes but serves nothing'));
    if (ready.ports.length > 0) {
      const url = `http://127.0.0.1:${ready.ports[0]}`;
      if (probes === undefined) {
        const answer = await send(url, { path: '/' });
        expect(answer.status, `${snippet.name}: GET / answers ${answer.status}: ${answer.body}`).toBeLessThan(500);
      }
      for (const probe of probes ?? []) {
        const answer = await send(url, probe);
        const label = `${snippet.name}: ${probe.method ?? 'GET'} ${probe.path}${probe.token ? ' with a token' : probe.authorization ? ` with ${probe.authorization}` : ''}`;
        expect(answer.status, `${label}: ${answer.body}`).toBe(probe.status);
        if (typeof probe.body === 'string') expect(answer.body, label).toBe(probe.body);
        else if (probe.body !== undefined) expect(JSON.parse(answer.body), label).toMatchObject(probe.body);
      }
      child.send({ type: 'close' });
    }
    const exit = await Promise.race([exited, timeout(EXIT_TIMEOUT).then(() => undefined)]);
    if (exit === undefined) throw new Error(explain(`did not exit within ${EXIT_TIMEOUT} ms once done (a timer or socket left open?)`));
    expect(exit, explain('exit status')).toEqual({ code: 0, signal: null });
    expect(stderr, explain('wrote to stderr')).toBe('');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function timeout(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function send(url: string, probe: Omit<Probe, 'status' | 'body'>): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = {};
  if (probe.authorization !== undefined) headers.authorization = probe.authorization;
  if (probe.token !== undefined) {
    const token = await new SignJWT(probe.token)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    headers.authorization = `Bearer ${token}`;
  }
  return request(`${url}${probe.path}`, probe.method ?? 'GET', headers);
}

/** One HTTP request on its own connection (no agent: nothing keeps the snippet's server busy). */
function request(url: string, method: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// The root README's curl session, against the built Express example.

describe("the root README's curl session", () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('runs against the Express example and shows what its comments say', { timeout: 30_000 }, async () => {
    const example = join(root, 'examples/express/dist/server.js');
    if (!existsSync(example)) throw new Error(`${example} is missing: build the examples first (pnpm build)`);
    const session = readFileSync(join(root, 'README.md'), 'utf8')
      .split(/^```/m)
      .find((block) => block.startsWith('sh\nAPI=http://127.0.0.1:3000;'));
    expect(session, 'the README block that starts with API=http://127.0.0.1:3000').toBeDefined();

    server = spawn(process.execPath, [example], {
      cwd: root,
      env: envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${START_TIMEOUT} ms: ${log}`)), START_TIMEOUT);
      server!.stdout!.on('data', () => {
        const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(log);
        if (match === null) return;
        clearTimeout(timer);
        resolve(match[1]!);
      });
      server!.once('exit', (code) => reject(new Error(`the example exited (${code}): ${log}`)));
    });

    const script = session!.slice('sh\n'.length).replace('API=http://127.0.0.1:3000;', `API=${url};`);
    // The session's `field` helper runs `node`: the one running this test.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
    const shell = spawnSync('bash', ['-e', '-c', script], { encoding: 'utf8', env, timeout: 20_000 });
    expect(shell.error).toBeUndefined();
    expect(shell.status, shell.stderr).toBe(0);
    // What the comments of the session promise, in order.
    const promised = [
      '{"status":"ok"}',
      'HTTP/1.1 401',
      '"message":"Hello, alice!"',
      '"code":"insufficient_scope"',
      '{"revoked":true}',
      '"code":"token_revoked"',
    ];
    let from = 0;
    for (const text of promised) {
      const at = shell.stdout.indexOf(text, from);
      expect(at, `"${text}" after offset ${from} in:\n${shell.stdout}`).toBeGreaterThanOrEqual(0);
      from = at + text.length;
    }
  });
});
