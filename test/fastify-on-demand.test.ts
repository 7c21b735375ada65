import { isAuthError, jwtAuth, requireScopes, sendAuthError } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import { afterEach, describe, expect, it } from 'vitest';
import { listenFastify } from './harness/listen.js';
import { HS_SECRET, sign } from './fixtures.js';

// @jwtauth/fastify's on-demand verification (`hook: false`: `fastify.jwtAuthenticate`,
// `request.jwtVerify()`) and namespaces, the idioms of @fastify/jwt, over real HTTP on both
// Fastify majors. The failures must reach the wire exactly as the plugin's own hook sends them.

const OTHER_SECRET = 'a-second-secret-for-the-partner-namespace-of-forty-eight-bytes!';
const hs = new TextEncoder().encode(HS_SECRET);
const other = new TextEncoder().encode(OTHER_SECRET);

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return (await listenFastify(app)).url;
}

/** What a client sees of an answer. */
interface Wire {
  status: number;
  contentType: string | null;
  challenge: string | null;
  retryAfter: string | null;
  body: string;
}

async function wire(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Wire> {
  const response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    challenge: response.headers.get('www-authenticate'),
    retryAfter: response.headers.get('retry-after'),
    body: await response.text(),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The requests whose failures are compared, with what each must answer. */
async function failures(): Promise<{ name: string; method?: string; headers: Record<string, string>; status: number; code: string }[]> {
  return [
    { name: 'no token', headers: {}, status: 401, code: 'missing_token' },
    { name: 'an empty Bearer token', headers: { authorization: 'Bearer ' }, status: 400, code: 'malformed_header' },
    { name: 'not a JWT', headers: bearer('not-a-jwt'), status: 401, code: 'malformed_token' },
    { name: 'a token signed with another secret', headers: bearer(await sign({}, { key: other })), status: 401, code: 'invalid_signature' },
    { name: 'an expired token', headers: bearer(await sign({ exp: Math.floor(Date.now() / 1000) - 60 })), status: 401, code: 'token_expired' },
    { name: 'an HS512 token', headers: bearer(await sign({}, { alg: 'HS512' })), status: 401, code: 'algorithm_not_allowed' },
    { name: 'no token, HEAD', method: 'HEAD', headers: {}, status: 401, code: 'missing_token' },
  ];
}

const majors = [
  ['fastify', Fastify],
  ['fastify4', fastify4 as typeof Fastify],
] as const;

const options = { secret: HS_SECRET, algorithms: ['HS256'], realm: 'api', messages: { token_expired: 'Please sign in again' } };

describe.each(majors)('%s: hook: false', (_name, createApp) => {
  /** The reference: the same options with the plugin's hook. */
  async function hookApp(): Promise<string> {
    const app = createApp();
    await app.register(jwtAuth, options);
    app.route({ method: ['GET', 'HEAD'], url: '/private', exposeHeadRoute: false, handler: async (request) => ({ sub: request.auth?.payload.sub }) });
    return listen(app);
  }

  it('adds no hook: a route that does not ask is not authenticated', async () => {
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false });
    app.get('/public', async (request) => ({ auth: request.auth, user: request.user }));
    const url = await listen(app);
    const answer = await wire(`${url}/public`, { headers: bearer('not-a-jwt') });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ auth: null, user: null });
  });

  it('fastify.jwtAuthenticate as a route onRequest hook answers every failure exactly as the hook does', async () => {
    const reference = await hookApp();
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false });
    app.route({
      method: ['GET', 'HEAD'],
      url: '/private',
      exposeHeadRoute: false,
      onRequest: app.jwtAuthenticate,
      handler: async (request) => ({ sub: request.auth?.payload.sub }),
    });
    const url = await listen(app);
    for (const failure of await failures()) {
      const init = { method: failure.method, headers: failure.headers };
      const [ours, expected] = await Promise.all([wire(`${url}/private`, init), wire(`${reference}/private`, init)]);
      expect(ours, failure.name).toEqual(expected);
      expect(ours.status, failure.name).toBe(failure.status);
      if (failure.method !== 'HEAD') expect(JSON.parse(ours.body), failure.name).toMatchObject({ code: failure.code });
    }
    const ok = await wire(`${url}/private`, { headers: bearer(await sign({ sub: 'alice' })) });
    expect(ok).toMatchObject({ status: 200, body: '{"sub":"alice"}' });
  });

  it('fastify.jwtAuthenticate also fits preHandler and addHook, and guards after it read request.auth', async () => {
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false });
    app.get('/pre', { preHandler: [app.jwtAuthenticate, requireScopes('admin')] }, async (request) => ({ scopes: request.auth?.scopes }));
    await app.register(async (scope) => {
      scope.addHook('onRequest', scope.jwtAuthenticate);
      scope.get('/scoped', async (request) => ({ sub: request.auth?.payload.sub }));
    });
    const url = await listen(app);
    expect((await wire(`${url}/pre`, { headers: bearer(await sign({ scope: 'read' })) })).status).toBe(403);
    expect(await wire(`${url}/pre`, { headers: bearer(await sign({ scope: 'admin read' })) })).toMatchObject({
      status: 200,
      body: '{"scopes":["admin","read"]}',
    });
    expect(JSON.parse((await wire(`${url}/scoped`)).body)).toMatchObject({ code: 'missing_token' });
    expect((await wire(`${url}/scoped`, { headers: bearer(await sign({ sub: 'bob' })) })).body).toBe('{"sub":"bob"}');
  });

  it('await request.jwtVerify() resolves to the verified auth and sets request.auth and request.user', async () => {
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false, resolveUser: (payload) => ({ id: String(payload.sub) }) });
    app.get('/me', async (request) => {
      const auth = await request.jwtVerify();
      return { same: auth === request.auth, sub: auth?.payload.sub, user: request.user };
    });
    const url = await listen(app);
    const answer = await wire(`${url}/me`, { headers: bearer(await sign({ sub: 'alice' })) });
    expect(JSON.parse(answer.body)).toEqual({ same: true, sub: 'alice', user: { id: 'alice' } });
  });

  it('request.jwtVerify() throws the AuthError; sendAuthError in setErrorHandler answers it as the hook does', async () => {
    const reference = await hookApp();
    const app = createApp();
    app.setErrorHandler((error, _request, reply) => (isAuthError(error) ? sendAuthError(reply, error) : reply.send(error)));
    await app.register(jwtAuth, { ...options, hook: false });
    // As @fastify/jwt's README verifies every request: fastify.addHook('onRequest', (request) => request.jwtVerify()).
    app.addHook('onRequest', async (request) => {
      await request.jwtVerify();
    });
    app.route({ method: ['GET', 'HEAD'], url: '/private', exposeHeadRoute: false, handler: async (request) => ({ sub: request.auth?.payload.sub }) });
    const url = await listen(app);
    for (const failure of await failures()) {
      const init = { method: failure.method, headers: failure.headers };
      expect(await wire(`${url}/private`, init), failure.name).toEqual(await wire(`${reference}/private`, init));
    }
  });

  it('without an error handler of its own, Fastify answers a thrown AuthError with its status and challenge but its own body', async () => {
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false });
    app.get('/private', async (request) => (await request.jwtVerify())?.payload.sub);
    const url = await listen(app);
    const answer = await wire(`${url}/private`, { headers: bearer('not-a-jwt') });
    expect(answer.status).toBe(401);
    expect(answer.challenge).toContain('error="invalid_token"');
    // Why the README points to fastify.jwtAuthenticate or sendAuthError.
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 401, code: 'malformed_token' });
    expect(JSON.parse(answer.body)).not.toHaveProperty('error_description');
  });

  it('forwardErrors: fastify.jwtAuthenticate sends the AuthError down the error handler', async () => {
    const app = createApp();
    app.setErrorHandler((error, _request, reply) => reply.code(418).send({ forwarded: isAuthError(error) ? error.code : 'other' }));
    await app.register(jwtAuth, { ...options, hook: false, forwardErrors: true });
    app.get('/private', { onRequest: app.jwtAuthenticate }, async () => 'ok');
    const url = await listen(app);
    expect(await wire(`${url}/private`)).toMatchObject({ status: 418, body: '{"forwarded":"missing_token"}' });
  });

  it('passthrough and credentialsRequired: false: the request goes on, jwtVerify() resolves to null', async () => {
    const app = createApp();
    await app.register(jwtAuth, { ...options, hook: false, passthrough: true });
    app.get('/maybe', { onRequest: app.jwtAuthenticate }, async (request) => ({ auth: request.auth, reason: request.authError?.code ?? null }));
    app.get('/verify', async (request) => ({ auth: await request.jwtVerify(), reason: request.authError?.code ?? null }));
    const url = await listen(app);
    expect(JSON.parse((await wire(`${url}/maybe`, { headers: bearer('not-a-jwt') })).body)).toEqual({ auth: null, reason: 'malformed_token' });
    expect(JSON.parse((await wire(`${url}/verify`)).body)).toEqual({ auth: null, reason: 'missing_token' });
    const ok = JSON.parse((await wire(`${url}/verify`, { headers: bearer(await sign({ sub: 'alice' })) })).body);
    expect(ok).toMatchObject({ auth: { payload: { sub: 'alice' } }, reason: null });
  });

  it('an exception of your own hook reaches the error handler unchanged', async () => {
    const app = createApp();
    app.setErrorHandler((error, _request, reply) => reply.code(500).send({ message: (error as Error).message }));
    await app.register(jwtAuth, {
      ...options,
      hook: false,
      resolveUser: () => {
        throw new Error('database down');
      },
    });
    app.get('/a', { onRequest: app.jwtAuthenticate }, async () => 'ok');
    app.get('/b', async (request) => request.jwtVerify());
    const url = await listen(app);
    const token = bearer(await sign({}));
    expect(await wire(`${url}/a`, { headers: token })).toMatchObject({ status: 500, body: '{"message":"database down"}' });
    expect(await wire(`${url}/b`, { headers: token })).toMatchObject({ status: 500, body: '{"message":"database down"}' });
  });
});

describe.each(majors)('%s: namespaces', (_name, createApp) => {
  it('two namespaces with their own secret and issuer: each route accepts only its own tokens', async () => {
    const app = createApp();
    await app.register(jwtAuth, { secret: HS_SECRET, issuer: 'https://staff.example', hook: false, namespace: 'staff' });
    await app.register(jwtAuth, { secret: OTHER_SECRET, issuer: 'https://partner.example', hook: false, namespace: 'partner' });
    const decorated = app as unknown as Record<string, unknown>;
    app.get('/staff', { onRequest: decorated.staffJwtAuthenticate as typeof app.jwtAuthenticate }, async (request) => ({ iss: request.auth?.payload.iss }));
    app.get('/partner', async (request) => {
      const verify = (request as unknown as { partnerJwtVerify: typeof request.jwtVerify }).partnerJwtVerify;
      const auth = await verify.call(request);
      return { iss: auth?.payload.iss, same: auth === request.auth };
    });
    app.setErrorHandler((error, _request, reply) => (isAuthError(error) ? sendAuthError(reply, error) : reply.send(error)));
    const url = await listen(app);
    const staff = bearer(await sign({ iss: 'https://staff.example' }, { key: hs }));
    const partner = bearer(await sign({ iss: 'https://partner.example' }, { key: other }));
    // A partner-issued token signed with the staff secret: right key, wrong issuer.
    const confused = bearer(await sign({ iss: 'https://partner.example' }, { key: hs }));

    expect(await wire(`${url}/staff`, { headers: staff })).toMatchObject({ status: 200, body: '{"iss":"https://staff.example"}' });
    expect(await wire(`${url}/partner`, { headers: partner })).toMatchObject({ status: 200, body: '{"iss":"https://partner.example","same":true}' });
    expect(JSON.parse((await wire(`${url}/staff`, { headers: partner })).body)).toMatchObject({ code: 'invalid_signature' });
    expect(JSON.parse((await wire(`${url}/partner`, { headers: staff })).body)).toMatchObject({ code: 'invalid_signature' });
    expect(JSON.parse((await wire(`${url}/staff`, { headers: confused })).body)).toMatchObject({ code: 'claim_invalid' });
    expect((await wire(`${url}/partner`)).status).toBe(401);
    expect(app.hasRequestDecorator('jwtVerify')).toBe(false);
  });

  it('a scope-wide hook for access tokens next to a namespace for another kind of token, verified on demand', async () => {
    const app = createApp();
    app.setErrorHandler((error, _request, reply) => (isAuthError(error) ? sendAuthError(reply, error) : reply.send(error)));
    await app.register(jwtAuth, { secret: HS_SECRET });
    await app.register(jwtAuth, { secret: OTHER_SECRET, tokenFrom: { header: 'X-Partner-Token' }, hook: false, namespace: 'partner' });
    app.get('/both', async (request) => {
      const access = request.auth?.payload.sub;
      const partner = await (request as unknown as { partnerJwtVerify: typeof request.jwtVerify }).partnerJwtVerify.call(request);
      // Every verification writes request.auth: it now holds the partner token.
      return { access, partner: partner?.payload.sub, auth: request.auth?.payload.sub };
    });
    const url = await listen(app);
    const access = bearer(await sign({ sub: 'alice' }));
    const answer = await wire(`${url}/both`, { headers: { ...access, 'x-partner-token': await sign({ sub: 'acme' }, { key: other }) } });
    expect(answer).toMatchObject({ status: 200, body: '{"access":"alice","partner":"acme","auth":"acme"}' });
    expect(JSON.parse((await wire(`${url}/both`, { headers: access })).body)).toMatchObject({ code: 'missing_token' });
    const swapped = await wire(`${url}/both`, { headers: { ...access, 'x-partner-token': await sign({ sub: 'acme' }) } });
    expect(JSON.parse(swapped.body)).toMatchObject({ code: 'invalid_signature' });
    expect(JSON.parse((await wire(`${url}/both`, { headers: { 'x-partner-token': await sign({ sub: 'acme' }, { key: other }) } })).body)).toMatchObject({
      code: 'missing_token',
    });
  });
});

describe('registration: hook and namespace are checked when the plugin loads', () => {
  const refused = async (register: (app: FastifyInstance) => PromiseLike<unknown>) => {
    const app = Fastify();
    apps.push(app);
    try {
      await register(app);
      await app.ready();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it.each([
    ['a namespace without hook: false', { namespace: 'partner' }, /set hook: false too/],
    ['a namespace with hook: true', { namespace: 'partner', hook: true }, /set hook: false too/],
    ['a namespace that is no identifier', { namespace: 'partner-api', hook: false }, /JavaScript identifier/],
    ['an empty namespace', { namespace: '', hook: false }, /JavaScript identifier/],
    ['hook as a string', { hook: 'onRequest' }, /"hook" must be true or false/],
  ])('%s is a TypeError that says what to fix', async (_name, extra, message) => {
    const error = await refused((app) => app.register(jwtAuth, { secret: HS_SECRET, ...(extra as object) }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  });

  it('hook: false twice in one scope without namespaces is a TypeError that names the namespace option', async () => {
    const error = await refused(async (app) => {
      await app.register(jwtAuth, { secret: HS_SECRET, hook: false });
      await app.register(jwtAuth, { secret: OTHER_SECRET, hook: false });
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/request\.jwtVerify is already decorated.*namespace/);
  });

  it('the same namespace twice in one scope is a TypeError', async () => {
    const error = await refused(async (app) => {
      await app.register(jwtAuth, { secret: HS_SECRET, hook: false, namespace: 'partner' });
      await app.register(jwtAuth, { secret: OTHER_SECRET, hook: false, namespace: 'partner' });
    });
    expect((error as Error).message).toMatch(/request\.partnerJwtVerify is already decorated/);
  });

  it('hook: false without namespaces in sibling scopes: each scope verifies with its own configuration', async () => {
    const app = Fastify();
    for (const [prefix, secret] of [
      ['/a', HS_SECRET],
      ['/b', OTHER_SECRET],
    ] as const) {
      await app.register(
        async (scope) => {
          await scope.register(jwtAuth, { secret, hook: false });
          scope.get('/me', { onRequest: scope.jwtAuthenticate }, async (request) => ({ sub: request.auth?.payload.sub }));
        },
        { prefix },
      );
    }
    const url = await listen(app);
    expect((await wire(`${url}/a/me`, { headers: bearer(await sign({ sub: 'a' })) })).body).toBe('{"sub":"a"}');
    expect((await wire(`${url}/b/me`, { headers: bearer(await sign({ sub: 'b' }, { key: other })) })).body).toBe('{"sub":"b"}');
    expect((await wire(`${url}/b/me`, { headers: bearer(await sign({ sub: 'a' })) })).status).toBe(401);
  });

  it('the default mode is unchanged: two registrations in one scope both authenticate (a token must satisfy both), and nothing new is decorated', async () => {
    const app = Fastify();
    await app.register(jwtAuth, { secret: HS_SECRET });
    await app.register(jwtAuth, { secret: HS_SECRET, audience: 'api' });
    app.get('/me', async (request) => ({ sub: request.auth?.payload.sub }));
    const url = await listen(app);
    expect(app.hasRequestDecorator('jwtVerify')).toBe(false);
    expect(app.hasDecorator('jwtAuthenticate')).toBe(false);
    expect(JSON.parse((await wire(`${url}/me`, { headers: bearer(await sign({ sub: 'alice' })) })).body)).toMatchObject({ code: 'claim_invalid' });
    expect((await wire(`${url}/me`, { headers: bearer(await sign({ sub: 'alice', aud: 'api' })) })).body).toBe('{"sub":"alice"}');
  });
});

describe('review fixes: body tokens on demand, guards, Fastify register options', () => {
  const form = (body: string, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

  it('tokenFrom.body: jwtAuthenticate in onRequest goes to the error path saying to use preValidation; in preValidation both sources stay exclusive', async () => {
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => reply.code(500).send({ name: (error as Error).name, message: (error as Error).message }));
    await app.register((await import('@fastify/formbody')).default);
    await app.register(jwtAuth, { secret: HS_SECRET, hook: false, tokenFrom: { header: true, body: 'access_token' } });
    app.post('/early', { onRequest: app.jwtAuthenticate }, async (request) => ({ sub: request.auth?.payload.sub ?? null }));
    app.post('/late', { preValidation: app.jwtAuthenticate }, async (request) => ({ sub: request.auth?.payload.sub ?? null }));
    const url = await listen(app);
    const token = await sign({ sub: 'alice' });
    const early = await fetch(`${url}/early`, form(`access_token=${token}`));
    expect([early.status, await early.json()]).toEqual([500, { name: 'TypeError', message: expect.stringContaining('preValidation') }]);
    const late = await fetch(`${url}/late`, form(`access_token=${token}`));
    expect([late.status, await late.json()]).toEqual([200, { sub: 'alice' }]);
    const both = await fetch(`${url}/late`, form(`access_token=${token}`, bearer(token)));
    expect([both.status, ((await both.json()) as { code: string }).code]).toEqual([400, 'multiple_tokens']);
  });

  it('guards read what jwtAuth verified, not a request.auth written by other code', async () => {
    const app = Fastify();
    await app.register(jwtAuth, { secret: HS_SECRET, credentialsRequired: false });
    const forged = { token: 'x', header: { alg: 'HS256' }, payload: { sub: 'mallory' }, scopes: ['admin'] };
    app.get(
      '/admin',
      {
        preHandler: [
          async (request) => {
            request.auth = forged;
          },
          requireScopes('admin'),
        ],
      },
      async () => ({ ok: true }),
    );
    const url = await listen(app);
    expect((await wire(`${url}/admin`)).status).toBe(401);
    expect((await wire(`${url}/admin`, { headers: bearer(await sign({ scope: 'read' })) })).status).toBe(403);
    expect((await wire(`${url}/admin`, { headers: bearer(await sign({ scope: 'admin' })) })).status).toBe(200);
  });

  it('accepts Fastify’s own register options (prefix, logLevel) next to ours', async () => {
    const app = Fastify();
    await app.register(jwtAuth, { secret: HS_SECRET, prefix: '/api', logLevel: 'warn' } as Parameters<typeof jwtAuth>[1]);
    app.get('/me', async (request) => ({ sub: request.auth?.payload.sub }));
    const url = await listen(app);
    expect((await wire(`${url}/me`, { headers: bearer(await sign({ sub: 'alice' })) })).body).toBe('{"sub":"alice"}');
    expect((await wire(`${url}/me`)).status).toBe(401);
  });
});
