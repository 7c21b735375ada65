import { getRequestListener } from '@hono/node-server';
import * as expressAdapter from '@jwtauth/express';
import * as fastifyAdapter from '@jwtauth/fastify';
import * as honoAdapter from '@jwtauth/hono';
import * as koaAdapter from '@jwtauth/koa';
import type { JwtAuthOptions, JWTPayload } from '@jwtauth/core';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import fastify4 from 'fastify4';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import Koa from 'koa';
import koa2 from 'koa2';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, listenFastify } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// RFC 9728 through every adapter: `jwtAuth({ resource })` in front of `GET /mcp`, and the adapter's
// `protectedResourceMetadata(options)` mount serving the metadata at the path-suffixed and the
// root well-known URL. The wire must be the same from all of them.

const SECRET = 'resource-metadata-test-secret-0123456789abcdef';
const RESOURCE = 'http://127.0.0.1/mcp';
const METADATA_URL = 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp';
const options = {
  secret: SECRET,
  resource: { resource: RESOURCE, authorizationServers: ['https://auth.example'], scopesSupported: ['tools'] },
} satisfies JwtAuthOptions<JWTPayload, unknown, never>;

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'agent-1', exp: Math.floor(Date.now() / 1000) + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));

type Start = () => Promise<RunningServer>;

const expressApp =
  (create: typeof express): Start =>
  async () => {
    const app = create();
    app.use(expressAdapter.protectedResourceMetadata(options));
    app.get('/mcp', expressAdapter.jwtAuth(options), (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    return listen(createServer(app));
  };

const koaApp =
  (KoaApp: typeof Koa): Start =>
  async () => {
    const app = new KoaApp();
    app.use(koaAdapter.protectedResourceMetadata(options));
    const authenticate = koaAdapter.jwtAuth(options);
    app.use(async (ctx, next) => {
      if (ctx.path !== '/mcp') {
        await next();
        return;
      }
      await authenticate(ctx, async () => {
        ctx.body = { sub: (ctx.state as koaAdapter.JwtAuthState).auth?.payload.sub };
      });
    });
    return listen(createServer(app.callback()));
  };

const fastifyApp =
  (create: typeof Fastify): Start =>
  async () => {
    const app = create();
    await app.register(fastifyAdapter.protectedResourceMetadata, options);
    await app.register(async (scope) => {
      await scope.register(fastifyAdapter.jwtAuth, options);
      scope.get('/mcp', async (request) => ({ sub: request.auth?.payload.sub }));
    });
    return listenFastify(app);
  };

const honoApp: Start = async () => {
  const app = new Hono<honoAdapter.JwtAuthEnv>();
  app.route('/', honoAdapter.protectedResourceMetadata(options));
  app.get('/mcp', honoAdapter.jwtAuth(options), (c) => c.json({ sub: c.get('auth')?.payload.sub }));
  return listen(createServer(getRequestListener(app.fetch)));
};

const frameworks: [string, Start][] = [
  ['express', expressApp(express)],
  ['express4', expressApp(express4 as typeof express)],
  ['koa', koaApp(Koa)],
  ['koa2', koaApp(koa2 as typeof Koa)],
  ['fastify', fastifyApp(Fastify)],
  ['fastify4', fastifyApp(fastify4 as typeof Fastify)],
  ['hono', honoApp],
];

interface Wire {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Wire> {
  const response = await fetch(url, init);
  const headers = Object.fromEntries(['content-type', 'cache-control', 'www-authenticate'].map((name) => [name, response.headers.get(name)]));
  return { status: response.status, headers, body: await response.text() };
}

const servers = new Map<string, RunningServer>();
beforeAll(async () => {
  for (const [name, start] of frameworks) servers.set(name, await start());
});
afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.close()));
});

const DOCUMENT = {
  resource: RESOURCE,
  authorization_servers: ['https://auth.example'],
  scopes_supported: ['tools'],
  bearer_methods_supported: ['header'],
};

describe.each(frameworks)('%s', (name) => {
  const url = () => servers.get(name)!.url;

  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])(
    'serves the metadata at %s: 200, application/json, an hour of caching',
    async (path) => {
      const answer = await call(`${url()}${path}`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.headers['cache-control']).toBe('public, max-age=3600');
      expect(JSON.parse(answer.body)).toEqual(DOCUMENT);
      const head = await call(`${url()}${path}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
    },
  );

  it('points every 401 at the metadata: no token, and a token for another audience', async () => {
    const none = await call(`${url()}/mcp`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
    const other = await call(`${url()}/mcp`, { headers: { authorization: `Bearer ${await sign({ aud: 'https://other.example' })}` } });
    expect(other.status).toBe(401);
    expect(JSON.parse(other.body)).toMatchObject({ error: 'invalid_token', code: 'claim_invalid' });
    expect(other.headers['www-authenticate']).toMatch(
      new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${METADATA_URL.replace(/[.?]/g, '\\$&')}"$`),
    );
  });

  it('accepts a token whose aud names the resource', async () => {
    const answer = await call(`${url()}/mcp`, { headers: { authorization: `Bearer ${await sign({ aud: RESOURCE })}` } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ sub: 'agent-1' });
  });

  it('leaves other well-known paths and methods to the app (404)', async () => {
    expect((await call(`${url()}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
    expect((await call(`${url()}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' })).status).toBe(404);
  });
});

describe('every adapter', () => {
  it('answers the metadata and the challenges byte for byte the same', async () => {
    const token = await sign({ aud: 'https://other.example' });
    const transcript = async (base: string) => [
      await call(`${base}/.well-known/oauth-protected-resource/mcp`),
      await call(`${base}/mcp`),
      await call(`${base}/mcp`, { headers: { authorization: `Bearer ${token}` } }),
    ];
    const [first, ...rest] = [...servers.values()];
    const reference = await transcript(first!.url);
    for (const server of rest) expect(await transcript(server.url)).toEqual(reference);
  });

  it('refuses a bad resource at creation with a TypeError that says what to fix', () => {
    const bad = { resource: { resource: 'http://api.example/mcp' } };
    expect(() => expressAdapter.protectedResourceMetadata(bad)).toThrow(/protectedResourceMetadata: "resource.resource" must be an https URL/);
    expect(() => koaAdapter.protectedResourceMetadata(bad)).toThrow(TypeError);
    expect(() => honoAdapter.protectedResourceMetadata(bad)).toThrow(TypeError);
    expect(() => expressAdapter.jwtAuth({ secret: SECRET, ...bad })).toThrow(/jwtAuth: "resource.resource" must be an https URL/);
  });

  it('rejects app.ready() of Fastify with the TypeError', async () => {
    const app = Fastify();
    await expect(app.register(fastifyAdapter.protectedResourceMetadata, { resource: { resource: 'ftp://x' } }).ready()).rejects.toThrow(TypeError);
  });
});
