import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, freePort, root, send, startScript, stop, type App } from './e2e-support.js';
import { startRedis, type RedisServer } from './redis-server.js';

// examples/two-services, run as a user runs it: the auth service (Fastify, two workers sharing
// Redis) signs EdDSA tokens and publishes its keys; the API service (Hono) holds no key and
// verifies them through the auth service's RFC 8414 metadata. Then the signing key is rotated the
// way its README says (write KEYS_FILE, SIGHUP, twice) while clients log in, refresh and call the API.

const script = (name: string) => join(root, 'examples', 'two-services', 'dist', `${name}.js`);
const ALICE = { username: 'alice', password: 'alice-password' };
const ADMIN = { username: 'admin', password: 'admin-password' };

interface Key {
  pem: string;
  kid: string;
}

async function newKey(): Promise<Key> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { pem, kid: await calculateJwkThumbprint(await exportJWK(createPublicKey(privateKey))) };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
}

let redis: RedisServer;
let dir: string;
let keysFile: string;
let auth: App;
let api: App;
let first: Key;
let second: Key;

function writeKeys(key: Key, previous?: Key): void {
  const previousKeys = previous === undefined ? [] : [{ key: previous.pem, retiredAt: new Date().toISOString() }];
  // Written whole, then renamed: a worker starting meanwhile never reads half a file.
  writeFileSync(`${keysFile}.new`, JSON.stringify({ key: key.pem, previousKeys }));
  renameSync(`${keysFile}.new`, keysFile);
}

beforeAll(async () => {
  [first, second] = [await newKey(), await newKey()];
  dir = mkdtempSync(join(tmpdir(), 'jwtauth-two-services-'));
  keysFile = join(dir, 'keys.json');
  writeKeys(first);
  redis = await startRedis();
  // The tokens' iss is the auth service's URL, known before it listens.
  const port = await freePort();
  auth = await startScript(
    script('auth-service'),
    { PORT: String(port), WORKERS: '2', REDIS_URL: redis.url, KEYS_FILE: keysFile, DRAIN_DELAY_MS: '300', LOG_LEVEL: 'info' },
    'two-services/auth',
  );
  api = await startScript(script('api-service'), { AUTH_ISSUER: auth.url, LOG_LEVEL: 'warn' }, 'two-services/api');
}, 60_000);

afterAll(async () => {
  if (api !== undefined) await stop(api.proc, 'SIGTERM');
  if (auth !== undefined) await stop(auth.proc, 'SIGTERM');
  await redis?.close();
  await cleanUp();
  rmSync(dir, { recursive: true, force: true });
});

const login = async (user = ALICE) => send(`${auth.url}/token`, { json: user });
const hello = (token: string) => send(`${api.url}/api/hello`, { bearer: token });

/**
 * A request on a connection of its own (fetch would keep one open, and the cluster primary hands
 * out connections, not requests: a client would stay on one worker throughout). So consecutive
 * requests of one client land on old and new workers alike, as behind a load balancer.
 */
function once(url: string, init: { json?: unknown; bearer?: string } = {}): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const body = init.json === undefined ? undefined : JSON.stringify(init.json);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: body === undefined ? 'GET' : 'POST', headers, agent: false, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // kept as text for the failure message
        }
        resolve({ status: response.statusCode!, text, body: parsed });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within 10 s`)));
    request.on('error', reject);
    request.end(body);
  });
}

describe('examples/two-services', () => {
  it('publishes RFC 8414 metadata and a public JWK Set at the auth service, found by the API through discovery', async () => {
    const metadata = await send(`${auth.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({
      issuer: auth.url,
      jwks_uri: `${auth.url}/.well-known/jwks.json`,
      token_endpoint: `${auth.url}/token`,
      revocation_endpoint: `${auth.url}/token/revoke`,
      grant_types_supported: ['password'],
    });
    const jwks = await send(`${auth.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(jwks.body).toEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: first.kid, alg: 'EdDSA', use: 'sig' }] });
  });

  it("accepts the auth service's access tokens at the API, and refuses its refresh tokens, no token and a missing scope", async () => {
    const tokens = (await login()).body as unknown as Tokens;
    expect(decodeProtectedHeader(tokens.access_token)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: first.kid });
    expect(await hello(tokens.access_token)).toMatchObject({ status: 200, body: { message: 'Hello, alice!', sub: 'alice' } });

    const refresh = await hello(tokens.refresh_token);
    expect(refresh.status).toBe(401);
    expect(refresh.body).toMatchObject({ error: 'invalid_token' });
    expect(refresh.headers.get('www-authenticate')).toMatch(/^Bearer /);

    const none = await send(`${api.url}/api/hello`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body).toMatchObject({ code: 'missing_token' });

    const notAdmin = await send(`${api.url}/api/admin`, { bearer: tokens.access_token });
    expect(notAdmin).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    const admin = (await login(ADMIN)).body as unknown as Tokens;
    expect(await send(`${api.url}/api/admin`, { bearer: admin.access_token })).toMatchObject({ status: 200, body: { message: 'Welcome, admin admin.' } });
  });

  it('rotates the signing key in two SIGHUP steps under load, with no failed login, refresh or API call, and tokens of both keys verified', async () => {
    const before = (await login()).body as unknown as Tokens;
    const failures: string[] = [];
    const kids = new Set<string>();
    let calls = 0;
    let running = true;

    // A client: logs in once, then refreshes and calls the API in a loop, as an app would.
    async function client(user: typeof ALICE): Promise<void> {
      const attempt = async <T>(what: string, request: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await request();
        } catch (error) {
          failures.push(`${what}: ${(error as Error).message}`);
          return undefined;
        }
      };
      let reply = await once(`${auth.url}/token`, { json: user });
      while (running) {
        if (reply.status !== 200) {
          failures.push(`token: ${reply.status} ${reply.text}`);
          reply = (await attempt('login', () => once(`${auth.url}/token`, { json: user }))) ?? reply;
          continue;
        }
        const tokens = reply.body as unknown as Tokens;
        kids.add(String(decodeProtectedHeader(tokens.access_token).kid));
        const called = await attempt('api', () => once(`${api.url}/api/hello`, { bearer: tokens.access_token }));
        calls += 1;
        if (called !== undefined && called.status !== 200) failures.push(`api: ${called.status} ${called.text}`);
        reply = (await attempt('refresh', () => once(`${auth.url}/token/refresh`, { json: { refresh_token: tokens.refresh_token } }))) ?? reply;
      }
    }

    /**
     * The SIGHUP restart is over (the primary's `workers.reloaded` line: every worker serving is a
     * new one), and the auth service publishes `kids`, asked on new connections.
     */
    async function reloaded(times: number, kids: string[]): Promise<void> {
      const deadline = Date.now() + 20_000;
      while ((auth.proc.output().match(/"type":"workers\.reloaded"/g) ?? []).length < times) {
        if (Date.now() > deadline) throw new Error(`the auth service did not restart its workers within 20 s:\n${auth.proc.output().slice(-4000)}`);
        await sleep(50);
      }
      for (let i = 0; i < 8; i += 1) {
        const published = (await once(`${auth.url}/.well-known/jwks.json`)).body.keys as { kid: string }[];
        expect(published.map((jwk) => jwk.kid)).toEqual(kids);
      }
    }

    const clients = [client(ALICE), client(ADMIN), client(ALICE)];
    await sleep(300);

    // Step 1: every worker still signs with the first key and publishes the second.
    writeKeys(first, second);
    auth.proc.child.kill('SIGHUP');
    await reloaded(1, [first.kid, second.kid]);

    // Step 2: every worker signs with the second key and still publishes (and accepts) the first.
    writeKeys(second, first);
    auth.proc.child.kill('SIGHUP');
    await reloaded(2, [second.kid, first.kid]);
    await sleep(500);

    running = false;
    await Promise.all(clients);

    expect(failures, `auth service:\n${auth.proc.output().slice(-4000)}`).toEqual([]);
    expect(calls).toBeGreaterThan(30);
    expect([...kids].sort()).toEqual([first.kid, second.kid].sort());
    // A token of the first key, issued before the rotation: still verified by the API, and refreshed into one of the second key.
    expect((await hello(before.access_token)).status).toBe(200);
    const refreshed = await send(`${auth.url}/token/refresh`, { json: { refresh_token: before.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(decodeProtectedHeader((refreshed.body as unknown as Tokens).access_token).kid).toBe(second.kid);
  }, 60_000);
});
