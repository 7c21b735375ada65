import { serve } from '@hono/node-server';
import { jwtAuth as expressJwtAuth, type ExpressJwtAuthOptions } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as honoJwtAuth } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth, type JwtAuthState } from '@jwtauth/koa';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import fastify4 from 'fastify4';
import fc from 'fast-check';
import { Hono } from 'hono';
import Koa from 'koa';
import koa2 from 'koa2';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalPathOf } from '../packages/core/src/http/path-match.js';
import { HS_SECRET, sign } from './fixtures.js';
import { harnesses, type RunningServer } from './harness/index.js';
import { listen } from './harness/listen.js';
import { sendRaw } from './raw-http.js';

// `unless` over real HTTP, beyond the conformance table (test/cases-request.ts): request targets
// supertest cannot send, apps mounted under a prefix, and the routers' own readings of a path.

const MISSING_TOKEN = { error: 'unauthorized', error_description: 'Authentication is required: send a Bearer token', code: 'missing_token' };

async function get(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

describe.each(harnesses)('$name: request targets supertest cannot send', (harness) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ secret: HS_SECRET, unless: { path: ['/public', '/public/**'] } });
  });
  afterAll(() => server?.close());

  it.each<[string, string]>([
    ['an absolute-form target with a dot-dot segment', 'http://127.0.0.1/public/../protected'],
    ['an excluded path in the fragment only', '/protected#/public'],
    ['an encoded #', '/protected%23/public'],
  ])('authenticates %s', async (_, target) => {
    const response = await sendRaw(server.url, { target, headers: [] });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual(MISSING_TOKEN);
  });

  it.each<[string, string]>([
    ['backslashes', '/public\\..\\protected'],
    ['a backslash after a dot-dot', '/public/..\\protected'],
  ])('never lets a path with %s reach a handler unauthenticated', async (_, target) => {
    const response = await sendRaw(server.url, { target, headers: [] });
    if (harness.name === 'hono') {
      // @hono/node-server refuses a backslash in the path before any middleware runs.
      expect(response.status).toBe(400);
      expect(response.body).toBe('');
    } else {
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body)).toEqual(MISSING_TOKEN);
    }
  });
});

describe.each(harnesses)('$name: a dot-dot segment that leads to an excluded path', (harness) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ secret: HS_SECRET, unless: { path: '/protected' } });
  });
  afterAll(() => server?.close());

  it('is skipped only where the server resolved it before the router saw it (Hono), else authenticated', async () => {
    const response = await sendRaw(server.url, { target: '/elsewhere/../protected', headers: [] });
    if (harness.name === 'hono') {
      // The Request URL is already /protected: its router routes there, and the exclusion agrees.
      expect([response.status, JSON.parse(response.body)]).toEqual([200, { auth: null, user: null }]);
    } else {
      // Express, Koa and Fastify route /elsewhere/../protected as sent, so it is not /protected.
      expect([response.status, JSON.parse(response.body)]).toEqual([401, MISSING_TOKEN]);
    }
  });
});

/** An app with `jwtAuth(options)` mounted under `/api`, and `/api/public`, `/api/private`, `/api/docs/intro`. */
type MountedApp = (options: ExpressJwtAuthOptions) => Promise<RunningServer>;

const ROUTES = ['public', 'private', 'docs/intro'];

function expressMounted(createApp: typeof express, style: 'app.use' | 'Router'): MountedApp {
  return async (options) => {
    const app = createApp();
    if (style === 'app.use') {
      app.use('/api', expressJwtAuth(options));
      for (const route of ROUTES)
        app.get(`/api/${route}`, (req, res) => {
          res.json({ route, auth: req.auth ?? null });
        });
    } else {
      const router = createApp.Router();
      router.use(expressJwtAuth(options));
      for (const route of ROUTES)
        router.get(`/${route}`, (req, res) => {
          res.json({ route, auth: req.auth ?? null });
        });
      app.use('/api', router);
    }
    return listen(createServer(app));
  };
}

function koaMounted(KoaApp: typeof Koa): MountedApp {
  return async (options) => {
    const app = new KoaApp();
    const auth = koaJwtAuth(options as never);
    // What koa-mount does: the mounted middleware sees the path without the prefix (ctx.path, and
    // so ctx.req.url, rewritten), and the original comes back afterwards.
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/api/')) return next() as Promise<void>;
      const original = ctx.path;
      ctx.path = ctx.path.slice('/api'.length);
      try {
        await auth(ctx, async () => {
          const route = ctx.path.slice(1);
          if (ROUTES.includes(route)) ctx.body = { route, auth: (ctx.state as JwtAuthState).auth ?? null };
        });
      } finally {
        ctx.path = original;
      }
    });
    return listen(createServer(app.callback()));
  };
}

function fastifyMounted(createApp: typeof Fastify): MountedApp {
  return async (options) => {
    const app = createApp();
    await app.register(
      async (api) => {
        await api.register(fastifyJwtAuth, options as never);
        for (const route of ROUTES) api.get(`/${route}`, async (request) => ({ route, auth: request.auth }));
      },
      { prefix: '/api' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  };
}

function honoMounted(style: 'route' | 'basePath'): MountedApp {
  return async (options) => {
    // Chained, so that the app's type carries the auth variables.
    const api = (style === 'route' ? new Hono() : new Hono().basePath('/api')).use('*', honoJwtAuth(options as never));
    for (const route of ROUTES) api.get(`/${route}`, (c) => c.json({ route, auth: c.get('auth') ?? null }));
    const app = style === 'route' ? new Hono().route('/api', api) : api;
    return new Promise<RunningServer>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
      });
    });
  };
}

const MOUNTED: ReadonlyArray<[string, MountedApp]> = [
  ["express: app.use('/api', jwtAuth())", expressMounted(express, 'app.use')],
  ["express4: app.use('/api', jwtAuth())", expressMounted(express4 as typeof express, 'app.use')],
  ["express: a Router mounted at '/api'", expressMounted(express, 'Router')],
  ["express4: a Router mounted at '/api'", expressMounted(express4 as typeof express, 'Router')],
  ['koa: mounted at /api the koa-mount way', koaMounted(Koa)],
  ['koa2: mounted at /api the koa-mount way', koaMounted(koa2 as typeof Koa)],
  ["fastify: registered with prefix '/api'", fastifyMounted(Fastify)],
  ["fastify4: registered with prefix '/api'", fastifyMounted(fastify4 as typeof Fastify)],
  ["hono: app.route('/api', api)", honoMounted('route')],
  ["hono: basePath('/api')", honoMounted('basePath')],
];

describe.each(MOUNTED)('%s', (name, start) => {
  let server: RunningServer;
  let relative: RunningServer;
  beforeAll(async () => {
    server = await start({ secret: HS_SECRET, unless: { path: ['/api/public', '/api/docs/**'] } });
    relative = await start({ secret: HS_SECRET, unless: { path: ['/public', '/docs/**'] } });
  });
  afterAll(async () => {
    await server?.close();
    await relative?.close();
  });

  it('matches exclusions against the full path', async () => {
    expect(await get(`${server.url}/api/public`)).toEqual({ status: 200, body: { route: 'public', auth: null } });
    expect(await get(`${server.url}/api/docs/intro`)).toEqual({ status: 200, body: { route: 'docs/intro', auth: null } });
    expect(await get(`${server.url}/api/private`)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('authenticates the other routes of the mount as usual', async () => {
    const token = await sign({ sub: 'alice' });
    const answer = await get(`${server.url}/api/private`, token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ route: 'private', auth: { payload: { sub: 'alice' } } });
  });

  it('never matches an exclusion written relative to the mount', async () => {
    expect(await get(`${relative.url}/api/public`)).toEqual({ status: 401, body: MISSING_TOKEN });
    expect(await get(`${relative.url}/api/docs/intro`)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it('never runs a handler unauthenticated for a dot-dot segment out of an excluded path', async () => {
    const response = await sendRaw(server.url, { target: '/api/public/../private', headers: [] });
    const body: unknown = JSON.parse(response.body);
    if (name.startsWith('fastify')) {
      // Fastify: no route of the /api scope matches the path as sent, so neither its hook nor a handler runs.
      expect(response.status).toBe(404);
      expect(body).not.toHaveProperty('route');
    } else {
      expect([response.status, body]).toEqual([401, MISSING_TOKEN]);
    }
  });
});

/**
 * An app whose `/users/…` prefix handler (Express `app.use('/users', …)`, a Koa prefix check, a
 * Fastify wildcard route) sits behind `jwtAuth({ unless: { path: '/login' } })`. A path that only
 * resolves to `/login` is routed into that handler by Express, Koa and Fastify, so it must not
 * count as `/login`: with dot segments resolved before matching, it would run unauthenticated.
 */
const PREFIX_APPS: ReadonlyArray<[string, () => Promise<RunningServer>]> = [
  ...(
    [
      ['express', express],
      ['express4', express4 as typeof express],
    ] as const
  ).map(
    ([name, createApp]) =>
      [
        name,
        async () => {
          const app = createApp();
          app.use(expressJwtAuth({ secret: HS_SECRET, unless: { path: '/login' } }));
          app.get('/login', (_req, res) => {
            res.json({ route: 'login' });
          });
          app.use('/users', (req, res) => {
            res.json({ route: 'users', auth: req.auth ?? null });
          });
          return listen(createServer(app));
        },
      ] as [string, () => Promise<RunningServer>],
  ),
  ...(
    [
      ['koa', Koa],
      ['koa2', koa2 as typeof Koa],
    ] as const
  ).map(
    ([name, KoaApp]) =>
      [
        name,
        async () => {
          const app = new KoaApp();
          app.use(koaJwtAuth({ secret: HS_SECRET, unless: { path: '/login' } }));
          app.use(async (ctx) => {
            if (ctx.path === '/login') ctx.body = { route: 'login' };
            else if (ctx.path.startsWith('/users/')) ctx.body = { route: 'users', auth: ctx.state.auth ?? null };
          });
          return listen(createServer(app.callback()));
        },
      ] as [string, () => Promise<RunningServer>],
  ),
  ...(
    [
      ['fastify', Fastify],
      ['fastify4', fastify4 as typeof Fastify],
    ] as const
  ).map(
    ([name, createApp]) =>
      [
        name,
        async () => {
          const app = createApp();
          await app.register(fastifyJwtAuth, { secret: HS_SECRET, unless: { path: '/login' } });
          app.get('/login', async () => ({ route: 'login' }));
          app.get('/users/*', async (request) => ({ route: 'users', auth: request.auth }));
          await app.listen({ port: 0, host: '127.0.0.1' });
          return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
        },
      ] as [string, () => Promise<RunningServer>],
  ),
  [
    'hono',
    async () => {
      const app = new Hono().use('*', honoJwtAuth({ secret: HS_SECRET, unless: { path: '/login' } }));
      app.get('/login', (c) => c.json({ route: 'login' }));
      app.get('/users/*', (c) => c.json({ route: 'users', auth: c.get('auth') ?? null }));
      return new Promise<RunningServer>((resolve) => {
        const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
          resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
        });
      });
    },
  ],
];

describe.each(PREFIX_APPS)('%s: a prefix handler behind an exclusion', (name, start) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.close());

  it('skips the excluded path and authenticates the prefix', async () => {
    expect(await get(`${server.url}/login`)).toEqual({ status: 200, body: { route: 'login' } });
    expect(await get(`${server.url}/users/1`)).toEqual({ status: 401, body: MISSING_TOKEN });
  });

  it.each(['/users/1/../../login', '/users/1/%2e%2e/%2e%2e/login', '/users/..%2F..%2Flogin'])(
    'never runs the prefix handler unauthenticated for %s',
    async (target) => {
      const response = await sendRaw(server.url, { target, headers: [] });
      const body: unknown = response.body === '' ? null : JSON.parse(response.body);
      if (name === 'hono' && !target.includes('%2F')) {
        // @hono/node-server resolved it to /login before routing: the login route answers.
        expect([response.status, body]).toEqual([200, { route: 'login' }]);
      } else {
        expect([response.status, body]).toEqual([401, MISSING_TOKEN]);
      }
    },
  );
});

describe('canonical paths: every router reads them alike', () => {
  const pieces = [
    '/',
    'a',
    'B',
    '.',
    '..',
    '%2e',
    '%2E',
    '%2F',
    '%2f',
    '%5C',
    '\\',
    ';',
    '%3B',
    '%41',
    '%61',
    '%C3%A9',
    '%c3%a9',
    '%25',
    '%252e',
    ' ',
    '%20',
    '*',
    '~',
    '-',
    '_',
    ':',
    '@',
    '!',
    '$',
    '&',
    "'",
    '(',
    ')',
    '+',
    ',',
    '=',
    'é',
    '"',
    '{',
    '%',
  ];
  const paths = fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((parts) => `/${parts.join('')}`);

  it('accepts only paths that WHATWG resolution, decodeURI and a split at ";" all leave with the same segments', () => {
    fc.assert(
      fc.property(paths, (path) => {
        const canonical = canonicalPathOf(path);
        if (canonical === undefined) return;
        expect(canonical).toBe(path);
        // Hono and every Fetch runtime: the WHATWG URL parser changes nothing.
        expect(new URL(`http://localhost${path}`).pathname).toBe(path);
        // Fastify and Hono decode escapes (never into a new segment or a dot segment).
        let decoded = path;
        try {
          decoded = decodeURI(path);
        } catch {
          // A router that cannot decode keeps the path as it is.
        }
        const segments = decoded.split('/');
        expect(segments.length).toBe(path.split('/').length);
        expect(segments.some((segment) => segment === '.' || segment === '..' || segment.includes('\\'))).toBe(false);
        // Fastify 4 ends the path at ";".
        expect(path.includes(';')).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts the paths real clients send', () => {
    for (const path of ['/', '/api/v1/orders', '/.well-known/openid-configuration', '/files/report-2030_01~final.pdf', '/caf%C3%A9', '/a%20b']) {
      expect(canonicalPathOf(path)).toBe(path);
    }
  });
});
