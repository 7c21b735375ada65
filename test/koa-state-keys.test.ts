import { jwtAuth, requireClaims, requireScopes, type KoaJwtAuthOptions } from '@jwtauth/koa';
import Koa from 'koa';
import koa2 from 'koa2';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { HS_SECRET, sign } from './fixtures.js';
import { listen, rawGet } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// The Koa adapter's `key` and `authKey` options (where the result lands in ctx.state, as koa-jwt's
// `key`), the guards finding the auth whatever its name, and koa-jwt's `.unless()`, over real HTTP
// on Koa 3 and Koa 2.

const MISSING_TOKEN = { error: 'unauthorized', error_description: 'Authentication is required: send a Bearer token', code: 'missing_token' };

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(app: Koa): Promise<string> {
  const server = await listen(createServer(app.callback()));
  servers.push(server);
  return server.url;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** What a handler sees in ctx.state: every own property, the auth and user reduced to what identifies them. */
function stateOf(state: Record<string, unknown>): Record<string, unknown> {
  const seen: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(state)) {
    if (value === undefined) seen[name] = 'undefined';
    else if (typeof value === 'object' && value !== null && 'token' in value && 'payload' in value)
      seen[name] = { auth: (value as { payload: { sub?: unknown } }).payload.sub };
    else if (typeof value === 'object' && value !== null && 'code' in value) seen[name] = { error: value.code };
    else seen[name] = value;
  }
  return seen;
}

describe.each([
  ['koa', Koa],
  ['koa2', koa2 as typeof Koa],
] as const)('%s: key and authKey', (_, KoaApp) => {
  async function start(options: KoaJwtAuthOptions<{ sub?: string }, unknown, string, string>, guard?: Koa.Middleware): Promise<string> {
    const app = new KoaApp();
    app.use(jwtAuth(options));
    if (guard !== undefined) app.use(guard);
    app.use((ctx) => {
      ctx.body = stateOf(ctx.state);
    });
    return serve(app);
  }

  it('puts the user under key and the auth under authKey, and nothing under user or auth', async () => {
    const url = await start({ secret: HS_SECRET, key: 'account', authKey: 'jwt' });
    const response = await get(url, bearer(await sign({ sub: 'alice' })));
    expect(response).toEqual({
      status: 200,
      body: { jwt: { auth: 'alice' }, account: { sub: 'alice', iat: expect.any(Number), exp: expect.any(Number) }, authError: 'undefined' },
    });
  });

  it('keeps the defaults ctx.state.auth and ctx.state.user without them', async () => {
    const url = await start({ secret: HS_SECRET });
    const response = await get(url, bearer(await sign({ sub: 'alice' })));
    expect(response).toEqual({
      status: 200,
      body: { auth: { auth: 'alice' }, user: { sub: 'alice', iat: expect.any(Number), exp: expect.any(Number) }, authError: 'undefined' },
    });
  });

  it('puts what resolveUser returned under key', async () => {
    const url = await start({ secret: HS_SECRET, key: 'member', resolveUser: (payload) => ({ id: payload.sub, kind: 'member' }) });
    const response = await get(url, bearer(await sign({ sub: 'bob' })));
    expect(response).toEqual({ status: 200, body: { auth: { auth: 'bob' }, member: { id: 'bob', kind: 'member' }, authError: 'undefined' } });
  });

  it('still answers 401 without a token and sets nothing', async () => {
    const url = await start({ secret: HS_SECRET, key: 'account', authKey: 'jwt' });
    expect(await get(url)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('with passthrough, sets authError next to the renamed properties', async () => {
    const url = await start({ secret: HS_SECRET, key: 'account', authKey: 'jwt', passthrough: true });
    const response = await get(url, bearer('not-a-jwt'));
    expect(response).toEqual({ status: 200, body: { jwt: 'undefined', account: 'undefined', authError: { error: 'malformed_token' } } });
  });

  it('requireScopes finds the auth under authKey', async () => {
    const url = await start({ secret: HS_SECRET, authKey: 'jwt' }, requireScopes('admin'));
    expect((await get(url, bearer(await sign({ sub: 'alice', scope: 'admin' })))).status).toBe(200);
    const refused = await get(url, bearer(await sign({ sub: 'alice', scope: 'read' })));
    expect(refused).toEqual({ status: 403, body: { error: 'insufficient_scope', error_description: expect.any(String), code: 'insufficient_scope' } });
  });

  it('requireClaims finds the auth under authKey', async () => {
    const url = await start(
      { secret: HS_SECRET, key: 'account', authKey: 'token' },
      requireClaims((payload) => payload.sub === 'alice'),
    );
    expect((await get(url, bearer(await sign({ sub: 'alice' })))).status).toBe(200);
    expect((await get(url, bearer(await sign({ sub: 'mallory' })))).status).toBe(403);
  });

  it('with passthrough, a guard answers the failure let through, whatever the names', async () => {
    const url = await start({ secret: HS_SECRET, key: 'account', authKey: 'jwt', passthrough: true }, requireScopes('admin'));
    expect((await get(url, bearer('not-a-jwt'))).body).toMatchObject({ code: 'malformed_token' });
    expect(await get(url)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('a guard on a request let through unauthenticated answers 401, whatever the names', async () => {
    const url = await start({ secret: HS_SECRET, authKey: 'jwt', credentialsRequired: false }, requireScopes('admin'));
    expect(await get(url)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('a guard reads what jwtAuth verified, not ctx.state properties written after it', async () => {
    const app = new KoaApp();
    app.use(jwtAuth({ secret: HS_SECRET, authKey: 'jwt', passthrough: true }));
    app.use((ctx, next) => {
      // Code that writes where the auth used to be, e.g. from a session: not a verified token.
      ctx.state.auth = { token: 'x', header: { alg: 'HS256' }, payload: {}, scopes: ['admin'] };
      ctx.state.jwt = { token: 'x', header: { alg: 'HS256' }, payload: {}, scopes: ['admin'] };
      ctx.state.authError = undefined;
      return next();
    });
    app.use(requireScopes('admin'));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const url = await serve(app);
    expect(await get(url)).toEqual({ status: 401, body: MISSING_TOKEN });
    expect((await get(url, bearer('not-a-jwt'))).body).toMatchObject({ code: 'malformed_token' });
    expect((await get(url, bearer(await sign({ scope: 'read' })))).status).toBe(403);
  });

  it('a guard follows the last jwtAuth a request went through', async () => {
    const app = new KoaApp();
    app.use(jwtAuth({ secret: HS_SECRET, authKey: 'first' }));
    // A second jwtAuth that skips this path: the request is unauthenticated for the guard too.
    app.use(jwtAuth({ secret: HS_SECRET, authKey: 'second' }).unless({ path: '/open' }));
    app.use(requireScopes('admin'));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const url = await serve(app);
    const admin = bearer(await sign({ scope: 'admin' }));
    expect(await get(`${url}/closed`, admin)).toEqual({ status: 200, body: { ok: true } });
    expect(await get(`${url}/open`, admin)).toEqual({ status: 401, body: MISSING_TOKEN });
  });
});

describe.each([
  ['koa', Koa],
  ['koa2', koa2 as typeof Koa],
] as const)('%s: .unless()', (_, KoaApp) => {
  async function start(middleware: Koa.Middleware): Promise<string> {
    const app = new KoaApp();
    app.use(middleware);
    app.use((ctx) => {
      ctx.body = { path: ctx.path, user: ctx.state.account ?? ctx.state.user ?? null };
    });
    return serve(app);
  }

  it('skips the paths given, as the unless option does, and authenticates the others', async () => {
    const url = await start(jwtAuth({ secret: HS_SECRET }).unless({ path: ['/public', /^\/assets\//] }));
    expect(await get(`${url}/public`, { Authorization: 'wrong' })).toEqual({ status: 200, body: { path: '/public', user: null } });
    expect(await get(`${url}/assets/app.css`)).toEqual({ status: 200, body: { path: '/assets/app.css', user: null } });
    expect(await get(`${url}/private`)).toEqual({ status: 401, body: MISSING_TOKEN });
    expect(await rawGet(url, '/assets/../private')).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('keeps every option of the middleware it was called on', async () => {
    const url = await start(jwtAuth({ secret: HS_SECRET, key: 'account', audience: 'api' }).unless({ method: 'OPTIONS' }));
    expect(await get(url, bearer(await sign({ sub: 'alice', aud: 'api' })))).toEqual({
      status: 200,
      body: { path: '/', user: expect.objectContaining({ sub: 'alice' }) },
    });
    expect((await get(url, bearer(await sign({ sub: 'alice', aud: 'other' })))).body).toMatchObject({ code: 'claim_invalid' });
  });

  it('takes a predicate, as koa-unless does', async () => {
    const url = await start(jwtAuth({ secret: HS_SECRET }).unless((ctx) => ctx.path === '/health'));
    expect((await get(`${url}/health`)).status).toBe(200);
    expect((await get(`${url}/other`)).status).toBe(401);
  });
});

describe('checked at creation', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['key "__proto__"', { key: '__proto__' }, /"key" cannot be "__proto__", a property every object inherits/],
    ['key "constructor"', { key: 'constructor' }, /"key" cannot be "constructor"/],
    ['authKey "toString"', { authKey: 'toString' }, /"authKey" cannot be "toString"/],
    ['authKey "hasOwnProperty"', { authKey: 'hasOwnProperty' }, /"authKey" cannot be "hasOwnProperty"/],
    ['an empty key', { key: '' }, /"key" names a ctx\.state property, such as "user"/],
    ['a key that is no identifier', { key: 'jwt-data' }, /letters, digits, _ and \$/],
    ['a key object (a verification key given as key)', { key: { kty: 'oct', k: 'x' } }, /the verification key is "secret"/],
    ['a number as authKey', { authKey: 1 }, /"authKey" names a ctx\.state property, such as "auth"/],
    ['key equal to authKey', { key: 'jwt', authKey: 'jwt' }, /"key" \("jwt"\) and "authKey" \("jwt"\) must differ from each other and from "authError"/],
    ['key "auth" (the default authKey)', { key: 'auth' }, /must differ/],
    ['authKey "user" (the default key)', { authKey: 'user' }, /must differ/],
    ['key "authError"', { key: 'authError' }, /must differ/],
    ['koa-jwt tokenKey', { tokenKey: 'token' }, /"tokenKey" is a koa-jwt option: the raw token is already ctx\.state\.auth\.token/],
    ['koa-jwt cookie', { cookie: 'jwt' }, /"cookie" is a koa-jwt option: read a cookie with tokenFrom: \{ cookie: "<name>" \}/],
    ['koa-jwt debug', { debug: true }, /"debug" is a koa-jwt option: .*onEvent/],
    [
      'koa-jwt isRevoked(ctx, decodedToken, token)',
      { isRevoked: (_ctx: unknown, _decoded: unknown, _token: unknown) => false },
      /"isRevoked" receives \(payload, header\), not koa-jwt's \(ctx, decodedToken, token\)/,
    ],
  ])('refuses %s with a TypeError', (_, extra, message) => {
    expect(() => jwtAuth({ secret: HS_SECRET, ...extra })).toThrow(TypeError);
    expect(() => jwtAuth({ secret: HS_SECRET, ...extra })).toThrow(message);
  });

  it('refuses unless given both as an option and with .unless()', () => {
    const middleware = jwtAuth({ secret: HS_SECRET, unless: { path: '/a' } });
    expect(() => middleware.unless({ path: '/b' })).toThrow(/"unless" is given twice, as an option and with \.unless\(\)/);
  });

  it('checks what .unless() is given as the unless option, with koa-unless hints', () => {
    const middleware = jwtAuth({ secret: HS_SECRET });
    expect(() => middleware.unless({ ext: '.css' } as never)).toThrow(/"unless" has no "ext" option; match extensions with a glob/);
    expect(() => middleware.unless({ useOriginalUrl: false } as never)).toThrow(/"unless" has no "useOriginalUrl" option/);
    expect(() => middleware.unless({} as never)).toThrow(/"unless" skips nothing/);
  });

  it('still lets core check the rest (an isRevoked of two parameters is ours)', () => {
    expect(() => jwtAuth({ secret: HS_SECRET, isRevoked: (payload, header) => payload.jti === header.kid })).not.toThrow();
    expect(() => jwtAuth({ secret: HS_SECRET, key: 'account', authKey: 'jwt', cachee: false } as never)).toThrow(/unknown option "cachee"/);
  });
});

describe('the ESM and CommonJS builds loaded side by side', () => {
  it('a guard of one build finds the auth a jwtAuth of the other verified', async () => {
    const built = new URL('../packages/koa/dist/index.cjs', import.meta.url);
    if (!existsSync(built)) throw new Error('packages/koa/dist missing: run pnpm build first');
    const cjs = createRequire(import.meta.url)(built.pathname) as typeof import('@jwtauth/koa');
    const app = new Koa();
    app.use(jwtAuth({ secret: HS_SECRET, authKey: 'jwt' }));
    app.use(cjs.requireScopes('admin'));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    const url = await serve(app);
    expect(await get(url, bearer(await sign({ scope: 'admin' })))).toEqual({ status: 200, body: { ok: true } });
    expect((await get(url, bearer(await sign({ scope: 'read' })))).status).toBe(403);
  });
});
