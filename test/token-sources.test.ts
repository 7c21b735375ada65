import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { serve } from '@hono/node-server';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as honoJwtAuth, type JwtAuthEnv } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import { bodyParser } from '@koa/bodyparser';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { setSignedCookie } from 'hono/cookie';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HS_SECRET, sign } from './fixtures.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// What each adapter does when the framework middleware a token source needs is missing, and
// that the application still gets its own parsed body and cookies after jwtAuth read them. The
// answers themselves are in the conformance table (test/cases-sources.ts).

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const signedCookie = { header: true, cookie: { name: 'at', signed: true } } as const;
const body = { header: true, body: 'access_token' } as const;

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function started(server: Promise<RunningServer>): Promise<string> {
  const s = await server;
  running.push(s);
  return s.url;
}

/** An Express app whose error handler answers `{ error: message }` with the error's status or 500. */
function expressApp(mount: (app: express.Express) => void, createApp: typeof express = express): Promise<string> {
  const app = createApp();
  mount(app);
  app.all('/protected', (req, res) => {
    res.json({ sub: req.auth?.payload.sub ?? null, body: req.body ?? null });
  });
  app.use((error: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status ?? 500).json({ name: error.name, error: error.message });
  });
  return started(listen(createServer(app)));
}

function koaApp(mount: (app: Koa) => void): Promise<string> {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = 500;
      ctx.body = { name: (error as Error).name, error: (error as Error).message };
    }
  });
  mount(app);
  app.use((ctx) => {
    const state = ctx.state as { auth?: { payload: { sub?: string } } };
    ctx.body = { sub: state.auth?.payload.sub ?? null, body: (ctx.request as { body?: unknown }).body ?? null };
  });
  return started(listen(createServer(app.callback())));
}

function honoApp(app: Hono<JwtAuthEnv>): Promise<string> {
  return started(
    new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
      });
    }),
  );
}

async function post(url: string, form: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/protected`, { method: 'POST', headers: { ...FORM, ...headers }, body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/protected`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Express', () => {
  it('sends a signed cookie to the error path with what to mount when no cookie-parser ran', async () => {
    const url = await expressApp((app) => app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie })));
    expect(await get(url, { Cookie: `at=${await sign({})}` })).toEqual({
      status: 500,
      body: { name: 'TypeError', error: expect.stringContaining('app.use(cookieParser(secret))') },
    });
    // A request without the cookie needs no verification: it is answered as usual.
    expect((await get(url)).status).toBe(401);
  });

  it('says the same of a cookie-parser without a secret, which verifies nothing', async () => {
    const url = await expressApp((app) => {
      app.use(cookieParser());
      app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie }));
    });
    expect(await get(url, { Cookie: `at=${await sign({})}` })).toMatchObject({ status: 500, body: { name: 'TypeError' } });
  });

  it('sends a form POST to the error path with what to mount when no body parser ran', async () => {
    const url = await expressApp((app) => app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: body })));
    expect(await post(url, `access_token=${await sign({})}`)).toEqual({
      status: 500,
      body: { name: 'TypeError', error: expect.stringContaining('express.urlencoded()') },
    });
    expect((await get(url)).status).toBe(401);
  });

  // Express 4's body-parser sets `req.body = {}` in every parser, whatever the content type.
  it.each([
    ['Express 5', express],
    ['Express 4', express4 as typeof express],
  ])('%s: says what to mount when only another body parser ran', async (_, createApp) => {
    const url = await expressApp((app) => {
      app.use(createApp.json());
      app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: body }));
    }, createApp);
    expect(await post(url, `access_token=${await sign({})}`)).toEqual({
      status: 500,
      body: { name: 'TypeError', error: expect.stringContaining('express.urlencoded()') },
    });
  });

  it.each([
    ['Express 5', express],
    ['Express 4', express4 as typeof express],
  ])('%s: reads the urlencoded body, and answers an empty one missing_token', async (_, createApp) => {
    const url = await expressApp((app) => {
      app.use(createApp.json());
      app.use(createApp.urlencoded({ extended: false }));
      app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: body }));
    }, createApp);
    expect(await post(url, `access_token=${await sign({ sub: 'form-user' })}`)).toMatchObject({ status: 200, body: { sub: 'form-user' } });
    expect(await post(url, '&')).toMatchObject({ status: 401, body: { code: 'missing_token' } });
  });

  it('leaves the parsed body to the handler', async () => {
    const url = await expressApp((app) => {
      app.use(express.urlencoded({ extended: false }));
      app.use(expressJwtAuth({ secret: HS_SECRET, tokenFrom: body }));
    });
    const token = await sign({ sub: 'form-user' });
    expect(await post(url, `note=hi&access_token=${token}`)).toEqual({ status: 200, body: { sub: 'form-user', body: { note: 'hi', access_token: token } } });
  });
});

describe('Koa', () => {
  it('sends a signed cookie to the error path with what to set when the app has no keys', async () => {
    const url = await koaApp((app) => app.use(koaJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie })));
    expect(await get(url, { Cookie: `at=${await sign({})}; at.sig=x` })).toEqual({
      status: 500,
      body: { name: 'TypeError', error: expect.stringContaining('app.keys') },
    });
    expect((await get(url)).status).toBe(401);
  });

  it('sends a form POST to the error path with what to mount when no body parser ran', async () => {
    const url = await koaApp((app) => app.use(koaJwtAuth({ secret: HS_SECRET, tokenFrom: body })));
    expect(await post(url, `access_token=${await sign({})}`)).toEqual({
      status: 500,
      body: { name: 'TypeError', error: expect.stringContaining('@koa/bodyparser') },
    });
  });

  it('leaves the parsed body to the handler', async () => {
    const url = await koaApp((app) => {
      app.use(bodyParser());
      app.use(koaJwtAuth({ secret: HS_SECRET, tokenFrom: body }));
    });
    const token = await sign({ sub: 'form-user' });
    expect(await post(url, `note=hi&access_token=${token}`)).toEqual({ status: 200, body: { sub: 'form-user', body: { note: 'hi', access_token: token } } });
  });
});

describe('Fastify', () => {
  it.each<[string, (app: FastifyInstance) => PromiseLike<unknown>, object, RegExp]>([
    ['a signed cookie without @fastify/cookie', async () => undefined, signedCookie, /register @fastify\/cookie with a secret before jwtAuth/],
    [
      'a signed cookie with @fastify/cookie registered without a secret',
      (app) => app.register(fastifyCookie),
      signedCookie,
      /register @fastify\/cookie with a secret/,
    ],
    ['a signed cookie with @fastify/cookie registered after it', async () => 'after', signedCookie, /register @fastify\/cookie with a secret before jwtAuth/],
    ['a body parameter without @fastify/formbody', async () => undefined, body, /register @fastify\/formbody before jwtAuth/],
  ])('refuses to start for %s', async (_, before, tokenFrom, message) => {
    const app = Fastify();
    const ready = (async () => {
      const order = await before(app);
      await app.register(fastifyJwtAuth, { secret: HS_SECRET, tokenFrom });
      if (order === 'after') await app.register(fastifyCookie, { secret: 'cookie-secret' });
      await app.ready();
    })();
    await expect(ready).rejects.toThrow(TypeError);
    await expect(ready).rejects.toThrow(message);
    await app.close();
  });

  it('authenticates after body parsing with tokenFrom.body, before it otherwise', async () => {
    const seen: string[] = [];
    for (const tokenFrom of [body, { header: true }]) {
      const app = Fastify();
      await app.register(fastifyFormbody);
      app.addHook('preParsing', async () => {
        seen.push(`${'body' in tokenFrom ? 'body' : 'header'}: preParsing`);
      });
      await app.register(fastifyJwtAuth, { secret: HS_SECRET, tokenFrom });
      app.post('/protected', async (request) => ({ sub: request.auth?.payload.sub ?? null, body: request.body }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const token = await sign({ sub: 'form-user' });
      const answer = await post(
        `http://127.0.0.1:${port}`,
        `note=hi${'body' in tokenFrom ? `&access_token=${token}` : ''}`,
        'body' in tokenFrom ? {} : { Authorization: `Bearer ${token}` },
      );
      expect(answer.status).toBe(200);
      // A request without a token: refused in preValidation once its body was read, or in
      // onRequest before anything else.
      expect((await post(`http://127.0.0.1:${port}`, 'note=hi')).status).toBe(401);
      await app.close();
    }
    expect(seen).toEqual(['body: preParsing', 'body: preParsing', 'header: preParsing']);
  });
});

describe('Hono', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['a signed cookie without cookieSecret', () => honoJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie }), /give "cookieSecret"/],
    ['an empty cookieSecret', () => honoJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie, cookieSecret: '' }), /give "cookieSecret"/],
    ['an empty byte cookieSecret', () => honoJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie, cookieSecret: new Uint8Array(0) }), /give "cookieSecret"/],
    [
      'a cookieSecret that is a number',
      () => honoJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie, cookieSecret: 7 as unknown as string }),
      /give "cookieSecret"/,
    ],
    [
      'a cookieSecret without a signed cookie (a forgotten signed: true)',
      () => honoJwtAuth({ secret: HS_SECRET, tokenFrom: { cookie: 'at' }, cookieSecret: 'cookie-secret' }),
      /signed: true/,
    ],
  ])('refuses %s at creation', (_, create, message) => {
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
  });

  it('verifies a cookie set by setSignedCookie with bytes as the secret', async () => {
    const secret = new TextEncoder().encode('cookie-secret-bytes');
    const token = await sign({ sub: 'cookie-user' });
    const app = new Hono<JwtAuthEnv>();
    app.get('/login', async (c) => {
      await setSignedCookie(c, 'at', token, secret, { httpOnly: true });
      return c.body(null, 204);
    });
    app.use('/protected', honoJwtAuth({ secret: HS_SECRET, tokenFrom: signedCookie, cookieSecret: secret }));
    app.get('/protected', (c) => c.json({ sub: c.get('auth')?.payload.sub ?? null }));
    const url = await honoApp(app);
    const cookie = (await fetch(`${url}/login`)).headers.get('set-cookie')!.split(';', 1)[0]!;
    expect(await get(url, { Cookie: cookie })).toEqual({ status: 200, body: { sub: 'cookie-user' } });
  });

  it('leaves the body for the handler to parse again, with its own options', async () => {
    const app = new Hono<JwtAuthEnv>();
    app.use('/protected', honoJwtAuth({ secret: HS_SECRET, tokenFrom: body }));
    app.post('/protected', async (c) => c.json({ sub: c.get('auth')?.payload.sub ?? null, body: await c.req.parseBody() }));
    const url = await honoApp(app);
    const token = await sign({ sub: 'form-user' });
    expect(await post(url, `note=a&note=b&access_token=${token}`)).toEqual({
      status: 200,
      body: { sub: 'form-user', body: { note: 'b', access_token: token } },
    });
  });
});
