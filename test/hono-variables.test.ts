import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/hono';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { HS_SECRET, sign } from './fixtures.js';
import { serveFetch } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// The Hono adapter's `variables` option: the names jwtAuth() sets its variables under, and the
// guards after it, which find the auth whatever its name.

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<string> {
  const server = await serveFetch(app.fetch);
  running.push(server);
  return server.url;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as unknown };
}

const bearer = async (claims: Record<string, unknown>) => ({ Authorization: `Bearer ${await sign(claims)}` });

describe('variables', () => {
  it('sets the auth, the user and the failure reason under the names given, and nothing under the defaults', async () => {
    const app = new Hono()
      .use('*', jwtAuth({ secret: HS_SECRET, passthrough: true, variables: { auth: 'token', user: 'account', authError: 'whyNot' } }))
      .get('/', (c) =>
        c.json({
          token: c.get('token')?.payload.sub ?? null,
          account: c.get('account')?.sub ?? null,
          whyNot: c.get('whyNot')?.code ?? null,
          // Every variable of the request: the defaults stay unset, and nothing hidden appears.
          names: Object.keys(c.var).sort(),
        }),
      );
    const url = await start(app);
    expect(await get(url, await bearer({ sub: 'alice' }))).toEqual({
      status: 200,
      body: { token: 'alice', account: 'alice', whyNot: null, names: ['account', 'token', 'whyNot'] },
    });
    expect(await get(url, { Authorization: 'Bearer not-a-jwt' })).toEqual({
      status: 200,
      body: { token: null, account: null, whyNot: 'malformed_token', names: ['account', 'token', 'whyNot'] },
    });
  });

  it("gives hono/jwt's c.get('jwtPayload') the payload with variables: { user: 'jwtPayload' }", async () => {
    const app = new Hono()
      .use('/auth/*', jwtAuth({ secret: HS_SECRET, variables: { user: 'jwtPayload' } }))
      .get('/auth/a', (c) => c.json(c.get('jwtPayload') ?? null));
    const url = await start(app);
    const { status, body } = await get(`${url}/auth/a`, await bearer({ sub: 'alice', message: 'hello world' }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ sub: 'alice', message: 'hello world' });
  });

  it('lets requireScopes and requireClaims find the auth under its new name', async () => {
    const app = new Hono()
      .use('*', jwtAuth({ secret: HS_SECRET, credentialsRequired: false, variables: { auth: 'token' } }))
      .get('/admin', requireScopes('admin'), (c) => c.json({ ok: true }))
      .get(
        '/acme',
        requireClaims((payload) => payload.tenant === 'acme'),
        (c) => c.json({ ok: true }),
      );
    const url = await start(app);
    expect(await get(`${url}/admin`, await bearer({ scope: 'admin' }))).toEqual({ status: 200, body: { ok: true } });
    expect(await get(`${url}/admin`, await bearer({ scope: 'read' }))).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    expect(await get(`${url}/acme`, await bearer({ tenant: 'acme' }))).toEqual({ status: 200, body: { ok: true } });
    expect(await get(`${url}/acme`, await bearer({ tenant: 'other' }))).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    // Passed without a token: the guard asks for one.
    expect(await get(`${url}/admin`)).toMatchObject({ status: 401, body: { code: 'missing_token' } });
  });

  it('lets a guard answer a passthrough failure that was set under another name with that failure', async () => {
    const app = new Hono()
      .use('*', jwtAuth({ secret: HS_SECRET, passthrough: true, variables: { auth: 'token', authError: 'whyNot' } }))
      .get('/open', (c) => c.json({ whyNot: c.get('whyNot')?.code ?? null }))
      .get('/admin', requireScopes('admin'), (c) => c.json({ ok: true }));
    const url = await start(app);
    const expired = { Authorization: `Bearer ${await sign({ exp: Math.floor(Date.now() / 1000) - 60 })}` };
    expect(await get(`${url}/open`, expired)).toEqual({ status: 200, body: { whyNot: 'token_expired' } });
    // Not 401 missing_token: the client is told its token expired, as jwtAuth would have.
    expect(await get(`${url}/admin`, expired)).toMatchObject({ status: 401, body: { code: 'token_expired' } });
    expect(await get(`${url}/admin`)).toMatchObject({ status: 401, body: { code: 'missing_token' } });
    expect(await get(`${url}/admin`, await bearer({ scope: 'admin' }))).toEqual({ status: 200, body: { ok: true } });
  });

  it('lets guards follow the jwtAuth that ran last when two set different names', async () => {
    // An access token in the header, another token in a cookie: two verifiers, two names.
    const app = new Hono()
      .use('*', jwtAuth({ secret: HS_SECRET, variables: { auth: 'access', user: 'accessUser', authError: 'accessError' } }))
      .use(
        '/session/*',
        jwtAuth({
          secret: HS_SECRET,
          tokenFrom: { header: false, cookie: 'session' },
          variables: { auth: 'session', user: 'sessionUser', authError: 'sessionError' },
        }),
      )
      .get('/session/admin', requireScopes('admin'), (c) => c.json({ access: c.get('access')?.scopes ?? null, session: c.get('session')?.scopes ?? null }));
    const url = await start(app);
    const access = await bearer({ scope: 'read' });
    expect(await get(`${url}/session/admin`, { ...access, Cookie: `session=${await sign({ scope: 'admin' })}` })).toEqual({
      status: 200,
      body: { access: ['read'], session: ['admin'] },
    });
    expect(
      await get(`${url}/session/admin`, { Authorization: `Bearer ${await sign({ scope: 'admin' })}`, Cookie: `session=${await sign({ scope: 'read' })}` }),
    ).toMatchObject({
      status: 403,
      body: { code: 'insufficient_scope' },
    });
  });

  it.each([
    ['not an object', 'user', /"variables" names the Hono variables/],
    ['an array', ['user'], /"variables" names the Hono variables/],
    ['an unknown variable', { payload: 'jwtPayload' }, /variables\.payload is not a variable jwtAuth sets/],
    ['an empty name', { user: '' }, /variables\.user must be a non-empty string/],
    ['a name that is not a string', { user: 1 }, /variables\.user must be a non-empty string/],
    ['two variables under one name', { auth: 'me', user: 'me' }, /variables\.auth and variables\.user are both "me"/],
    ['a new name that is another default', { user: 'auth' }, /variables\.auth and variables\.user are both "auth"/],
  ])('refuses %s at creation', (_, variables, message) => {
    expect(() => jwtAuth({ secret: HS_SECRET, variables: variables as never })).toThrow(TypeError);
    expect(() => jwtAuth({ secret: HS_SECRET, variables: variables as never })).toThrow(message);
  });
});
