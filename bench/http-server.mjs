// The server side of the HTTP benchmark (bench/http.mjs starts it; do not run it by hand). One
// process serves every cell of the run, each on its own 127.0.0.1 port: one app per framework,
// algorithm, scenario and variant (bare, peer, ours, ours with cache: false), so no two cells share
// a token cache or a request counter. It is told what to build over IPC, and answers snapshots of
// its own CPU time (process.cpuUsage(): every thread of the process, so Web Crypto's work on the
// libuv pool counts too) and of the requests each port has served, which the driver takes before
// and after each round.
import http from 'node:http';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as honoJwtAuth } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import fastifyJwt from '@fastify/jwt';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import { expressjwt } from 'express-jwt';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { jwt as honoJwt } from 'hono/jwt';
import Koa from 'koa';
import koaJwt from 'koa-jwt';

if (typeof process.send !== 'function') throw new Error('http-server.mjs is started by http.mjs (it needs the IPC channel).');

/**
 * The key each side is given, as each documents it: the HMAC secret as a string, the RSA public
 * key as a PEM (SPKI) string; @fastify/jwt takes a public key as `{ public }`.
 */
function keysFor(alg, keys) {
  return alg === 'HS256' ? { key: keys.secret, fastifyKey: keys.secret } : { key: keys.publicPem, fastifyKey: { public: keys.publicPem } };
}

// Bare apps answer the same JSON as the others, so the difference is the auth middleware alone.
const BARE = { sub: 'anonymous' };

function expressServer(middleware, read) {
  const app = express();
  if (middleware) app.use(middleware);
  app.get('/', (req, res) => res.json(read ? { sub: read(req) } : BARE));
  app.use((err, _req, res, _next) => res.status(err.status ?? 401).json({ error: 'unauthorized' }));
  return http.createServer(app);
}

function koaServer(middleware) {
  const app = new Koa();
  app.silent = true; // koa-jwt's 401s would otherwise be logged
  if (middleware) app.use(middleware);
  app.use((ctx) => {
    ctx.body = middleware ? { sub: ctx.state.auth?.payload.sub ?? ctx.state.user?.sub } : BARE;
  });
  return http.createServer(app.callback());
}

async function fastifyServer(register) {
  const app = Fastify();
  if (register) await register(app);
  app.get('/', async (request) => (register ? { sub: request.auth?.payload.sub ?? request.user?.sub } : BARE));
  await app.ready();
  return app.server;
}

function honoServer(middleware, read) {
  const app = new Hono();
  if (middleware) app.use('*', middleware);
  app.get('/', (c) => c.json(read ? { sub: read(c) } : BARE));
  return createAdaptorServer({ fetch: app.fetch });
}

/** The http.Server of one cell. */
async function build(framework, alg, variant, keys) {
  const { key, fastifyKey } = keysFor(alg, keys);
  const ours =
    variant === 'ours' || variant === 'ours-nocache' ? { secret: key, algorithms: [alg], ...(variant === 'ours-nocache' ? { cache: false } : {}) } : undefined;
  const bare = variant === 'bare';
  switch (framework) {
    case 'express':
      if (bare) return expressServer();
      if (ours) return expressServer(expressJwtAuth(ours), (req) => req.auth.payload.sub);
      return expressServer(expressjwt({ secret: key, algorithms: [alg] }), (req) => req.auth.sub);
    case 'koa':
      if (bare) return koaServer();
      if (ours) return koaServer(koaJwtAuth(ours));
      return koaServer(koaJwt({ secret: key, algorithms: [alg] }));
    case 'fastify':
      if (bare) return fastifyServer();
      if (ours) return fastifyServer((app) => app.register(fastifyJwtAuth, ours));
      return fastifyServer(async (app) => {
        await app.register(fastifyJwt, { secret: fastifyKey, verify: { algorithms: [alg] } });
        app.addHook('onRequest', async (request, reply) => {
          try {
            await request.jwtVerify();
          } catch {
            return reply.code(401).send({ error: 'unauthorized' });
          }
        });
      });
    case 'hono':
      if (bare) return honoServer();
      if (ours) return honoServer(honoJwtAuth(ours), (c) => c.get('auth').payload.sub);
      return honoServer(honoJwt({ secret: key, alg }), (c) => c.get('jwtPayload').sub);
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

/** Requests served per cell id, counted on the server's 'request' event (same cost for every app). */
const served = new Map();

async function start({ cells, keys }) {
  const ports = {};
  for (const { id, framework, alg, variant } of cells) {
    const server = await build(framework, alg, variant, keys);
    served.set(id, 0);
    server.on('request', () => served.set(id, served.get(id) + 1));
    server.keepAliveTimeout = 60_000; // a connection stays up for the whole round
    await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    ports[id] = server.address().port;
  }
  return { ports };
}

function snapshot({ id, collect }) {
  // A full collection before a round starts, outside the measured window, so a round does not
  // pay for the garbage the previous round (another app) left behind.
  if (collect && typeof globalThis.gc === 'function') globalThis.gc();
  const { user, system } = process.cpuUsage();
  return { cpuMicros: user + system, served: served.get(id) ?? 0 };
}

process.on('message', async (message) => {
  try {
    const result = message.op === 'start' ? await start(message) : snapshot(message);
    process.send({ seq: message.seq, ok: true, result });
  } catch (error) {
    process.send({ seq: message.seq, ok: false, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
