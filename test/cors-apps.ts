import fastifyCors from '@fastify/cors';
import { serve } from '@hono/node-server';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as honoJwtAuth, type JwtAuthEnv } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth, type JwtAuthState } from '@jwtauth/koa';
import koaCors from '@koa/cors';
import expressCors from 'cors';
import express, { type RequestHandler } from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import fastify4 from 'fastify4';
import { Hono } from 'hono';
import { cors as honoCors } from 'hono/cors';
import Koa from 'koa';
import koa2 from 'koa2';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HS_SECRET } from './fixtures.js';
import { listen } from './harness/listen.js';

/** A request as it reached the server, before any middleware. */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | null;
  /** `Access-Control-Request-Method`: set on a preflight. */
  requestMethod: string | null;
  /** `Access-Control-Request-Headers`. */
  requestHeaders: string | null;
}

/** A running API server on 127.0.0.1. */
export interface ApiServer {
  url: string;
  /** Every request that reached the server, in order. */
  seen: SeenRequest[];
  /** What the protected handlers did: one entry per run, `"<METHOD> <what> <sub>"`. */
  runs: string[];
  close(): Promise<void>;
}

function observe(server: Server, seen: SeenRequest[]): void {
  // Prepended, so it sees each request before the framework does.
  server.prependListener('request', (req) => {
    const header = (name: string) => (req.headers[name] as string | undefined) ?? null;
    seen.push({
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://127.0.0.1').pathname,
      authorization: header('authorization'),
      requestMethod: header('access-control-request-method'),
      requestHeaders: header('access-control-request-headers'),
    });
  });
}

function closeServer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** The answer of a protected handler, after it recorded its run. */
function ran(runs: string[], method: string, what: string, sub: unknown): { ran: string; method: string; sub: unknown } {
  runs.push(`${method} ${what} ${String(sub)}`);
  return { ran: what, method, sub };
}

// ---------------------------------------------------------------------------------------------
// Each framework's CORS middleware mounted as the adapter READMEs document, in front of
// `PUT|DELETE /api/items/:id`; or, to show why the order matters, after jwtAuth.

/** `cors-first`: the documented order; `auth-first`: jwtAuth mounted before the CORS middleware. */
export type Order = 'cors-first' | 'auth-first';

/** How the API mounts jwtAuth. */
export interface Mounting {
  order: Order;
  /** jwtAuth's `forwardErrors`: failures then go to the framework's own default error handler. */
  forwardErrors?: boolean;
}

/** One framework with its own CORS middleware and jwtAuth (HS256 with `HS_SECRET`). */
export interface CorsVariant {
  name: string;
  /** Starts the API, allowing cross-origin calls from `origin` only. */
  start(origin: string, mounting: Mounting): Promise<ApiServer>;
}

const METHODS = ['GET', 'PUT', 'DELETE'];
const ALLOWED_HEADERS = ['Authorization', 'Content-Type'];
const ITEM = /^\/api\/items\/([^/]+)$/;

function corsExpress(name: string, createApp: typeof express): CorsVariant {
  return {
    name,
    async start(origin, { order, forwardErrors = false }) {
      const runs: string[] = [];
      const seen: SeenRequest[] = [];
      const app = createApp();
      const cors = expressCors({ origin, methods: METHODS, allowedHeaders: ALLOWED_HEADERS });
      const auth = expressJwtAuth({ secret: HS_SECRET, forwardErrors });
      if (order === 'cors-first') app.use(cors, auth);
      else app.use(auth, cors);
      const item: RequestHandler<{ id: string }> = (req, res) => {
        res.json(ran(runs, req.method, `item ${req.params.id}`, req.auth?.payload.sub));
      };
      app.put('/api/items/:id', item);
      app.delete('/api/items/:id', item);
      const server = createServer(app);
      observe(server, seen);
      return { ...(await listen(server)), seen, runs };
    },
  };
}

function corsKoa(name: string, KoaApp: typeof Koa): CorsVariant {
  return {
    name,
    async start(origin, { order, forwardErrors = false }) {
      const runs: string[] = [];
      const seen: SeenRequest[] = [];
      const app = new KoaApp();
      const cors = koaCors({ origin, allowMethods: METHODS, allowHeaders: ALLOWED_HEADERS });
      const auth = koaJwtAuth({ secret: HS_SECRET, forwardErrors });
      if (order === 'cors-first') app.use(cors).use(auth);
      else app.use(auth).use(cors);
      app.use((ctx) => {
        const id = ITEM.exec(ctx.path)?.[1];
        if (id === undefined || (ctx.method !== 'PUT' && ctx.method !== 'DELETE')) return;
        ctx.body = ran(runs, ctx.method, `item ${id}`, (ctx.state as JwtAuthState).auth?.payload.sub);
      });
      const server = createServer(app.callback());
      observe(server, seen);
      return { ...(await listen(server)), seen, runs };
    },
  };
}

const corsFastify: CorsVariant = {
  name: 'fastify',
  async start(origin, { order, forwardErrors = false }) {
    const runs: string[] = [];
    const seen: SeenRequest[] = [];
    const app = Fastify();
    const cors = () => app.register(fastifyCors, { origin, methods: METHODS, allowedHeaders: ALLOWED_HEADERS });
    const auth = () => app.register(fastifyJwtAuth, { secret: HS_SECRET, forwardErrors });
    if (order === 'cors-first') {
      await cors();
      await auth();
    } else {
      await auth();
      await cors();
    }
    const item = async (request: { method: string; params: { id: string }; auth: { payload: { sub?: string } } | null }) =>
      ran(runs, request.method, `item ${request.params.id}`, request.auth?.payload.sub);
    app.put<{ Params: { id: string } }>('/api/items/:id', item);
    app.delete<{ Params: { id: string } }>('/api/items/:id', item);
    await app.ready();
    observe(app.server, seen);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, seen, runs, close: () => app.close() };
  },
};

const corsHono: CorsVariant = {
  name: 'hono',
  async start(origin, { order, forwardErrors = false }) {
    const runs: string[] = [];
    const seen: SeenRequest[] = [];
    const app = new Hono<JwtAuthEnv>();
    const cors = honoCors({ origin, allowMethods: METHODS, allowHeaders: ALLOWED_HEADERS });
    const auth = honoJwtAuth({ secret: HS_SECRET, forwardErrors });
    if (order === 'cors-first') app.use('/api/*', cors, auth);
    else app.use('/api/*', auth, cors);
    app.on(['PUT', 'DELETE'], '/api/items/:id', (c) => c.json(ran(runs, c.req.method, `item ${c.req.param('id')}`, c.get('auth')?.payload.sub)));
    return startHono(app, seen, runs);
  },
};

function startHono(app: { fetch: (request: Request) => Response | Promise<Response> }, seen: SeenRequest[], runs: string[]): Promise<ApiServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({ url: `http://127.0.0.1:${info.port}`, seen, runs, close: closeServer(server) });
    }) as Server;
    observe(server, seen);
  });
}

/**
 * The CORS middleware of each framework, as each adapter README mounts it: `cors` on Express 5
 * and 4, `@koa/cors` on Koa 3 and 2, `@fastify/cors` 11 on Fastify 5 (it needs Fastify 5), and
 * `hono/cors`.
 */
export const corsVariants: readonly CorsVariant[] = [
  corsExpress('express', express),
  corsExpress('express4', express4 as typeof express),
  corsKoa('koa', Koa),
  corsKoa('koa2', koa2 as typeof Koa),
  corsFastify,
  corsHono,
];

// ---------------------------------------------------------------------------------------------
// Method-agnostic handlers behind jwtAuth, with no CORS middleware: nothing answers a preflight
// before jwtAuth does.

/** A running server whose handlers answer every method, each at its own path. */
export interface AgnosticServer extends ApiServer {
  /** Each handler: how it was mounted, and a path it answers. */
  handlers: readonly { mount: string; path: string }[];
}

export interface AgnosticVariant {
  name: string;
  start(): Promise<AgnosticServer>;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function agnosticExpress(name: string, createApp: typeof express): AgnosticVariant {
  return {
    name,
    async start() {
      const runs: string[] = [];
      const seen: SeenRequest[] = [];
      const app = createApp();
      app.use(expressJwtAuth({ secret: HS_SECRET }));
      const handler =
        (mount: string): RequestHandler =>
        (req, res) => {
          res.json(ran(runs, req.method, mount, req.auth?.payload.sub));
        };
      app.all('/all', handler('app.all'));
      app.use('/mounted', handler('app.use(path, fn)'));
      const server = createServer(app);
      observe(server, seen);
      return {
        ...(await listen(server)),
        seen,
        runs,
        handlers: [
          { mount: 'app.all', path: '/all' },
          { mount: 'app.use(path, fn)', path: '/mounted/deep/path' },
        ],
      };
    },
  };
}

function agnosticKoa(name: string, KoaApp: typeof Koa): AgnosticVariant {
  return {
    name,
    async start() {
      const runs: string[] = [];
      const seen: SeenRequest[] = [];
      const app = new KoaApp();
      app.use(koaJwtAuth({ secret: HS_SECRET }));
      app.use((ctx) => {
        ctx.body = ran(runs, ctx.method, 'app.use(ctx => …)', (ctx.state as JwtAuthState).auth?.payload.sub);
      });
      const server = createServer(app.callback());
      observe(server, seen);
      return { ...(await listen(server)), seen, runs, handlers: [{ mount: 'app.use(ctx => …)', path: '/anything' }] };
    },
  };
}

function agnosticFastify(name: string, createApp: typeof Fastify): AgnosticVariant {
  return {
    name,
    async start() {
      const runs: string[] = [];
      const seen: SeenRequest[] = [];
      const app = createApp();
      await app.register(fastifyJwtAuth, { secret: HS_SECRET });
      const handler = (mount: string) => async (request: { method: string; auth: { payload: { sub?: string } } | null }) =>
        ran(runs, request.method, mount, request.auth?.payload.sub);
      app.all('/all', handler('all'));
      app.route({ method: [...ALL_METHODS], url: '/routed', exposeHeadRoute: false, handler: handler('route({ method: [...] })') });
      await app.ready();
      observe(app.server, seen);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        seen,
        runs,
        close: () => app.close(),
        handlers: [
          { mount: 'all', path: '/all' },
          { mount: 'route({ method: [...] })', path: '/routed' },
        ],
      };
    },
  };
}

const agnosticHono: AgnosticVariant = {
  name: 'hono',
  async start() {
    const runs: string[] = [];
    const seen: SeenRequest[] = [];
    const app = new Hono<JwtAuthEnv>();
    app.use('*', honoJwtAuth({ secret: HS_SECRET }));
    app.all('/all', (c) => c.json(ran(runs, c.req.method, 'all', c.get('auth')?.payload.sub)));
    app.on([...ALL_METHODS], '/on', (c) => c.json(ran(runs, c.req.method, 'on([...])', c.get('auth')?.payload.sub)));
    app.use('/used/*', async (c) => c.json(ran(runs, c.req.method, 'use(path, handler)', c.get('auth')?.payload.sub)));
    const server = await startHono(app, seen, runs);
    return {
      ...server,
      handlers: [
        { mount: 'all', path: '/all' },
        { mount: 'on([...])', path: '/on' },
        { mount: 'use(path, handler)', path: '/used/deep' },
      ],
    };
  },
};

/** Every adapter on every framework major, each with method-agnostic handlers and no CORS middleware. */
export const agnosticVariants: readonly AgnosticVariant[] = [
  agnosticExpress('express', express),
  agnosticExpress('express4', express4 as typeof express),
  agnosticKoa('koa', Koa),
  agnosticKoa('koa2', koa2 as typeof Koa),
  agnosticFastify('fastify', Fastify),
  agnosticFastify('fastify4', fastify4 as typeof Fastify),
  agnosticHono,
];
