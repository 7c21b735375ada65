// Throughput of each @jwtauth adapter against its framework's usual JWT middleware, measured in
// the same process and the same run, reported as a ratio. Requests are injected in-process
// (light-my-request for the Node frameworks, app.request() for Hono), so the numbers compare
// middleware plus framework cost without socket noise. Run: pnpm --filter @jwtauth/bench bench
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as honoJwtAuth } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import fastifyJwt from '@fastify/jwt';
import express from 'express';
import { expressjwt } from 'express-jwt';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { jwt as honoJwt } from 'hono/jwt';
import { SignJWT } from 'jose';
import Koa from 'koa';
import koaJwt from 'koa-jwt';
import inject from 'light-my-request';
import { Bench } from 'tinybench';

const SECRET = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const key = new TextEncoder().encode(SECRET);
const now = Math.floor(Date.now() / 1000);
const valid = await new SignJWT({ sub: 'alice', scope: 'read', iat: now, exp: now + 3600 }).setProtectedHeader({ alg: 'HS256' }).sign(key);
const forged = `${valid.slice(0, valid.lastIndexOf('.'))}.${'A'.repeat(43)}`;
const time = Number(process.env.BENCH_TIME_MS ?? 1500);

function expressApp(middleware, read) {
  const app = express();
  app.use(middleware);
  app.get('/', (req, res) => res.json({ sub: read(req) }));
  app.use((err, _req, res, _next) => res.status(err.status ?? 401).json({ error: 'unauthorized' }));
  return app;
}

function koaApp(middleware) {
  const app = new Koa();
  app.silent = true;
  app.use(middleware);
  app.use((ctx) => {
    ctx.body = { sub: ctx.state.auth?.payload.sub ?? ctx.state.user?.sub };
  });
  return app.callback();
}

async function fastifyApp(register) {
  const app = Fastify();
  await register(app);
  app.get('/', async (request) => ({ sub: request.auth?.payload.sub ?? request.user?.sub }));
  await app.ready();
  return app;
}

/** Our four apps, with the default options or with extra ones (the verified-token cache off). */
const oursWith = async (extra) => {
  const options = { secret: SECRET, algorithms: ['HS256'], ...extra };
  return {
    express: expressApp(expressJwtAuth(options), (req) => req.auth.payload.sub),
    koa: koaApp(koaJwtAuth(options)),
    fastify: await fastifyApp((app) => app.register(fastifyJwtAuth, options)),
    hono: new Hono().use('*', honoJwtAuth(options)).get('/', (c) => c.json({ sub: c.get('auth').payload.sub })),
  };
};
const ours = await oursWith({});
const oursUncached = await oursWith({ cache: false });
const peers = {
  express: expressApp(expressjwt({ secret: SECRET, algorithms: ['HS256'] }), (req) => req.auth.sub),
  koa: koaApp(koaJwt({ secret: SECRET, algorithms: ['HS256'] })),
  fastify: await fastifyApp(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET, verify: { algorithms: ['HS256'] } });
    app.addHook('onRequest', async (request, reply) => {
      try {
        await request.jwtVerify();
      } catch {
        return reply.code(401).send({ error: 'unauthorized' });
      }
    });
  }),
  hono: new Hono().use('*', honoJwt({ secret: SECRET, alg: 'HS256' })).get('/', (c) => c.json({ sub: c.get('jwtPayload').sub })),
};
const PEER_NAMES = { express: 'express-jwt 8', koa: 'koa-jwt 4', fastify: '@fastify/jwt 10', hono: 'hono/jwt' };

function send(app, token) {
  const headers = { authorization: `Bearer ${token}` };
  if (app instanceof Hono) return app.request('/', { headers });
  if (typeof app.inject === 'function') return app.inject({ url: '/', headers });
  return inject(app, { url: '/', headers });
}

async function statusOf(app, token) {
  const res = await send(app, token);
  return res.status ?? res.statusCode;
}

const rows = [];
for (const framework of Object.keys(ours)) {
  for (const [scenario, token, expected] of [
    ['valid token', valid, 200],
    ['forged signature', forged, 401],
  ]) {
    for (const app of [ours[framework], oursUncached[framework], peers[framework]]) {
      const status = await statusOf(app, token);
      if (status !== expected) throw new Error(`${framework} ${scenario}: expected ${expected}, got ${status}`);
    }
    const bench = new Bench({ time, warmupTime: 300 });
    bench
      .add('ours', () => send(ours[framework], token))
      .add('ours, cache off', () => send(oursUncached[framework], token))
      .add('peer', () => send(peers[framework], token));
    await bench.run();
    const [mine, uncached, theirs] = bench.tasks.map((task) => task.result.throughput.mean);
    rows.push({
      framework,
      peer: PEER_NAMES[framework],
      scenario,
      'ours req/s': Math.round(mine),
      'cache off req/s': Math.round(uncached),
      'peer req/s': Math.round(theirs),
      ratio: `${(mine / theirs).toFixed(2)}x`,
      'ratio, cache off': `${(uncached / theirs).toFixed(2)}x`,
    });
  }
}
console.table(rows);
console.log('ratio = @jwtauth throughput / peer throughput, same process, same run (higher is better); "cache off" is @jwtauth with cache: false.');
