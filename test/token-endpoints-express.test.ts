import { createTokenEndpoints, createTokenIssuer, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { jwtAuth, tokenRouter } from '@jwtauth/express';
import express from 'express';
import express4 from 'express4';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { dpopProof, proofKey } from './dpop-support.js';
import { authorizationEndpoints, runAuthorizationCodeFlow } from './authz-flow.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// `app.use('/auth', tokenRouter(endpoints))` of @jwtauth/express, over real HTTP, in Express 5
// and 4: the mount only translates, so these prove the translation (path below the mount, the
// body as Express's parsers left it, req.ip as the address, the answer sent, 404 and errors the
// Express way), with the statuses and bodies the issuer README specifies.

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const ALICE = { username: 'alice', password: 'alice-password' };

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Setup {
  /** Mount `express.urlencoded()` too (default true). */
  forms?: boolean;
  /** Express's `trust proxy` setting. */
  trustProxy?: boolean;
  endpoints?: Partial<TokenEndpointsOptions<express.Request>>;
}

/** An app as the README shows it: the body parsers, the endpoints under /auth, jwtAuth on /api. */
async function start(createApp: typeof express, { forms = true, trustProxy = false, endpoints = {} }: Setup = {}): Promise<string> {
  const issuer = createTokenIssuer({ key: SECRET, issuer: 'urn:test', audience: 'urn:api', reuseInterval: 0 });
  const app = createApp();
  app.set('trust proxy', trustProxy);
  app.use(createApp.json());
  if (forms) app.use(createApp.urlencoded({ extended: false }));
  app.use(
    '/auth',
    tokenRouter(
      createTokenEndpoints<express.Request>({
        issuer,
        verifyCredentials: (username, password) =>
          username === ALICE.username && password === ALICE.password ? { subject: 'alice', claims: { scope: 'read' } } : null,
        refreshCookie: { path: '/auth/token' },
        ...endpoints,
      }),
    ),
  );
  app.use('/api', jwtAuth({ ...issuer.verifierOptions }));
  app.get('/api/hello', (req, res) => {
    res.json({ hello: req.auth?.payload.sub });
  });
  // The app's own error handler: where an error thrown by verifyCredentials must arrive.
  app.use((error: Error, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (error.message !== 'user store down') return next(error);
    res.status(502).json({ handled: error.message });
  });
  server = await listen(createServer(app));
  return server.url;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: response.status, headers: response.headers, body: json ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  if (body instanceof URLSearchParams) return send(url, { method: 'POST', body, headers });
  return send(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
}

const hello = (api: string, token: string) => send(`${api}/api/hello`, { headers: { authorization: `Bearer ${token}` } });

/** The `name=value` part of a Set-Cookie line. */
const cookiePair = (setCookie: string) => setCookie.split(';')[0] ?? '';

describe.each([
  ['Express 5', express],
  ['Express 4', express4 as typeof express],
])('%s: app.use("/auth", tokenRouter(endpoints))', (_name, createApp) => {
  it('logs in with a JSON body; the access token opens /api/hello; every answer is no-store', async () => {
    const api = await start(createApp);
    expect((await send(`${api}/api/hello`)).status).toBe(401);
    const login = await post(`${api}/auth/token`, ALICE);
    expect(login.status).toBe(200);
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.get('content-type')).toBe('application/json');
    expect(login.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
      refresh_expires_in: 86400,
    });
    const greeted = await hello(api, login.body.access_token as string);
    expect(greeted.status).toBe(200);
    expect(greeted.body).toEqual({ hello: 'alice' });

    const wrong = await post(`${api}/auth/token`, { ...ALICE, password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('cache-control')).toBe('no-store');
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String), code: 'invalid_credentials' });
  });

  it('refreshes in body mode: a new pair that works, and the old refresh token refused', async () => {
    const api = await start(createApp);
    const login = await post(`${api}/auth/token`, ALICE);
    const refreshed = await post(`${api}/auth/token/refresh`, { refresh_token: login.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get('cache-control')).toBe('no-store');
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    expect(refreshed.body.refresh_token).not.toBe(login.body.refresh_token);
    expect((await hello(api, refreshed.body.access_token as string)).status).toBe(200);
    const reused = await post(`${api}/auth/token/refresh`, { refresh_token: login.body.refresh_token });
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ error: 'invalid_token' });
    expect(reused.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('refreshes in cookie mode: HttpOnly; Secure; SameSite=Strict cookie on the mount path, rotated, cleared by revoke', async () => {
    const api = await start(createApp);
    const login = await post(`${api}/auth/token`, { ...ALICE, refresh_in: 'cookie' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });
    const [set] = login.headers.getSetCookie();
    expect(set).toMatch(/^refresh_token=[^;]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);

    const refreshed = await post(`${api}/auth/token/refresh`, {}, { cookie: cookiePair(set ?? '') });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refresh_token');
    const [rotated] = refreshed.headers.getSetCookie();
    expect(rotated).toMatch(/^refresh_token=[^;]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    expect(cookiePair(rotated ?? '')).not.toBe(cookiePair(set ?? ''));

    const revoked = await post(`${api}/auth/token/revoke`, {}, { cookie: cookiePair(rotated ?? '') });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ revoked: true });
    expect(revoked.headers.getSetCookie()[0]).toMatch(/^refresh_token=; Path=\/auth\/token; Max-Age=0/);
    expect((await post(`${api}/auth/token/refresh`, {}, { cookie: cookiePair(rotated ?? '') })).status).toBe(401);
  });

  it('verifies access tokens, and refuses a refresh token there with 401 wrong_token_type', async () => {
    const api = await start(createApp);
    const login = await post(`${api}/auth/token`, ALICE);
    const verified = await post(`${api}/auth/token/verify`, { token: login.body.access_token });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('cache-control')).toBe('no-store');
    expect(verified.body).toEqual({ valid: true, token_type: 'access', sub: 'alice', exp: expect.any(Number) });
    const refused = await post(`${api}/auth/token/verify`, { token: login.body.refresh_token });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_token', code: 'wrong_token_type' });
  });

  it('revokes: the refresh then fails, and the access token of the session no longer opens /api/hello', async () => {
    const api = await start(createApp);
    const login = await post(`${api}/auth/token`, ALICE);
    const revoked = await post(`${api}/auth/token/revoke`, { token: login.body.refresh_token });
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    expect(revoked.body).toEqual({ revoked: true });
    const refresh = await post(`${api}/auth/token/refresh`, { refresh_token: login.body.refresh_token });
    expect(refresh.status).toBe(401);
    expect(refresh.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    expect((await hello(api, login.body.access_token as string)).body).toMatchObject({ code: 'token_revoked' });
  });

  it("answers a body express.json() cannot parse as the endpoints' 400 invalid_json; elsewhere the parser's error goes on", async () => {
    const api = await start(createApp);
    const bad = await send(`${api}/auth/token`, { method: 'POST', body: '{"username": ', headers: { 'Content-Type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store');
    expect(bad.body).toEqual({ error: 'invalid_request', error_description: expect.any(String), code: 'invalid_json' });
    // Not an endpoint: the SyntaxError reaches Express's final handler (400, its HTML page).
    const elsewhere = await send(`${api}/auth/nothing`, { method: 'POST', body: '{"username": ', headers: { 'Content-Type': 'application/json' } });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('logs in with a urlencoded form when express.urlencoded() is mounted; 400 invalid_json when only express.json() is', async () => {
    const withForms = await start(createApp);
    const login = await post(`${withForms}/auth/token`, new URLSearchParams(ALICE));
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    await server?.close();

    const jsonOnly = await start(createApp, { forms: false });
    const unparsed = await post(`${jsonOnly}/auth/token`, new URLSearchParams(ALICE));
    expect(unparsed.status).toBe(400);
    expect(unparsed.body).toMatchObject({ code: 'invalid_json' });
    const noBody = await send(`${jsonOnly}/auth/token`, { method: 'POST' });
    expect(noBody.status).toBe(400);
    expect(noBody.body).toMatchObject({ code: 'invalid_json' });
  });

  it("leaves other paths and methods under the prefix to Express's own 404", async () => {
    const api = await start(createApp);
    for (const [method, path] of [
      ['POST', '/auth/unknown'],
      ['POST', '/auth/token/extra'],
      ['GET', '/auth/token'],
      ['POST', '/token'],
    ] as const) {
      const answer = await send(`${api}${path}`, { method, ...(method === 'POST' ? { body: '{}', headers: { 'Content-Type': 'application/json' } } : {}) });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.text, `${method} ${path}`).toContain(`Cannot ${method} ${path}`);
    }
  });

  it('answers the 6th wrong password for one username 429 with Retry-After', async () => {
    const api = await start(createApp);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await post(`${api}/auth/token`, { ...ALICE, password: `guess-${attempt}` })).status).toBe(401);
    }
    const refused = await post(`${api}/auth/token`, { ...ALICE, password: 'guess-6' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toEqual({ error: 'too_many_requests', error_description: expect.any(String), code: 'too_many_requests' });
  });

  it.each([
    [true, 'counts clients behind different X-Forwarded-For apart'],
    [false, 'counts every client of the proxy as one'],
  ])('takes the address from req.ip: with trust proxy %s, it %s', async (trustProxy) => {
    const api = await start(createApp, { trustProxy, endpoints: { throttle: { address: { points: 2, duration: 60 } } } });
    const attempt = (client: string, n: number) => post(`${api}/auth/token`, { username: `user-${client}-${n}`, password: 'x' }, { 'X-Forwarded-For': client });
    expect((await attempt('203.0.113.1', 1)).status).toBe(401);
    expect((await attempt('203.0.113.1', 2)).status).toBe(401);
    // A second client: its own count only when Express trusts the proxy's X-Forwarded-For.
    expect((await attempt('203.0.113.2', 1)).status).toBe(trustProxy ? 401 : 429);
    expect((await attempt('203.0.113.1', 3)).status).toBe(429);
  });

  it("sends an error thrown by verifyCredentials to the app's error handler", async () => {
    const api = await start(createApp, {
      endpoints: {
        verifyCredentials: () => {
          throw new Error('user store down');
        },
      },
    });
    const answer = await post(`${api}/auth/token`, ALICE);
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ handled: 'user store down' });
  });
});

describe('tokenRouter()', () => {
  it.each([undefined, null, {}, { handle: 'no' }])('throws a TypeError that says what to pass for %j', (value) => {
    expect(() => tokenRouter(value as never)).toThrow(TypeError);
    expect(() => tokenRouter(value as never)).toThrow(/createTokenEndpoints\(\{ issuer, verifyCredentials \}\)/);
  });
});

describe.each([
  ['express 5', express],
  ['express 4', express4 as typeof express],
] as const)('%s: DPoP-bound tokens through tokenRouter and jwtAuth', (_, createApp) => {
  /** The endpoints with `dpop` under /auth, and a DPoP resource server on /api. */
  async function startDpop(): Promise<string> {
    const issuer = createTokenIssuer({ key: SECRET, issuer: 'urn:test', audience: 'urn:api' });
    const app = createApp();
    app.use(createApp.json());
    app.use(
      '/auth',
      tokenRouter(
        createTokenEndpoints<express.Request>({
          issuer,
          verifyCredentials: (username, password) => (username === ALICE.username && password === ALICE.password ? { subject: 'alice' } : null),
          dpop: {},
        }),
      ),
    );
    app.use('/api', jwtAuth({ ...issuer.verifierOptions, dpop: { mode: 'allowed' } }));
    app.get('/api/hello', (req, res) => {
      res.json({ hello: req.auth?.payload.sub });
    });
    server = await listen(createServer(app));
    return server.url;
  }

  it('binds the token to the proof of the real URL, which the API then accepts as DPoP and refuses as Bearer', async () => {
    const base = await startDpop();
    const key = await proofKey();
    const login = await post(`${base}/auth/token`, ALICE, { DPoP: await dpopProof(key, 'POST', `${base}/auth/token`) });
    expect(login.status).toBe(200);
    expect(login.body.token_type).toBe('DPoP');
    const token = login.body.access_token as string;
    expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt });
    const ok = await send(`${base}/api/hello`, { headers: { Authorization: `DPoP ${token}`, DPoP: await dpopProof(key, 'GET', `${base}/api/hello`, token) } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ hello: 'alice' });
    const asBearer = await send(`${base}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.code).toBe('token_bound');
  });

  it('refuses a proof of the URL below the mount (the prefix is part of htu)', async () => {
    const base = await startDpop();
    const login = await post(`${base}/auth/token`, ALICE, { DPoP: await dpopProof(await proofKey(), 'POST', `${base}/token`) });
    expect(login.status).toBe(400);
    expect(login.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'invalid_dpop_proof' });
  });
});

describe('tokenRouter: the authorization code grant', () => {
  for (const [name, createApp] of [
    ['Express 5', express],
    ['Express 4', express4 as typeof express],
  ] as const) {
    it(`${name}: GET /authorize, the urlencoded sign-in and the code exchange go through the mount`, async () => {
      const { issuer, endpoints } = authorizationEndpoints<express.Request>();
      const app = createApp();
      app.use(createApp.json());
      app.use(createApp.urlencoded({ extended: false }));
      app.use('/auth', tokenRouter(endpoints));
      server = await listen(createServer(app));
      await runAuthorizationCodeFlow(`${server.url}/auth`, issuer);
    });
  }
});
