import { jwtAuth, requireClaims, requireScopes, type ExpressJwtAuthOptions } from '@jwtauth/express';
import express from 'express';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HS_SECRET, sign } from './fixtures.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// Express's requestProperty / userProperty adapter options (express-jwt's `requestProperty`,
// Passport's `userProperty`): where the result lands, and guards that find it under any name.

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** What a handler sees on the request, by name. */
function seen(req: express.Request, names: string[]): Record<string, unknown> {
  const bag = req as unknown as Record<string, unknown>;
  return Object.fromEntries(names.map((name) => [name, bag[name] === undefined ? null : bag[name]]));
}

async function start(options: ExpressJwtAuthOptions, names: string[]): Promise<string> {
  const app = express();
  app.use(jwtAuth(options));
  app.get('/seen', (req, res) => {
    res.json(seen(req, names));
  });
  app.get('/admin', requireScopes('admin'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get(
    '/acme',
    requireClaims((payload) => payload.tenant === 'acme'),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  server = await listen(createServer(app));
  return server.url;
}

const bearer = async (claims: Record<string, unknown>) => ({ authorization: `Bearer ${await sign(claims)}` });

describe('requestProperty and userProperty', () => {
  it('attach the auth and the user under the names given, leaving req.auth and req.user unset', async () => {
    const url = await start({ secret: HS_SECRET, requestProperty: 'jwt', userProperty: 'principal' }, ['jwt', 'principal', 'auth', 'user']);
    const res = await fetch(`${url}/seen`, { headers: await bearer({ sub: 'alice', scope: 'read' }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, { payload?: { sub: string }; scopes?: string[]; sub?: string } | null>;
    expect(body.jwt?.payload?.sub).toBe('alice');
    expect(body.jwt?.scopes).toEqual(['read']);
    expect(body.principal?.sub).toBe('alice');
    expect(body.auth).toBeNull();
    expect(body.user).toBeNull();
  });

  it('default to req.auth and req.user', async () => {
    const url = await start({ secret: HS_SECRET }, ['auth', 'user']);
    const body = (await (await fetch(`${url}/seen`, { headers: await bearer({ sub: 'bob' }) })).json()) as Record<
      string,
      { payload?: { sub: string }; sub?: string }
    >;
    expect(body.auth?.payload?.sub).toBe('bob');
    expect(body.user?.sub).toBe('bob');
  });

  it('requireScopes finds the auth under a renamed property: 200 with the scope, 403 without, 401 without a token', async () => {
    const url = await start({ secret: HS_SECRET, requestProperty: 'jwt' }, []);
    expect((await fetch(`${url}/admin`, { headers: await bearer({ scope: 'admin' }) })).status).toBe(200);
    const refused = await fetch(`${url}/admin`, { headers: await bearer({ scope: 'read' }) });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'insufficient_scope' });
    expect(refused.headers.get('www-authenticate')).toContain('scope="admin"');
    const anonymous = await fetch(`${url}/admin`);
    expect(anonymous.status).toBe(401);
  });

  it('requireClaims finds the auth under a renamed property', async () => {
    const url = await start({ secret: HS_SECRET, requestProperty: 'token', userProperty: 'account' }, []);
    expect((await fetch(`${url}/acme`, { headers: await bearer({ tenant: 'acme' }) })).status).toBe(200);
    expect((await fetch(`${url}/acme`, { headers: await bearer({ tenant: 'other' }) })).status).toBe(403);
  });

  it('guards trust only what jwtAuth verified: a req.auth written by other code grants nothing', async () => {
    const app = express();
    app.use(jwtAuth({ secret: HS_SECRET, requestProperty: 'jwt', credentialsRequired: false }));
    // Another middleware (or a mass assignment) puts a forged auth where the default name is.
    app.use((req, _res, next) => {
      (req as unknown as Record<string, unknown>).auth = { token: 'x', header: {}, payload: { tenant: 'acme' }, scopes: ['admin'] };
      next();
    });
    app.get('/admin', requireScopes('admin'), (_req, res) => {
      res.json({ ok: true });
    });
    server = await listen(createServer(app));
    const res = await fetch(`${server.url}/admin`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'missing_token' });
    expect((await fetch(`${server.url}/admin`, { headers: await bearer({ scope: 'read' }) })).status).toBe(403);
  });

  it('with passthrough, the reason is still req.authError and the renamed property stays unset', async () => {
    const url = await start({ secret: HS_SECRET, requestProperty: 'jwt', passthrough: true }, ['jwt', 'authError']);
    const res = await fetch(`${url}/seen`, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { jwt: unknown; authError: { code: string } | null };
    expect(body.jwt).toBeNull();
    expect(body.authError?.code).toBe('malformed_token');
  });

  it.each([
    ['__proto__'],
    ['constructor'],
    ['prototype'],
    ['toString'],
    ['hasOwnProperty'],
    ['body'],
    ['params'],
    ['query'],
    ['headers'],
    ['res'],
    ['app'],
    ['url'],
    ['method'],
    ['socket'],
    ['next'],
    ['signedCookies'],
    ['cookies'],
    ['secret'],
    ['authError'],
    ['on'],
    ['pipe'],
    ['get'],
    // Node's per-request fields, and the underscore state of Node, Express and body-parser 1.
    ['_readableState'],
    ['_consuming'],
    ['_dumped'],
    ['joinDuplicateHeaders'],
    ['_body'],
    ['_jwt'],
  ])('refuses %s as requestProperty or userProperty at creation', (name) => {
    expect(() => jwtAuth({ secret: HS_SECRET, requestProperty: name })).toThrow(TypeError);
    expect(() => jwtAuth({ secret: HS_SECRET, requestProperty: name })).toThrow(/"requestProperty" cannot be/);
    expect(() => jwtAuth({ secret: HS_SECRET, userProperty: name })).toThrow(/"userProperty" cannot be/);
  });

  it.each([[''], ['auth.payload'], ['a b'], ['1st'], [42], [null]])('refuses %j, which is not a plain property name', (name) => {
    expect(() => jwtAuth({ secret: HS_SECRET, requestProperty: name as string })).toThrow(/must be a property name/);
  });

  it('refuses the same name for both', () => {
    expect(() => jwtAuth({ secret: HS_SECRET, requestProperty: 'jwt', userProperty: 'jwt' })).toThrow(/both "jwt"/);
    expect(() => jwtAuth({ secret: HS_SECRET, requestProperty: 'user' })).toThrow(/both "user"/);
  });
});
