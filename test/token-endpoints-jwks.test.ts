import { getRequestListener } from '@hono/node-server';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { createAuthenticator, MemoryRevocationStore, type Authenticator } from '@jwtauth/core';
import { tokenRouter } from '@jwtauth/express';
import { tokenEndpoints } from '@jwtauth/fastify';
import { tokenApp } from '@jwtauth/hono';
import { createTokenEndpoints, createTokenIssuer, type PreviousKey, type TokenIssuer } from '@jwtauth/issuer';
import { tokenRoutes } from '@jwtauth/koa';
import express from 'express';
import express4 from 'express4';
import Fastify, { type FastifyRequest } from 'fastify';
import fastify4 from 'fastify4';
import { Hono, type Context as HonoContext } from 'hono';
import { decodeProtectedHeader, exportPKCS8, generateKeyPair } from 'jose';
import Koa, { type Context as KoaContext } from 'koa';
import koa2 from 'koa2';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, rawGet } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// An issuer that signs with a private key publishes its JWK Set and RFC 8414 metadata through each
// adapter's mount, so that another service verifies its tokens with core's `discovery` or
// `jwks: { uri }`, across a signing-key rotation. One list of cases, run over Express, Koa,
// Fastify and Hono (both majors of Express, Koa and Fastify), on real HTTP servers on 127.0.0.1.

const ALICE = { username: 'alice', password: 'alice-password' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const verifyCredentials = (username: string, password: string) => (username === ALICE.username && password === ALICE.password ? { subject: 'alice' } : null);

/** A framework's app over the endpoints: the mount at `mount` ('' for the origin root), and the app's own metadata route when the mount cannot answer it. */
type Build = (issuer: TokenIssuer, publicUrl: string, mount: string) => Promise<{ listener: RequestListener; close?: () => Promise<void> }>;

const expressApp =
  (createApp: typeof express): Build =>
  async (issuer, publicUrl, mount) => {
    const endpoints = createTokenEndpoints<express.Request>({ issuer, verifyCredentials, publicUrl });
    const app = createApp();
    app.use(createApp.json());
    app.use(mount || '/', tokenRouter(endpoints));
    if (mount !== '') {
      app.get(endpoints.metadataPath, (_req, res) => {
        const { status, headers, body } = endpoints.metadata();
        res.status(status).set(headers).json(body);
      });
    }
    return { listener: app };
  };

const koaApp =
  (KoaApp: typeof Koa): Build =>
  async (issuer, publicUrl, mount) => {
    const endpoints = createTokenEndpoints<KoaContext>({ issuer, verifyCredentials, publicUrl });
    const app = new KoaApp();
    app.use(bodyParser());
    app.use(tokenRoutes(endpoints, mount === '' ? {} : { prefix: mount }));
    if (mount !== '') {
      const router = new Router();
      router.get(endpoints.metadataPath, (ctx) => {
        const { status, headers, body } = endpoints.metadata();
        ctx.status = status;
        ctx.set(headers);
        ctx.body = body;
      });
      app.use(router.routes()).use(router.allowedMethods());
    }
    return { listener: app.callback() };
  };

const fastifyApp =
  (createApp: typeof Fastify): Build =>
  async (issuer, publicUrl, mount) => {
    const endpoints = createTokenEndpoints<FastifyRequest>({ issuer, verifyCredentials, publicUrl });
    // The server is ours (it keeps its port across a restart of the app); Fastify gets its requests.
    let handler: RequestListener | undefined;
    const app = createApp({
      serverFactory: (routing) => {
        handler = routing;
        return createServer();
      },
    });
    await app.register(tokenEndpoints, { endpoints, prefix: mount });
    if (mount !== '') {
      app.get(endpoints.metadataPath, async (_request, reply) => {
        const { status, headers, body } = endpoints.metadata();
        return reply.code(status).headers(headers).send(body);
      });
    }
    await app.ready();
    return { listener: (req, res) => handler!(req, res), close: () => app.close() };
  };

const FRAMEWORKS: [string, Build][] = [
  ['Express 5', expressApp(express)],
  ['Express 4', expressApp(express4 as typeof express)],
  ['Koa 3', koaApp(Koa)],
  ['Koa 2', koaApp(koa2 as typeof Koa)],
  ['Fastify 5', fastifyApp(Fastify)],
  ['Fastify 4', fastifyApp(fastify4 as typeof Fastify)],
  [
    'Hono',
    async (issuer, publicUrl, mount) => {
      const endpoints = createTokenEndpoints<HonoContext>({ issuer, verifyCredentials, publicUrl });
      const app = new Hono().route(mount || '/', tokenApp(endpoints));
      if (mount !== '') {
        app.get(endpoints.metadataPath, (c) => {
          const { status, headers, body } = endpoints.metadata();
          return c.json(body, status as 200, headers);
        });
      }
      return { listener: getRequestListener(app.fetch) };
    },
  ],
];

const keyPem = async (alg: string) => exportPKCS8((await generateKeyPair(alg, { extractable: true })).privateKey);

const running: { server: RunningServer; close: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(
    running.splice(0).map(async ({ server, close }) => {
      await close();
      await server.close();
    }),
  );
});

interface Service {
  /** The server's origin, `http://127.0.0.1:<port>`. */
  origin: string;
  /** Where the endpoints are mounted. */
  base: string;
  /** The tokens' `iss`. */
  iss: string;
  issuer: TokenIssuer;
  /** Restarts the app on the same port with another issuer: requests after it reach the new one. */
  restart(options: { key: string; previousKeys?: PreviousKey[] }): Promise<TokenIssuer>;
}

/**
 * An auth service of `build`'s framework: a server on 127.0.0.1 whose port is known before the
 * issuer is made (its `iss` and `publicUrl` are URLs on it), an EdDSA issuer, the endpoints at `mount`.
 */
async function startService(build: Build, { mount = '/auth', issuerPath = '', alg = 'EdDSA' } = {}): Promise<Service> {
  let current: RequestListener = (_req, res) => res.writeHead(503).end();
  let closeApp = async () => {};
  const server = await listen(createServer((req: IncomingMessage, res: ServerResponse) => current(req, res)));
  const origin = server.url;
  const iss = `${origin}${issuerPath}`;
  const store = new MemoryRevocationStore();
  const entry = { server, close: () => closeApp() };
  running.push(entry);

  async function restart({ key, previousKeys }: { key: string; previousKeys?: PreviousKey[] }): Promise<TokenIssuer> {
    const issuer = createTokenIssuer({ key, issuer: iss, store, ...(previousKeys === undefined ? {} : { previousKeys }) });
    const app = await build(issuer, `${origin}${mount}`, mount);
    const previous = closeApp;
    // The new app takes the requests from now on; the old one is closed after (a draining restart).
    current = app.listener;
    closeApp = app.close ?? (async () => {});
    await previous();
    return issuer;
  }
  const issuer = await restart({ key: await keyPem(alg) });
  return { origin, base: `${origin}${mount}`, iss, issuer, restart };
}

async function login(base: string): Promise<{ access_token: string; refresh_token: string }> {
  const response = await fetch(`${base}/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ALICE) });
  expect(response.status).toBe(200);
  return (await response.json()) as { access_token: string; refresh_token: string };
}

/** What a verifying service's core authenticator answers for the token: 'ok' or the error code. */
async function verdict(authenticator: Authenticator, token: string): Promise<string> {
  const result = await authenticator.authenticate(new Request('http://127.0.0.1/api', { headers: { Authorization: `Bearer ${token}` } }), null);
  return result.ok ? 'ok' : result.error.code;
}

/** The verifiers of another service: one finds the keys through the metadata, one is given the JWK Set's URL. */
function verifiers(service: Service): [string, Authenticator][] {
  return [
    ['discovery', createAuthenticator({ issuer: service.iss, discovery: true })],
    ['jwks.uri', createAuthenticator({ issuer: service.iss, jwks: { uri: `${service.base}/.well-known/jwks.json` } })],
  ];
}

describe.each(FRAMEWORKS)('%s: the JWK Set and metadata of an asymmetric issuer', (_name, build) => {
  it("serves GET <mount>/.well-known/jwks.json: 200, application/jwk-set+json, public max-age=300, the issuer's public keys only; HEAD alike without body", async () => {
    const service = await startService(build);
    const response = await fetch(`${service.base}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const set = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(set).toEqual(await service.issuer.jwks());
    expect(set.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' }]);
    for (const member of PRIVATE_MEMBERS) expect(set.keys[0]).not.toHaveProperty(member);

    const head = await fetch(`${service.base}/.well-known/jwks.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(head.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await head.text()).toBe('');
  });

  it("answers other methods on the JWK Set's path with the mount's usual 404", async () => {
    const service = await startService(build);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(`${service.base}/.well-known/jwks.json`, { method, headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(response.status, method).toBe(404);
    }
  });

  it('serves the RFC 8414 metadata where the app routes endpoints.metadataPath, with URLs from publicUrl whatever the Host header says', async () => {
    const service = await startService(build);
    const expected = {
      issuer: service.iss,
      jwks_uri: `${service.base}/.well-known/jwks.json`,
      token_endpoint: `${service.base}/token`,
      revocation_endpoint: `${service.base}/token/revoke`,
      response_types_supported: [],
      grant_types_supported: ['password'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
    };
    const response = await fetch(`${service.origin}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(expected);
    // A forged Host (cache poisoning) changes nothing: the URLs are configuration.
    const forged = await rawGet(service.origin, '/.well-known/oauth-authorization-server', { Host: 'evil.example' });
    expect(forged).toEqual({ status: 200, body: expected });
  });

  it("lets a mount at the root of the issuer's origin answer the metadata itself, for an issuer with a path", async () => {
    const service = await startService(build, { mount: '', issuerPath: '/tenant' });
    const response = await fetch(`${service.origin}/.well-known/oauth-authorization-server/tenant`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ issuer: `${service.origin}/tenant`, jwks_uri: `${service.origin}/.well-known/jwks.json` });
    const { access_token } = await login(service.base);
    const [[, discovery]] = verifiers(service) as [[string, Authenticator]];
    expect(await verdict(discovery, access_token)).toBe('ok');
  });

  it.each(['RS256', 'ES256', 'EdDSA'])('lets another service verify the %s access tokens with discovery and with jwks.uri, and nothing else', async (alg) => {
    const service = await startService(build, { alg });
    const { access_token, refresh_token } = await login(service.base);
    const stranger = createTokenIssuer({ key: await keyPem(alg), issuer: service.iss });
    const forged = (await stranger.issue('alice')).accessToken;
    for (const [how, authenticator] of verifiers(service)) {
      expect(await verdict(authenticator, access_token), how).toBe('ok');
      expect(await verdict(authenticator, forged), how).toBe('invalid_signature');
      // A refresh token is no access token anywhere (core refuses it by its token_type).
      expect(await verdict(authenticator, refresh_token), how).toBe('wrong_token_type');
    }
  });

  it('keeps every token verifying across a signing-key rotation: old and new tokens, through verifiers that cached the old set, with no failed request', async () => {
    const service = await startService(build);
    const oldKey = await keyPem('EdDSA');
    await service.restart({ key: oldKey });
    const before = await login(service.base);
    const checks = verifiers(service);
    for (const [how, authenticator] of checks) expect(await verdict(authenticator, before.access_token), how).toBe('ok');

    // Requests keep coming while the service restarts with a new key, the old one retired now.
    const during: Promise<string>[] = [];
    const traffic = setInterval(() => {
      for (const [, authenticator] of checks) during.push(verdict(authenticator, before.access_token));
      during.push(fetch(`${service.base}/.well-known/jwks.json`).then((response) => (response.status === 200 ? 'ok' : String(response.status))));
    }, 5);
    const issuer = await service.restart({ key: await keyPem('EdDSA'), previousKeys: [{ key: oldKey, retiredAt: new Date() }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(traffic);
    expect(new Set(await Promise.all(during))).toEqual(new Set(['ok']));

    const published = (await (await fetch(`${service.base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const newKid = published.keys[0]!.kid;
    expect(published.keys.map((key) => key.kid)).toEqual([newKid, decodeProtectedHeader(before.access_token).kid]);

    const after = await login(service.base);
    expect(decodeProtectedHeader(after.access_token).kid).toBe(newKid);
    // A refresh token of the old key still refreshes, into tokens of the new key.
    const refreshed = await fetch(`${service.base}/token/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: before.refresh_token }),
    });
    expect(refreshed.status).toBe(200);
    const rotated = ((await refreshed.json()) as { access_token: string }).access_token;
    expect(decodeProtectedHeader(rotated).kid).toBe(newKid);
    for (const [how, authenticator] of checks) {
      expect(await verdict(authenticator, before.access_token), how).toBe('ok');
      expect(await verdict(authenticator, after.access_token), how).toBe('ok');
      expect(await verdict(authenticator, rotated), how).toBe('ok');
    }
    expect((await issuer.verify(before.access_token)).ok).toBe(true);
  });

  it('publishes nothing for an HMAC issuer: the JWK Set path is a 404', async () => {
    // Assigned below, once the app is built (the server must listen first to give its URL).
    // eslint-disable-next-line prefer-const -- reported although `listener = app.listener` follows
    let listener: RequestListener | undefined;
    const server = await listen(createServer((req, res) => listener!(req, res)));
    const issuer = createTokenIssuer({ key: 'an-hmac-secret-that-is-long-enough-for-hs256!' });
    // Without publicUrl: an HMAC issuer has no metadata to give (publicUrl would be a TypeError).
    const endpoints = createTokenEndpoints({ issuer, verifyCredentials });
    expect(() => createTokenEndpoints({ issuer, verifyCredentials, publicUrl: server.url })).toThrow(TypeError);
    const app = await buildWithout(build, endpoints, issuer);
    listener = app.listener;
    running.push({ server, close: app.close ?? (async () => {}) });
    const response = await fetch(`${server.url}/auth/.well-known/jwks.json`);
    expect(response.status).toBe(404);
  });
});

/** The framework's app for endpoints without metadata: the builders need a publicUrl, so this mounts the given endpoints directly. */
async function buildWithout(
  build: Build,
  endpoints: ReturnType<typeof createTokenEndpoints>,
  _issuer: TokenIssuer,
): Promise<{ listener: RequestListener; close?: () => Promise<void> }> {
  const name = FRAMEWORKS.find(([, candidate]) => candidate === build)![0];
  switch (name.split(' ')[0]) {
    case 'Express': {
      const app = express();
      app.use('/auth', tokenRouter(endpoints as Parameters<typeof tokenRouter>[0]));
      return { listener: app };
    }
    case 'Koa': {
      const app = new Koa();
      app.use(tokenRoutes(endpoints as Parameters<typeof tokenRoutes>[0], { prefix: '/auth' }));
      return { listener: app.callback() };
    }
    case 'Fastify': {
      let handler: RequestListener | undefined;
      const app = Fastify({ serverFactory: (routing) => ((handler = routing), createServer()) });
      await app.register(tokenEndpoints, { endpoints: endpoints, prefix: '/auth' });
      await app.ready();
      return { listener: (req, res) => handler!(req, res), close: () => app.close() };
    }
    default:
      return { listener: getRequestListener(new Hono().route('/auth', tokenApp(endpoints as Parameters<typeof tokenApp>[0])).fetch) };
  }
}
