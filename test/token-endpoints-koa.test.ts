import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { createTokenEndpoints, createTokenIssuer, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { jwtAuth, tokenRoutes, type TokenEndpoints } from '@jwtauth/koa';
import Koa, { type Context, type Middleware } from 'koa';
import koa2 from 'koa2';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { dpopProof, proofKey } from './dpop-support.js';
import { authorizationEndpoints, runAuthorizationCodeFlow } from './authz-flow.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// tokenRoutes() of the Koa adapter: the token endpoints of @jwtauth/issuer mounted under /auth of a
// Koa 3 and a Koa 2 app, next to a route jwtAuth protects, over real HTTP on 127.0.0.1.

const SECRET = 'a-secret-of-at-least-thirty-two-bytes-for-hs256';
const USERS: Record<string, string> = { alice: 'alice-password' };
const NO_STORE = 'no-store';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Setup {
  /** `app.proxy`: whether Koa takes the client address from X-Forwarded-For. */
  proxy?: boolean;
  /** The body parser mounted before the endpoints; `false` for none. */
  parser?: Middleware | false;
  throttle?: TokenEndpointsOptions<Context>['throttle'];
  verifyCredentials?: TokenEndpointsOptions<Context>['verifyCredentials'];
  /** The issuer's `reuseInterval`: `0` makes a second use of a rotated refresh token theft at once. */
  reuseInterval?: 0;
}

interface Running {
  url: string;
  /** Errors Koa's error path saw (`app.on('error')`). */
  errors: unknown[];
}

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> | string;
}

async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: response.status, headers: response.headers, body: json ? (JSON.parse(text) as Record<string, unknown>) : text };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe.each([
  ['koa', Koa],
  ['koa2', koa2 as typeof Koa],
] as const)('%s: tokenRoutes', (_, KoaApp) => {
  async function start(setup: Setup = {}): Promise<Running> {
    const issuer = createTokenIssuer({
      key: SECRET,
      issuer: 'urn:test',
      audience: 'urn:api',
      ...(setup.reuseInterval === undefined ? {} : { reuseInterval: setup.reuseInterval }),
    });
    const endpoints = createTokenEndpoints<Context>({
      issuer,
      verifyCredentials:
        setup.verifyCredentials ?? ((username, password) => (USERS[username] === password ? { subject: username, claims: { scope: 'read' } } : null)),
      refreshCookie: { path: '/auth/token' },
      ...(setup.throttle === undefined ? {} : { throttle: setup.throttle }),
    });
    const app = new KoaApp();
    app.proxy = setup.proxy ?? false;
    const errors: unknown[] = [];
    // A listener also keeps Koa from logging the errors this suite provokes.
    app.on('error', (error: unknown) => errors.push(error));
    if (setup.parser !== false) app.use(setup.parser ?? bodyParser());
    app.use(tokenRoutes(endpoints, { prefix: '/auth' }));
    const router = new Router();
    router.get('/api/hello', jwtAuth({ ...issuer.verifierOptions }), (ctx) => {
      ctx.body = { message: `Hello, ${String(ctx.state.user?.sub)}!` };
    });
    app.use(router.routes()).use(router.allowedMethods());
    const server = await listen(createServer(app.callback()));
    servers.push(server);
    return { url: server.url, errors };
  }

  async function login(url: string, extra: Record<string, unknown> = {}): Promise<Reply> {
    return postJson(`${url}/auth/token`, { username: 'alice', password: 'alice-password', ...extra });
  }

  const hello = (url: string, token: string) => call(`${url}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });

  it('logs in under the prefix, and the access token opens the route jwtAuth protects', async () => {
    const { url } = await start();
    const answer = await login(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe(NO_STORE);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
      refresh_expires_in: 86400,
    });
    const body = answer.body as { access_token: string };
    expect(await hello(url, body.access_token)).toMatchObject({ status: 200, body: { message: 'Hello, alice!' } });
  });

  it('rotates the refresh token in the body; reusing the old one ends the session', async () => {
    const { url } = await start({ reuseInterval: 0 });
    const first = (await login(url)).body as { refresh_token: string };
    const refreshed = await postJson(`${url}/auth/token/refresh`, { refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe(NO_STORE);
    const second = refreshed.body as { access_token: string; refresh_token: string };
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await hello(url, second.access_token)).status).toBe(200);
    const reused = await postJson(`${url}/auth/token/refresh`, { refresh_token: first.refresh_token });
    expect(reused.status).toBe(401);
    expect(reused.headers.get('cache-control')).toBe(NO_STORE);
    expect(reused.body).toMatchObject({ error: 'invalid_token' });
    expect((await hello(url, second.access_token)).status).toBe(401);
  });

  it('keeps the refresh token in an HttpOnly cookie whose path is the mount, rotates it and clears it on revoke', async () => {
    const { url } = await start();
    const answer = await login(url, { refresh_in: 'cookie' });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('refresh_token');
    expect(answer.body).not.toHaveProperty('refresh_expires_in');
    const [setCookie] = answer.headers.getSetCookie();
    expect(setCookie).toMatch(/^refresh_token=[^;]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    const cookie = setCookie!.split(';')[0]!;

    const refreshed = await postJson(`${url}/auth/token/refresh`, {}, { Cookie: cookie });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe(NO_STORE);
    const [rotated] = refreshed.headers.getSetCookie();
    expect(rotated).toMatch(/^refresh_token=[^;]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    const newCookie = rotated!.split(';')[0]!;
    expect(newCookie).not.toBe(cookie);
    expect((await hello(url, (refreshed.body as { access_token: string }).access_token)).status).toBe(200);

    const revoked = await postJson(`${url}/auth/token/revoke`, {}, { Cookie: newCookie });
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    expect(revoked.headers.getSetCookie()[0]).toMatch(/^refresh_token=; Path=\/auth\/token; Max-Age=0/);
    expect((await postJson(`${url}/auth/token/refresh`, {}, { Cookie: newCookie })).status).toBe(401);
  });

  it('verifies access tokens and refuses refresh tokens there with wrong_token_type', async () => {
    const { url } = await start();
    const tokens = (await login(url)).body as { access_token: string; refresh_token: string };
    const valid = await postJson(`${url}/auth/token/verify`, { token: tokens.access_token });
    expect(valid.status).toBe(200);
    expect(valid.headers.get('cache-control')).toBe(NO_STORE);
    expect(valid.body).toEqual({ valid: true, token_type: 'access', sub: 'alice', exp: expect.any(Number) });
    const refused = await postJson(`${url}/auth/token/verify`, { token: tokens.refresh_token });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_token', code: 'wrong_token_type' } });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('revokes a session: its refresh token no longer refreshes and its access token is refused', async () => {
    const { url } = await start();
    const tokens = (await login(url)).body as { access_token: string; refresh_token: string };
    const revoked = await postJson(`${url}/auth/token/revoke`, { token: tokens.refresh_token });
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    expect(revoked.headers.get('cache-control')).toBe(NO_STORE);
    const refresh = await postJson(`${url}/auth/token/refresh`, { refresh_token: tokens.refresh_token });
    expect(refresh).toMatchObject({ status: 401, body: { error: 'invalid_token', code: 'token_revoked' } });
    expect(await hello(url, tokens.access_token)).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  it('logs in with a urlencoded form when @koa/bodyparser parses forms', async () => {
    const { url } = await start();
    const answer = await call(`${url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice-password' }).toString(),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe(NO_STORE);
    expect((await hello(url, (answer.body as { access_token: string }).access_token)).status).toBe(200);
  });

  it("leaves a bad JSON body to @koa/bodyparser's own 400 on Koa's error path, before any password check", async () => {
    let checks = 0;
    const { url, errors } = await start({ verifyCredentials: () => (checks++, null) });
    const answer = await call(`${url}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"username":' });
    expect(answer.status).toBe(400);
    expect(checks).toBe(0);
    // The parser's own error, status 400, on Koa's error path: the mount never ran.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 400 });
  });

  it('answers a bad JSON body 400 invalid_json when the parser is told to leave the body null', async () => {
    // The README's recipe: the parse error marks the body null instead of being thrown, and the
    // endpoints answer it as the issuer README says.
    const parser = bodyParser({
      onError: (_error, ctx) => {
        ctx.request.body = null;
      },
    });
    const { url } = await start({ parser });
    const answer = await call(`${url}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"username":' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('cache-control')).toBe(NO_STORE);
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: expect.any(String), code: 'invalid_json' });
  });

  it('throws a TypeError down the error path when an endpoint is called and no body parser ran', async () => {
    const { url, errors } = await start({ parser: false });
    expect((await login(url)).status).toBe(500);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect((errors[0] as Error).message).toMatch(/app\.use\(bodyParser\(\)\) from @koa\/bodyparser/);
    // Only an endpoint reads the body: anything else still goes on to Koa's 404.
    expect((await call(`${url}/auth/token`)).status).toBe(404);
    expect((await postJson(`${url}/auth/nothing`, {})).status).toBe(404);
  });

  it.each([
    ['an unknown path under the prefix', 'POST', '/auth/nothing'],
    ['a GET of an endpoint', 'GET', '/auth/token'],
    ['a path that only starts like the prefix', 'POST', '/authx/token'],
    ['the prefix itself', 'POST', '/auth'],
  ])("leaves %s to Koa's own 404", async (_name, method, path) => {
    const { url } = await start();
    const answer = await call(`${url}${path}`, method === 'GET' ? {} : { method, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(answer).toMatchObject({ status: 404, body: 'Not Found' });
    expect(answer.headers.get('cache-control')).toBeNull();
  });

  it('throttles a username: the sixth wrong password is answered 429 with Retry-After', async () => {
    const { url } = await start();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const answer = await postJson(`${url}/auth/token`, { username: 'alice', password: `guess-${attempt}` });
      expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_grant', code: 'invalid_credentials' } });
      expect(answer.headers.get('cache-control')).toBe(NO_STORE);
    }
    const refused = await postJson(`${url}/auth/token`, { username: 'alice', password: 'guess-6' });
    expect(refused).toMatchObject({ status: 429, body: { error: 'too_many_requests', code: 'too_many_requests' } });
    expect(refused.headers.get('cache-control')).toBe(NO_STORE);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  describe('the per-address limit counts ctx.ip', () => {
    const throttle = { address: { points: 2, duration: 60 }, username: false } as const;
    const from = (url: string, forwardedFor: string) =>
      postJson(`${url}/auth/token`, { username: 'alice', password: 'wrong' }, { 'X-Forwarded-For': forwardedFor });

    it('counts clients behind different X-Forwarded-For apart when app.proxy trusts the proxy', async () => {
      const { url } = await start({ proxy: true, throttle });
      expect((await from(url, '203.0.113.1')).status).toBe(401);
      expect((await from(url, '203.0.113.1')).status).toBe(401);
      expect((await from(url, '203.0.113.1')).status).toBe(429);
      expect((await from(url, '203.0.113.2')).status).toBe(401);
    });

    it('counts them as the one socket address when app.proxy is off', async () => {
      const { url } = await start({ proxy: false, throttle });
      expect((await from(url, '203.0.113.1')).status).toBe(401);
      expect((await from(url, '203.0.113.2')).status).toBe(401);
      expect((await from(url, '203.0.113.3')).status).toBe(429);
    });
  });

  it("hands verifyCredentials the Koa context, and sends what it throws down Koa's error path unchanged", async () => {
    const failure = new Error('user store down');
    const seen: string[] = [];
    const { url, errors } = await start({
      verifyCredentials: (_username, _password, ctx) => {
        seen.push(`${ctx.method} ${ctx.path}`);
        throw failure;
      },
    });
    const answer = await login(url);
    expect(answer.status).toBe(500);
    expect(seen).toEqual(['POST /auth/token']);
    expect(errors).toEqual([failure]);
    expect(errors[0]).toBe(failure);
  });
});

describe('tokenRoutes options', () => {
  const endpoints: TokenEndpoints<Context> = { handle: () => Promise.resolve(undefined) };

  it.each([
    ['endpoints that are not token endpoints', () => tokenRoutes({} as TokenEndpoints<Context>), /first argument must be the token endpoints/],
    ['a prefix without a leading slash', () => tokenRoutes(endpoints, { prefix: 'auth' }), /"prefix" must start with "\/"/],
    ['a prefix with a trailing slash', () => tokenRoutes(endpoints, { prefix: '/auth/' }), /"prefix" must start with "\/" and not end with one/],
  ])('throws a TypeError at creation for %s', (_name, create, message) => {
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
  });

  it.each([
    ['koa', Koa],
    ['koa2', koa2 as typeof Koa],
  ] as const)("is not reached through @koa/router's use() on %s, which runs only for requests a route of the router matches", async (_name, KoaApp) => {
    // Why the README mounts tokenRoutes on the app: this is @koa/router's behaviour, kept here so
    // that the README's advice fails loudly if a router release changes it.
    const app = new KoaApp();
    const router = new Router();
    const reachable = createTokenEndpoints({
      issuer: createTokenIssuer({ key: SECRET, issuer: 'urn:test', audience: 'urn:api' }),
      verifyCredentials: () => ({ subject: 'alice' }), // mounted on the app, this login answers 200
    });
    router.use('/auth', tokenRoutes(reachable, { prefix: '/auth' }));
    app.use(bodyParser()).use(router.routes());
    const server = await listen(createServer(app.callback()));
    servers.push(server);
    expect((await postJson(`${server.url}/auth/token`, { username: 'alice', password: 'x' })).status).toBe(404);
  });

  it('serves at the root of ctx.path without a prefix', async () => {
    const app = new Koa();
    app.use(bodyParser());
    app.use(
      tokenRoutes(
        createTokenEndpoints({
          issuer: createTokenIssuer({ key: SECRET, issuer: 'urn:test', audience: 'urn:api' }),
          verifyCredentials: () => ({ subject: 'alice' }),
        }),
      ),
    );
    const server = await listen(createServer(app.callback()));
    servers.push(server);
    const answer = await postJson(`${server.url}/token`, { username: 'alice', password: 'x' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe(NO_STORE);
  });
});

describe.each([
  ['koa', Koa],
  ['koa2', koa2 as typeof Koa],
] as const)('%s: tokenRoutes gives the endpoints the DPoP header and the request URL', (_, KoaApp) => {
  async function startDpop(): Promise<string> {
    const issuer = createTokenIssuer({ key: SECRET, issuer: 'urn:test' });
    const endpoints = createTokenEndpoints<Context>({
      issuer,
      verifyCredentials: (username) => (username === 'alice' ? { subject: 'alice' } : null),
      dpop: {},
    });
    const app = new KoaApp();
    app.use(bodyParser());
    app.use(tokenRoutes(endpoints, { prefix: '/auth' }));
    app.use(jwtAuth({ ...issuer.verifierOptions, dpop: { mode: 'allowed' } }));
    app.use((ctx) => {
      ctx.body = { hello: (ctx.state as { user?: { sub?: string } }).user?.sub };
    });
    const server = await listen(createServer(app.callback()));
    servers.push(server);
    return server.url;
  }

  it('accepts a proof whose htu is the real URL, and refuses one of another URL', async () => {
    const base = await startDpop();
    const key = await proofKey();
    const login = await postJson(`${base}/auth/token`, { username: 'alice', password: 'x' }, { DPoP: await dpopProof(key, 'POST', `${base}/auth/token`) });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'DPoP' });
    // The token works at jwtAuth with DPoP, whose htu is checked against the same request URL.
    const token = (login.body as Record<string, unknown>).access_token as string;
    const hello = await call(`${base}/api/hello`, {
      headers: { Authorization: `DPoP ${token}`, DPoP: await dpopProof(key, 'GET', `${base}/api/hello`, token) },
    });
    expect(hello.status).toBe(200);
    expect(hello.body).toEqual({ hello: 'alice' });
    const wrong = await postJson(`${base}/auth/token`, { username: 'alice', password: 'x' }, { DPoP: await dpopProof(key, 'POST', `${base}/token`) });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'invalid_dpop_proof' });
  });
});

describe.each([
  ['koa', Koa],
  ['koa2', koa2 as typeof Koa],
] as const)('%s: tokenRoutes and the authorization code grant', (_, KoaApp) => {
  it('serves GET /authorize, the urlencoded sign-in (after bodyParser) and the code exchange', async () => {
    const { issuer, endpoints } = authorizationEndpoints<Context>();
    const app = new KoaApp();
    app.use(bodyParser());
    app.use(tokenRoutes(endpoints, { prefix: '/auth' }));
    const server = await listen(createServer(app.callback()));
    servers.push(server);
    await runAuthorizationCodeFlow(`${server.url}/auth`, issuer);
  });
});
