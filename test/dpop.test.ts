import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtAuth as expressJwtAuth } from '@jwtauth/express';
import { jwtAuth as fastifyJwtAuth } from '@jwtauth/fastify';
import { jwtAuth as koaJwtAuth } from '@jwtauth/koa';
import { createRedisStore } from '@jwtauth/redis';
import express from 'express';
import express4 from 'express4';
import fastify from 'fastify';
import fastify4 from 'fastify4';
import type Redis from 'ioredis';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Koa from 'koa';
import koa2 from 'koa2';
import type { RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, now, sign } from './fixtures.js';
import { harnesses, type RunningServer } from './harness/index.js';
import { listen, listenFastify } from './harness/listen.js';
import { connectBothClients, startRedis, type RedisServer } from './redis-server.js';

// DPoP (RFC 9449) where the conformance cases cannot reach: the URL each framework derives for
// `htu` by itself (behind a proxy it trusts, or not), and replay detection shared by two
// instances through Redis. test/cases-dpop.ts holds the answers every adapter gives.

let privateKey: CryptoKey;
let jwk: JWK;
let jkt: string;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  jkt = await calculateJwkThumbprint(jwk);
});

async function proofFor(htu: string, token: string, htm = 'GET'): Promise<string> {
  const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
  return new SignJWT({ jti: randomUUID(), htm, htu, iat: now(), ath }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);
}
const boundToken = () => sign({ cnf: { jkt } });

async function call(url: string, token: string, proof: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { Authorization: `DPoP ${token}`, DPoP: proof, ...headers }, signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { code?: string; auth?: { dpop?: { jkt: string } } };
  return { status: response.status, code: body.code, jkt: body.auth?.dpop?.jkt, challenge: response.headers.get('www-authenticate') };
}

describe.each(harnesses.map((h) => [h.name, h] as const))('%s: htu from the URL the framework sees', (_name, harness) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ secret: HS_SECRET, dpop: {} });
  });
  afterAll(() => server?.close());

  it('accepts a proof for the scheme, host and port the request came to', async () => {
    const token = await boundToken();
    expect(await call(`${server.url}/protected?x=1`, token, await proofFor(`${server.url}/protected`, token))).toMatchObject({ status: 200, jkt });
  });

  it('refuses a proof for another port, another host or https', async () => {
    const token = await boundToken();
    const { port } = new URL(server.url);
    for (const htu of [`http://127.0.0.1:${Number(port) + 1}/protected`, `http://localhost:${port}/protected`, `https://127.0.0.1:${port}/protected`]) {
      expect(await call(`${server.url}/protected`, token, await proofFor(htu, token))).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
    }
  });
});

/** A minimal app per framework, with its own proxy trust, answering `{ auth }` at /protected. */
const PROXIED: Array<[string, (trust: boolean) => Promise<RunningServer>]> = [
  ...(
    [
      ['express 5', express],
      ['express 4', express4 as typeof express],
    ] as const
  ).map(([name, make]): [string, (trust: boolean) => Promise<RunningServer>] => [
    name,
    (trust) => {
      const app = make();
      app.set('trust proxy', trust);
      app.use(expressJwtAuth({ secret: HS_SECRET, dpop: {} }));
      app.get('/protected', (req, res) => void res.json({ auth: req.auth }));
      return listen(createServer(app));
    },
  ]),
  ...(
    [
      ['koa 3', Koa],
      ['koa 2', koa2 as typeof Koa],
    ] as const
  ).map(([name, Make]): [string, (trust: boolean) => Promise<RunningServer>] => [
    name,
    (trust) => {
      const app = new Make({ proxy: trust });
      app.use(koaJwtAuth({ secret: HS_SECRET, dpop: {} }));
      app.use((ctx) => {
        ctx.body = { auth: ctx.state.auth };
      });
      return listen(createServer(app.callback()));
    },
  ]),
  ...(
    [
      ['fastify 5', fastify],
      ['fastify 4', fastify4 as typeof fastify],
    ] as const
  ).map(([name, make]): [string, (trust: boolean) => Promise<RunningServer>] => [
    name,
    async (trust) => {
      const app = make({ trustProxy: trust });
      await app.register(fastifyJwtAuth, { secret: HS_SECRET, dpop: {} });
      app.get('/protected', async (request) => ({ auth: request.auth }));
      return listenFastify(app);
    },
  ]),
];

describe.each(PROXIED)('%s behind a proxy', (_name, start) => {
  const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'api.example' };

  it('with the proxy trusted, checks htu against the forwarded scheme and host', async () => {
    const server = await start(true);
    try {
      const token = await boundToken();
      expect(await call(`${server.url}/protected`, token, await proofFor('https://api.example/protected', token), forwarded)).toMatchObject({
        status: 200,
        jkt,
      });
      expect(await call(`${server.url}/protected`, token, await proofFor(`${server.url}/protected`, token), forwarded)).toMatchObject({
        status: 401,
        code: 'invalid_dpop_proof',
      });
    } finally {
      await server.close();
    }
  });

  it('with the proxy not trusted, ignores the forwarded headers', async () => {
    const server = await start(false);
    try {
      const token = await boundToken();
      expect(await call(`${server.url}/protected`, token, await proofFor('https://api.example/protected', token), forwarded)).toMatchObject({
        status: 401,
        code: 'invalid_dpop_proof',
      });
      expect(await call(`${server.url}/protected`, token, await proofFor(`${server.url}/protected`, token), forwarded)).toMatchObject({ status: 200, jkt });
    } finally {
      await server.close();
    }
  });
});

describe.each(harnesses.map((h) => [h.name, h] as const))('%s: two instances share proof replay detection through Redis', (_name, harness) => {
  const ORIGIN = 'https://api.example';
  let redis: RedisServer;
  let clients: Awaited<ReturnType<typeof connectBothClients>>;
  let nodeRedis: RedisClientType;
  let ioredis: Redis;
  let instanceA: RunningServer;
  let instanceB: RunningServer;

  beforeAll(async () => {
    redis = await startRedis();
    clients = await connectBothClients(redis.url);
    ({ nodeRedis, ioredis } = clients);
    instanceA = await harness.start({ secret: HS_SECRET, dpop: { origin: ORIGIN, replayStore: createRedisStore({ client: nodeRedis }) } });
    instanceB = await harness.start({ secret: HS_SECRET, dpop: { origin: ORIGIN, replayStore: createRedisStore({ client: ioredis }) } });
  });
  afterAll(async () => {
    await instanceA?.close();
    await instanceB?.close();
    clients?.close();
    await redis?.close();
  });

  it('a proof accepted by one instance is refused by the other, and by itself', async () => {
    const token = await boundToken();
    const proof = await proofFor(`${ORIGIN}/protected`, token);
    expect(await call(`${instanceA.url}/protected`, token, proof)).toMatchObject({ status: 200, jkt });
    expect(await call(`${instanceB.url}/protected`, token, proof)).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
    expect(await call(`${instanceA.url}/protected`, token, proof)).toMatchObject({ status: 401, code: 'invalid_dpop_proof' });
  });

  it('the same proof sent to both at once is accepted exactly once', async () => {
    const token = await boundToken();
    const proof = await proofFor(`${ORIGIN}/protected`, token);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${(i % 2 === 0 ? instanceA : instanceB).url}/protected`, token, proof)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.code === 'invalid_dpop_proof')).toHaveLength(9);
  });

  it('Redis down: a DPoP request is answered 503 store_unavailable, a Bearer one is not affected; back up: accepted again', async () => {
    await redis.stop();
    try {
      const token = await boundToken();
      const down = await fetch(`${instanceA.url}/protected`, {
        headers: { Authorization: `DPoP ${token}`, DPoP: await proofFor(`${ORIGIN}/protected`, token) },
        signal: AbortSignal.timeout(10_000),
      });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(await down.json()).toMatchObject({ error: 'temporarily_unavailable', code: 'store_unavailable' });
      const bearer = await fetch(`${instanceA.url}/protected`, { headers: { Authorization: `Bearer ${await sign({})}` }, signal: AbortSignal.timeout(10_000) });
      expect(bearer.status).toBe(200);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      const token = await boundToken();
      status = (await call(`${instanceA.url}/protected`, token, await proofFor(`${ORIGIN}/protected`, token))).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
