import { getConnInfo } from '@hono/node-server/conninfo';
import { createTokenEndpoints, createTokenIssuer, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { jwtAuth, tokenApp, type JwtAuthEnv, type TokenAppOptions } from '@jwtauth/hono';
import { Hono, type Context } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { HS_SECRET } from './fixtures.js';
import { dpopProof, proofKey } from './dpop-support.js';
import { authorizationEndpoints, runAuthorizationCodeFlow } from './authz-flow.js';
import { serveFetch } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// The Hono mount of the token endpoints, over real HTTP: `app.route('/auth', tokenApp(endpoints))`
// next to jwtAuth() on /api/*. The endpoints' own behaviour is tested in packages/issuer; here, that
// the mount hands them what Hono parsed and sends their answers the Hono way.

const JSON_TYPE = { 'Content-Type': 'application/json' };
const FORM_TYPE = { 'Content-Type': 'application/x-www-form-urlencoded' };

interface Setup {
  mount?: string;
  /** The refresh cookie's path: the issuer's is static, so a mount point with parameters names a prefix of it. */
  cookiePath?: string;
  throttle?: TokenEndpointsOptions<Context>['throttle'];
  app?: TokenAppOptions;
}

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start({ mount = '/auth', cookiePath = `${mount.replace(/\/$/, '')}/token`, throttle, app: appOptions }: Setup = {}): Promise<string> {
  // reuseInterval 0: a rotated refresh token is refused at once (the default tolerates a brief
  // reuse for concurrent tabs), so the rotation test can see the old token refused.
  const issuer = createTokenIssuer({ key: HS_SECRET, issuer: 'urn:test', audience: 'urn:api', reuseInterval: 0 });
  const endpoints = createTokenEndpoints<Context>({
    issuer,
    verifyCredentials: (username, password, c) => {
      if (username === 'broken') throw new Error('user store down');
      // The Hono context reaches the user store: the subject comes from a request header.
      if (username === 'tenant') return { subject: `tenant:${c.req.header('x-tenant') ?? ''}` };
      return username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'read' } } : null;
    },
    refreshCookie: { path: cookiePath },
    ...(throttle === undefined ? {} : { throttle }),
  });
  const app = new Hono<JwtAuthEnv>();
  app.route(mount, tokenApp(endpoints, appOptions));
  app.use('/api/*', jwtAuth({ ...issuer.verifierOptions }));
  app.get('/api/hello', (c) => c.json({ sub: c.get('user')?.sub }));
  app.onError((error, c) => c.json({ handled: error.message }, 500));
  const server = await serveFetch(app.fetch);
  servers.push(server);
  return server.url;
}

async function post(url: string, body: string, headers: Record<string, string> = JSON_TYPE) {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const login = (base: string, fields: Record<string, string> = { username: 'alice', password: 'alice-password' }, headers?: Record<string, string>) =>
  post(`${base}/auth/token`, JSON.stringify(fields), { ...JSON_TYPE, ...headers });

async function hello(base: string, token: string) {
  const response = await fetch(`${base}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tokenApp(): token endpoints as a Hono sub-app', () => {
  it('logs in with JSON and the access token opens the route jwtAuth protects', async () => {
    const base = await start();
    const answer = await login(base);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(answer.json!).sort()).toEqual(['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type']);
    expect(answer.json).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_expires_in: 86400 });
    expect(await hello(base, answer.json!.access_token as string)).toEqual({ status: 200, body: { sub: 'alice' } });
  });

  it('logs in with a urlencoded form, parsed by c.req.parseBody()', async () => {
    const base = await start();
    const answer = await post(`${base}/auth/token`, 'username=alice&password=alice-password', FORM_TYPE);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ token_type: 'Bearer', refresh_expires_in: 86400 });
    expect((await hello(base, answer.json!.access_token as string)).status).toBe(200);
  });

  it('answers a wrong password 401 invalid_credentials in the contract shape', async () => {
    const base = await start();
    const answer = await login(base, { username: 'alice', password: 'wrong' });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.json).toMatchObject({ error: 'invalid_grant', code: 'invalid_credentials' });
  });

  it('hands verifyCredentials the Hono context', async () => {
    const base = await start();
    const answer = await login(base, { username: 'tenant', password: 'x' }, { 'X-Tenant': 'acme' });
    expect((await hello(base, answer.json!.access_token as string)).body).toEqual({ sub: 'tenant:acme' });
  });

  it('rotates the refresh token in the body: the new one works, the old one is refused', async () => {
    const base = await start();
    const first = await login(base);
    const refreshed = await post(`${base}/auth/token/refresh`, JSON.stringify({ refresh_token: first.json!.refresh_token }));
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    expect(refreshed.json!.refresh_token).not.toBe(first.json!.refresh_token);
    expect((await hello(base, refreshed.json!.access_token as string)).status).toBe(200);
    const reused = await post(`${base}/auth/token/refresh`, JSON.stringify({ refresh_token: first.json!.refresh_token }));
    expect(reused.status).toBe(401);
    expect(reused.json).toMatchObject({ error: 'invalid_token' });
  });

  it('keeps the refresh token in an HttpOnly cookie scoped to the mount in cookie mode', async () => {
    const base = await start();
    const first = await login(base, { username: 'alice', password: 'alice-password', refresh_in: 'cookie' });
    expect(first.status).toBe(200);
    expect(Object.keys(first.json!).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    const [cookie] = first.headers.getSetCookie();
    expect(cookie).toMatch(/^refresh_token=[\w-]+\.[\w-]+\.[\w-]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    const pair = cookie!.split(';')[0]!;

    const refreshed = await post(`${base}/auth/token/refresh`, '{}', { ...JSON_TYPE, Cookie: pair });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json).not.toHaveProperty('refresh_token');
    const [rotated] = refreshed.headers.getSetCookie();
    expect(rotated).toMatch(/; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    expect(rotated!.split(';')[0]).not.toBe(pair);

    const loggedOut = await post(`${base}/auth/token/revoke`, '{}', { ...JSON_TYPE, Cookie: rotated!.split(';')[0]! });
    expect(loggedOut.status).toBe(200);
    expect(loggedOut.json).toEqual({ revoked: true });
    expect(loggedOut.headers.getSetCookie()[0]).toMatch(/^refresh_token=; Path=\/auth\/token; Max-Age=0/);
  });

  it('verifies access tokens and refuses refresh tokens there', async () => {
    const base = await start();
    const tokens = (await login(base)).json!;
    const valid = await post(`${base}/auth/token/verify`, JSON.stringify({ token: tokens.access_token }));
    expect(valid.status).toBe(200);
    expect(valid.headers.get('cache-control')).toBe('no-store');
    expect(valid.json).toEqual({ valid: true, token_type: 'access', sub: 'alice', exp: expect.any(Number) as number });
    const refresh = await post(`${base}/auth/token/verify`, JSON.stringify({ token: tokens.refresh_token }));
    expect(refresh.status).toBe(401);
    expect(refresh.json).toMatchObject({ error: 'invalid_token', code: 'wrong_token_type' });
    expect(refresh.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('ends the session on revoke: the refresh token and the access token are refused after it', async () => {
    const base = await start();
    const tokens = (await login(base)).json!;
    const revoked = await post(`${base}/auth/token/revoke`, JSON.stringify({ token: tokens.refresh_token }));
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    expect(revoked.json).toEqual({ revoked: true });
    const refresh = await post(`${base}/auth/token/refresh`, JSON.stringify({ refresh_token: tokens.refresh_token }));
    expect(refresh.status).toBe(401);
    expect(refresh.json).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    expect(await hello(base, tokens.access_token as string)).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  it.each([
    ['malformed JSON', '{"username": "alice",', JSON_TYPE],
    ['a JSON array', '["alice"]', JSON_TYPE],
    ['a text/plain body', 'username=alice&password=alice-password', { 'Content-Type': 'text/plain' }],
    ['no Content-Type', '{"username":"alice","password":"alice-password"}', {}],
  ])("answers %s with the endpoints' 400 invalid_json, not Hono's parser error", async (_name, body, headers) => {
    const base = await start();
    const answer = await post(`${base}/auth/token`, body, headers);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.json).toMatchObject({ error: 'invalid_request', code: 'invalid_json' });
  });

  it.each([
    ['an unknown path under the mount', 'POST', '/auth/nope'],
    ['the mount point itself', 'POST', '/auth'],
    ['another method on an endpoint', 'GET', '/auth/token'],
  ])("leaves %s to Hono's notFound", async (_name, method, path) => {
    const base = await start();
    const response = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { headers: JSON_TYPE, body: '{}' } : {}) });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('404 Not Found');
  });

  it.each([
    ['with parameters', '/t/:tenant/auth', '/t', '/t/acme/auth'],
    ['at the root', '/', '/token', ''],
  ])('computes the path below a mount point %s', async (_name, mount, cookiePath, prefix) => {
    const base = await start({ mount, cookiePath });
    const first = await post(`${base}${prefix}/token`, JSON.stringify({ username: 'alice', password: 'alice-password', refresh_in: 'cookie' }));
    expect(first.status).toBe(200);
    const cookie = first.headers.getSetCookie()[0]!;
    expect(cookie).toContain(`; Path=${cookiePath};`);
    const refreshed = await post(`${base}${prefix}/token/refresh`, '{}', { ...JSON_TYPE, Cookie: cookie.split(';')[0]! });
    expect(refreshed.status).toBe(200);
    expect((await fetch(`${base}${prefix}/token/nope`, { method: 'POST', headers: JSON_TYPE, body: '{}' })).status).toBe(404);
  });

  it('sends an error thrown by verifyCredentials to app.onError', async () => {
    const base = await start();
    const answer = await login(base, { username: 'broken', password: 'x' });
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ handled: 'user store down' });
  });

  it('throttles a username: the 6th wrong password is answered 429 with Retry-After', async () => {
    const base = await start();
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof login>> | undefined;
    for (let attempt = 0; attempt < 6; attempt++) {
      last = await login(base, { username: 'alice', password: `guess-${attempt}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(last!.json).toMatchObject({ error: 'too_many_requests', code: 'too_many_requests' });
    expect(last!.headers.get('cache-control')).toBe('no-store');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  describe('the client address of the per-address limit (2 logins per minute)', () => {
    const throttle = { username: false as const, address: { points: 2, duration: 60 } };
    // Two clients behind a proxy: each spends the two points of its address, if addresses differ.
    async function secondClientStatus(app: TokenAppOptions | undefined): Promise<number> {
      const base = await start({ throttle, ...(app === undefined ? {} : { app }) });
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await login(base, undefined, { 'X-Forwarded-For': '203.0.113.1' })).status).toBe(200);
      }
      expect((await login(base, undefined, { 'X-Forwarded-For': '203.0.113.1' })).status).toBe(429);
      return (await login(base, undefined, { 'X-Forwarded-For': '203.0.113.2' })).status;
    }

    it('counts clients apart by X-Forwarded-For when the address option trusts the proxy', async () => {
      // As the README shows for one proxy: the address it appended, the last entry.
      const fromProxy = (c: Context) => c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
      expect(await secondClientStatus({ address: fromProxy })).toBe(200);
    });

    it('ignores X-Forwarded-For with the connection address (getConnInfo of @hono/node-server)', async () => {
      expect(await secondClientStatus({ address: (c) => getConnInfo(c).remote.address })).toBe(429);
    });

    it('counts every client together without an address option', async () => {
      expect(await secondClientStatus(undefined)).toBe(429);
    });
  });

  it.each([
    ['no endpoints', undefined, undefined, /give the token endpoints/],
    ['an object without handle()', {}, undefined, /give the token endpoints/],
    ['an address that is a header name', { handle: async () => undefined }, { address: 'x-forwarded-for' }, /"address" must be a function/],
    ['options that are not an object', { handle: async () => undefined }, 'x-forwarded-for', /must be an options object/],
  ])('refuses %s at creation with a TypeError', (_name, endpoints, options, message) => {
    const create = () => tokenApp(endpoints as never, options as never);
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
  });
});

describe('tokenApp(): the DPoP header and the request URL reach the endpoints', () => {
  async function startDpop(): Promise<string> {
    const issuer = createTokenIssuer({ key: HS_SECRET, issuer: 'urn:test' });
    const endpoints = createTokenEndpoints<Context>({
      issuer,
      verifyCredentials: (username) => (username === 'alice' ? { subject: 'alice' } : null),
      dpop: {},
    });
    const app = new Hono();
    app.route('/auth', tokenApp(endpoints));
    const server = await serveFetch(app.fetch);
    servers.push(server);
    return server.url;
  }

  it('accepts a proof whose htu is the real URL, and refuses one of another URL', async () => {
    const base = await startDpop();
    const key = await proofKey();
    const fields = JSON.stringify({ username: 'alice', password: 'x' });
    const ok = await post(`${base}/auth/token`, fields, { ...JSON_TYPE, DPoP: await dpopProof(key, 'POST', `${base}/auth/token`) });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'DPoP' });
    const wrong = await post(`${base}/auth/token`, fields, { ...JSON_TYPE, DPoP: await dpopProof(key, 'POST', `${base}/token`) });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ error: 'invalid_dpop_proof', code: 'invalid_dpop_proof' });
  });

  it('refuses two proofs, which Fetch joins into one header value', async () => {
    const base = await startDpop();
    const key = await proofKey();
    const htu = `${base}/auth/token`;
    const headers = new Headers(JSON_TYPE);
    headers.append('DPoP', await dpopProof(key, 'POST', htu));
    headers.append('DPoP', await dpopProof(key, 'POST', htu));
    const response = await fetch(htu, { method: 'POST', headers, body: JSON.stringify({ username: 'alice', password: 'x' }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'invalid_dpop_proof', error_description: 'Send exactly one DPoP header' });
  });
});

describe('tokenApp: the authorization code grant', () => {
  it('serves GET /authorize, the urlencoded sign-in and the code exchange', async () => {
    const { issuer, endpoints } = authorizationEndpoints<Context>();
    const app = new Hono();
    app.route('/auth', tokenApp(endpoints));
    const server = await serveFetch(app.fetch);
    servers.push(server);
    await runAuthorizationCodeFlow(`${server.url}/auth`, issuer);
  });
});
