import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as honoJwtAuth } from '@jwtauth/hono';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';
import { HS_SECRET } from './fixtures.js';

// With forwardErrors and no error handler of the user's, each framework's own default handler
// answers: the AuthError's http-errors shape (status, headers, expose) must carry the challenge.
const options = { secret: HS_SECRET, forwardErrors: true } as const;
const silent = () => {};

const servers: Record<string, () => Promise<RunningServer>> = {
  express: () => {
    const app = express();
    app.use(expressJwtAuth(options));
    app.get('/protected', (_req, res) => {
      res.json({ ok: true });
    });
    return listen(createServer(app));
  },
  koa: () => {
    const app = new Koa();
    app.silent = true;
    app.use(koaJwtAuth(options));
    app.use((ctx) => {
      ctx.body = { ok: true };
    });
    return listen(createServer(app.callback()));
  },
  fastify: async () => {
    const app = Fastify({ logger: false });
    await app.register(fastifyJwtAuth, options);
    app.get('/protected', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  hono: () => {
    const app = new Hono();
    app.use('*', honoJwtAuth(options));
    app.get('/protected', (c) => c.json({ ok: true }));
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
        resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((done) => server.close(() => done())) });
      });
    });
  },
};

describe.each(Object.entries(servers))('forwardErrors with the default error handler of %s', (_name, start) => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('answers 401 with the Bearer challenge', async () => {
    const original = console.error;
    console.error = silent;
    try {
      server = await start();
      const res = await request(server.url).get('/protected').set('Authorization', 'Bearer not-a-jwt');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="The token is not a well-formed JWT"');
      expect(res.text).toContain('The token is not a well-formed JWT');
      expect(res.text).not.toContain('not-a-jwt');
    } finally {
      console.error = original;
    }
  });
});
