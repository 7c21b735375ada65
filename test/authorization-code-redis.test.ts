import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { tokenRouter } from '@jwtauth/express';
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import { createRedisStore } from '@jwtauth/redis';
import express from 'express';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET } from './fixtures.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';
import { startRedis, type RedisServer } from './redis-server.js';

// Two instances of the issuer behind one Redis: a code is used once across both (markUsed is one
// SET NX EXAT), whichever instance signed it in and whichever exchanges it.

const ISSUER = 'http://127.0.0.1/issuer';
const REDIRECT = 'http://127.0.0.1:33418/callback';

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
const instances: RunningServer[] = [];

async function instance(): Promise<string> {
  const issuer = createTokenIssuer({ key: HS_SECRET, issuer: ISSUER, store: createRedisStore({ client }) });
  const endpoints = createTokenEndpoints<express.Request>({
    issuer,
    verifyCredentials: (username, password) => (username === 'alice' && password === 'alice-password' ? { subject: 'alice' } : null),
    authorization: { clients: [{ clientId: 'mcp-client', redirectUris: [REDIRECT] }] },
  });
  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use('/auth', tokenRouter(endpoints));
  const server = await listen(createServer(app));
  instances.push(server);
  return `${server.url}/auth`;
}

beforeAll(async () => {
  redis = await startRedis();
  client = createClient({ url: redis.url });
  await client.connect();
});
afterAll(async () => {
  await Promise.all(instances.map((server) => server.close()));
  await client?.quit();
  await redis?.close();
});

async function codeFrom(mount: string, challenge: string): Promise<string> {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'mcp-client',
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const html = await (await fetch(`${mount}/authorize?${query}`)).text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const signedIn = await fetch(`${mount}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, username: 'alice', password: 'alice-password' }).toString(),
  });
  expect(signedIn.status).toBe(302);
  return new URL(signedIn.headers.get('location')!).searchParams.get('code')!;
}

function exchange(mount: string, code: string, verifier: string) {
  return fetch(`${mount}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: 'mcp-client' }).toString(),
  });
}

describe('authorization codes across instances sharing @jwtauth/redis', () => {
  it('exchanges a code once, at any instance, concurrent exchanges included', async () => {
    const [a, b] = [await instance(), await instance()];
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');

    const code = await codeFrom(a, challenge);
    expect((await exchange(b, code, verifier)).status).toBe(200);
    const again = await exchange(a, code, verifier);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant', error_description: 'The code has already been used' });

    const racing = await codeFrom(b, challenge);
    const statuses = (await Promise.all([a, b, a, b].map((mount) => exchange(mount, racing, verifier)))).map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(3);
  });
});
