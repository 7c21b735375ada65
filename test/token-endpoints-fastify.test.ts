import fastifyFormbody from '@fastify/formbody';
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import { jwtAuth, tokenEndpoints } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastify4 from 'fastify4';
import { afterEach, describe, expect, it } from 'vitest';
import { dpopProof, proofKey } from './dpop-support.js';
import { authorizationEndpoints, runAuthorizationCodeFlow } from './authz-flow.js';
import { listenFastify } from './harness/listen.js';
import { HS_SECRET } from './fixtures.js';

// @jwtauth/fastify's `tokenEndpoints` plugin over real HTTP on both Fastify majors: the issuer's
// endpoints registered under a prefix next to jwtAuth, answering on the wire what
// packages/issuer/README.md specifies, with Fastify's own parsers, trustProxy, 404 and error handler.

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const majors = [
  ['fastify', Fastify],
  ['fastify4', fastify4 as typeof Fastify],
] as const;

interface AppOptions {
  trustProxy?: boolean;
  throttle?: Parameters<typeof createTokenEndpoints>[0]['throttle'];
  /** Parse urlencoded bodies: @fastify/formbody on Fastify 5 (it requires 5), Fastify's own addContentTypeParser on 4. */
  forms?: boolean;
  verifyCredentials?: Parameters<typeof createTokenEndpoints<FastifyRequest>>[0]['verifyCredentials'];
  bodyLimit?: number;
  /** Called on the new app before anything is registered (its error handler, as Fastify's encapsulation wants). */
  setup?: (app: FastifyInstance) => void;
}

/** A client's view of an answer. */
interface Wire {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe.each(majors)('%s: app.register(tokenEndpoints, { endpoints, prefix })', (name, createApp) => {
  async function start(options: AppOptions = {}): Promise<{ url: string }> {
    const issuer = createTokenIssuer({ key: HS_SECRET, issuer: 'urn:test', audience: 'urn:api' });
    const endpoints = createTokenEndpoints<FastifyRequest>({
      issuer,
      verifyCredentials:
        options.verifyCredentials ??
        ((username, password) => (username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'read' } } : null)),
      refreshCookie: { path: '/auth/token' },
      ...(options.throttle === undefined ? {} : { throttle: options.throttle }),
    });
    const app = createApp({ trustProxy: options.trustProxy ?? false, ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }) });
    options.setup?.(app);
    if (options.forms === true) {
      if (name === 'fastify') await app.register(fastifyFormbody);
      else
        app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) =>
          done(null, Object.fromEntries(new URLSearchParams(text as string))),
        );
    }
    await app.register(tokenEndpoints, { endpoints, prefix: '/auth' });
    await app.register(async (api) => {
      await api.register(jwtAuth, { ...issuer.verifierOptions });
      api.get('/api/hello', async (request) => ({ message: `Hello, ${String(request.auth?.payload.sub)}!` }));
    });
    apps.push(app);
    return { url: (await listenFastify(app)).url };
  }

  async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Wire> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: text });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  const login = (url: string, body: Record<string, unknown> = { username: 'alice', password: 'alice-password' }, headers?: Record<string, string>) =>
    post(`${url}/auth/token`, body, headers);

  async function hello(url: string, token: unknown): Promise<Wire> {
    const response = await fetch(`${url}/api/hello`, { headers: { Authorization: `Bearer ${String(token)}` } });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  /** The refresh token of a Set-Cookie header `refresh_token=…; …`. */
  const cookieValue = (setCookie: string | null) => /^refresh_token=([^;]*)/.exec(setCookie ?? '')?.[1];

  it('logs in: a token response with Cache-Control: no-store and the exact Content-Type, whose access token passes jwtAuth', async () => {
    const { url } = await start();
    const answer = await login(url);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    // The endpoints' own Content-Type, without the charset Fastify would append (as sendAuthError).
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
      refresh_expires_in: 86400,
    });
    expect(await hello(url, answer.body.access_token)).toMatchObject({ status: 200, body: { message: 'Hello, alice!' } });
  });

  it('refreshes in body mode: a new pair each time, whose access token passes jwtAuth', async () => {
    const { url } = await start();
    const first = await login(url);
    const second = await post(`${url}/auth/token/refresh`, { refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_token: expect.any(String), refresh_expires_in: 86400 });
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect((await hello(url, second.body.access_token)).status).toBe(200);
    // The rotated token refreshes again (reuse of the old one is the issuer's concern, tested there).
    const third = await post(`${url}/auth/token/refresh`, { refresh_token: second.body.refresh_token });
    expect(third.status).toBe(200);
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token);
  });

  it('answers a bad refresh token with the contract 401: invalid_token, its code, a challenge and no-store', async () => {
    const { url } = await start();
    const answer = await post(`${url}/auth/token/refresh`, { refresh_token: 'not-a-jwt' });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: 'invalid_token', error_description: expect.any(String), code: 'malformed_token' });
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('refreshes in cookie mode: the HttpOnly cookie on the mount path, rotated, and cleared by a revoke', async () => {
    const { url } = await start();
    const first = await login(url, { username: 'alice', password: 'alice-password', refresh_in: 'cookie' });
    expect(first.status).toBe(200);
    expect(first.body).not.toHaveProperty('refresh_token');
    expect(first.body).not.toHaveProperty('refresh_expires_in');
    const setCookie = first.headers.get('set-cookie');
    expect(setCookie).toMatch(/^refresh_token=[^;]+; Path=\/auth\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);

    const second = await post(`${url}/auth/token/refresh`, {}, { Cookie: `refresh_token=${cookieValue(setCookie)}` });
    expect(second.status).toBe(200);
    expect(second.body).not.toHaveProperty('refresh_token');
    const rotated = cookieValue(second.headers.get('set-cookie'));
    expect(rotated).toEqual(expect.any(String));
    expect(rotated).not.toBe(cookieValue(setCookie));
    expect((await hello(url, second.body.access_token)).status).toBe(200);

    const out = await post(`${url}/auth/token/revoke`, {}, { Cookie: `refresh_token=${rotated}` });
    expect(out).toMatchObject({ status: 200, body: { revoked: true } });
    expect(out.headers.get('set-cookie')).toMatch(/^refresh_token=; Path=\/auth\/token; Max-Age=0/);
    expect((await post(`${url}/auth/token/refresh`, {}, { Cookie: `refresh_token=${rotated}` })).status).toBe(401);
  });

  it('verifies an access token, and refuses a refresh token with 401 wrong_token_type', async () => {
    const { url } = await start();
    const tokens = await login(url);
    const valid = await post(`${url}/auth/token/verify`, { token: tokens.body.access_token });
    expect(valid.status).toBe(200);
    expect(valid.headers.get('cache-control')).toBe('no-store');
    expect(valid.body).toEqual({ valid: true, token_type: 'access', sub: 'alice', exp: expect.any(Number) });
    const refresh = await post(`${url}/auth/token/verify`, { token: tokens.body.refresh_token });
    expect(refresh.status).toBe(401);
    expect(refresh.body).toMatchObject({ error: 'invalid_token', code: 'wrong_token_type' });
  });

  it('revokes: the session ends, a refresh fails with token_revoked and so does its access token', async () => {
    const { url } = await start();
    const tokens = await login(url);
    const revoked = await post(`${url}/auth/token/revoke`, { token: tokens.body.refresh_token });
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    const refresh = await post(`${url}/auth/token/refresh`, { refresh_token: tokens.body.refresh_token });
    expect(refresh.status).toBe(401);
    expect(refresh.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    expect(await hello(url, tokens.body.access_token)).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
  });

  const invalidJson = {
    status: 400,
    body: { error: 'invalid_request', error_description: 'The request body must be a JSON object or a urlencoded form', code: 'invalid_json' },
  };

  it.each([
    ['malformed JSON', '{"username": "alice",', 'application/json'],
    ['an empty JSON body', '', 'application/json'],
    ['a JSON array', '["alice"]', 'application/json'],
    ['a media type Fastify has no parser for', '<login/>', 'application/xml'],
  ])('answers %s as the endpoints do: 400 invalid_json with no-store', async (_case, body, type) => {
    const { url } = await start();
    const answer = await post(`${url}/auth/token`, body, { 'Content-Type': type });
    expect(answer).toMatchObject(invalidJson);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toBe('application/json');
  });

  it.each([
    ['declared with Content-Length', false],
    ['streamed (chunked)', true],
  ])("leaves a body over bodyLimit, %s, to the app: Fastify's default 413, or the app's error handler", async (_case, chunked) => {
    const big = JSON.stringify({ username: 'alice', password: 'x'.repeat(2048) });
    const send = (url: string) =>
      fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // A stream has no length: fetch sends it chunked.
        body: chunked ? new Blob([big]).stream() : big,
        ...(chunked ? { duplex: 'half' } : {}),
      });
    const byDefault = await send((await start({ bodyLimit: 1024 })).url);
    expect(byDefault.status).toBe(413);
    expect(await byDefault.json()).toMatchObject({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    const handled = await send(
      (
        await start({
          bodyLimit: 1024,
          setup: (app) =>
            app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) =>
              reply.code(error.statusCode ?? 500).send({ error: 'invalid_request', code: error.statusCode === 413 ? 'body_too_large' : 'other' }),
            ),
        })
      ).url,
    );
    expect(handled.status).toBe(413);
    expect(await handled.json()).toEqual({ error: 'invalid_request', code: 'body_too_large' });
  });

  it('logs in with a urlencoded form when a form parser is registered (refresh token in the body)', async () => {
    const { url } = await start({ forms: true });
    const response = await fetch(`${url}/auth/token`, { method: 'POST', body: new URLSearchParams({ username: 'alice', password: 'alice-password' }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', refresh_token: expect.any(String) });
    expect((await hello(url, body.access_token)).status).toBe(200);
  });

  it.each([
    ['an unknown path under the prefix', 'POST', '/auth/nothing-here', '{}'],
    ['an unknown path with a body Fastify cannot parse', 'POST', '/auth/nothing-here', '{'],
    ['an endpoint path with another method', 'GET', '/auth/token', undefined],
  ])("leaves %s to Fastify's own 404", async (_case, method, path, body) => {
    const { url } = await start();
    const response = await fetch(`${url}${path}`, { method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: `Route ${method}:${path} not found`, error: 'Not Found', statusCode: 404 });
  });

  it('throttles a username: the 6th wrong password answers 429 with Retry-After, before the password is checked', async () => {
    let checks = 0;
    const { url } = await start({
      verifyCredentials: () => {
        checks += 1;
        return null;
      },
    });
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expect(await login(url, { username: 'bob', password: `guess-${attempt}` })).toMatchObject({
        status: 401,
        body: { error: 'invalid_grant', code: 'invalid_credentials' },
      });
    }
    const sixth = await login(url, { username: 'bob', password: 'guess-6' });
    expect(sixth).toMatchObject({ status: 429, body: { error: 'too_many_requests', code: 'too_many_requests' } });
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sixth.headers.get('cache-control')).toBe('no-store');
    expect(checks).toBe(5);
  });

  it.each([
    [true, 'counts two clients behind different X-Forwarded-For values apart'],
    [false, 'counts every client of the socket together, whatever X-Forwarded-For says'],
  ])('trustProxy: %s: %s (the per-address limit counts request.ip)', async (trustProxy) => {
    const { url } = await start({ trustProxy, throttle: { username: false, address: { points: 2, duration: 60 } } });
    const from = (client: string, username: string) => login(url, { username, password: 'wrong' }, { 'X-Forwarded-For': client });
    expect((await from('203.0.113.1', 'carol')).status).toBe(401);
    expect((await from('203.0.113.1', 'dave')).status).toBe(401);
    expect((await from('203.0.113.1', 'erin')).status).toBe(429);
    // Another client: only a trusted proxy's X-Forwarded-For makes it another address.
    expect((await from('203.0.113.2', 'frank')).status).toBe(trustProxy ? 401 : 429);
  });

  it("hands verifyCredentials the Fastify request, and sends what it throws to the app's error handler unchanged", async () => {
    const failure = new Error('the user store is down');
    let seen: FastifyRequest | undefined;
    let handled: unknown;
    const { url } = await start({
      verifyCredentials: (_username, _password, request) => {
        seen = request;
        throw failure;
      },
      // The app's own error handler, set before the plugin is registered as Fastify's scopes require.
      setup: (app) =>
        app.setErrorHandler((error, _request, reply) => {
          handled = error;
          return reply.code(503).send({ handled: 'by the app' });
        }),
    });
    const answer = await login(url, { username: 'alice', password: 'x' }, { 'X-Trace': 'from-the-client' });
    expect(answer).toMatchObject({ status: 503, body: { handled: 'by the app' } });
    expect(handled).toBe(failure);
    expect(seen?.headers['x-trace']).toBe('from-the-client');
    expect(seen?.ip).toBe('127.0.0.1');
  });

  it("answers an error of verifyCredentials with Fastify's default 500 when the app has no error handler", async () => {
    const { url } = await start({
      verifyCredentials: () => {
        throw new Error('the user store is down');
      },
    });
    const answer = await login(url);
    expect(answer).toMatchObject({ status: 500, body: { statusCode: 500, error: 'Internal Server Error', message: 'the user store is down' } });
  });

  it.each([
    ['inside a scope with its own prefix', '/v1', '/auth', '/v1/auth'],
    ['with a prefix ending in a slash', '', '/auth/', '/auth'],
  ])('serves the endpoints registered %s, with paths relative to the full prefix', async (_case, outer, prefix, mount) => {
    const issuer = createTokenIssuer({ key: HS_SECRET, issuer: 'urn:test', audience: 'urn:api' });
    const endpoints = createTokenEndpoints<FastifyRequest>({
      issuer,
      verifyCredentials: (username) => ({ subject: username }),
      refreshCookie: { path: `${mount}/token` },
    });
    const app = createApp();
    apps.push(app);
    await app.register(async (scope) => scope.register(tokenEndpoints, { endpoints, prefix }), { prefix: outer });
    const { url } = await listenFastify(app);
    const answer = await post(`${url}${mount}/token`, { username: 'alice', password: 'any', refresh_in: 'cookie' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('set-cookie')).toContain(`; Path=${mount}/token;`);
    expect((await post(`${url}${mount}/token/verify`, { token: answer.body.access_token })).body).toMatchObject({ valid: true, sub: 'alice' });
  });

  it('refuses registration without endpoints: app.ready() rejects with a TypeError that says what to pass', async () => {
    const app = createApp();
    apps.push(app);
    await expect(app.register(tokenEndpoints, {} as never).ready()).rejects.toThrow(
      new TypeError(
        'tokenEndpoints: pass the token endpoints as an option, app.register(tokenEndpoints, { endpoints: createTokenEndpoints({ issuer, verifyCredentials }), prefix: "/auth" }).',
      ),
    );
  });
});

describe.each(majors)('%s: tokenEndpoints gives the endpoints the DPoP header and the request URL', (_, createApp) => {
  it('accepts a proof whose htu is the real URL, and refuses one of another URL', async () => {
    const issuer = createTokenIssuer({ key: HS_SECRET, issuer: 'urn:test' });
    const endpoints = createTokenEndpoints<FastifyRequest>({
      issuer,
      verifyCredentials: (username) => (username === 'alice' ? { subject: 'alice' } : null),
      dpop: {},
    });
    const app = createApp();
    apps.push(app);
    await app.register(tokenEndpoints, { endpoints, prefix: '/auth' });
    const { url: base } = await listenFastify(app);
    const key = await proofKey();
    const send = async (htu: string) => {
      const response = await fetch(`${base}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', DPoP: await dpopProof(key, 'POST', htu) },
        body: JSON.stringify({ username: 'alice', password: 'x' }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const login = await send(`${base}/auth/token`);
    expect(login.status).toBe(200);
    expect(login.body.token_type).toBe('DPoP');
    const wrong = await send(`${base}/token`);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'invalid_dpop_proof' });
  });
});

describe.each(majors)('%s: tokenEndpoints and the authorization code grant', (name, createApp) => {
  it('serves GET /authorize, the urlencoded sign-in and the code exchange', async () => {
    const { issuer, endpoints } = authorizationEndpoints<FastifyRequest>();
    const app = createApp();
    apps.push(app);
    if (name === 'fastify') await app.register(fastifyFormbody);
    else
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) =>
        done(null, Object.fromEntries(new URLSearchParams(text as string))),
      );
    await app.register(tokenEndpoints, { endpoints, prefix: '/auth' });
    const { url } = await listenFastify(app);
    await runAuthorizationCodeFlow(`${url}/auth`, issuer);
  });
});
