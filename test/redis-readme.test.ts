import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { createClient } from 'redis';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './redis-server.js';

// test/readme-snippets.test.ts runs every README snippet without Redis (REDIS_URL unset: the
// snippets of packages/redis/README.md then keep the memory store, or touch no Redis). This file
// runs them again as their readers will, with REDIS_URL naming a real redis-server, and checks that
// what they show reaches Redis: a logout is a key there, a refresh a session state, a key written
// there refuses a token. Built packages are used (`pnpm build`), as in the other snippet test.

const root = fileURLToPath(new URL('..', import.meta.url));
const README = 'packages/redis/README.md';
const SECRET = randomBytes(36).toString('base64url');
const key = new TextEncoder().encode(SECRET);

/** The ```ts blocks of the README, by a piece of code each contains. */
function snippet(containing: string): string {
  const blocks = [...readFileSync(join(root, README), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  const found = blocks.filter((block) => block.includes(containing));
  if (found.length !== 1) throw new Error(`${README}: ${found.length} snippets contain ${containing}`);
  return found[0]!;
}

/** Compiles TypeScript to an ES module in `dir` (under test/node_modules, so that packages resolve as in a user's project). */
function compile(dir: string, name: string, code: string): string {
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  });
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, outputText);
  return path;
}

/** An access or refresh token as the issuer of the snippets makes them (same key, same claims). */
async function token(type: 'access' | 'refresh', sid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', sid, auth_time: now, token_type: type, ...(type === 'refresh' ? { gen: 0 } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: type === 'access' ? 'at+jwt' : 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(key);
}

async function call(url: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    ...init,
    headers,
    body: init.json === undefined ? null : JSON.stringify(init.json),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

let dir: string;
let redis: RedisServer;
let look: ReturnType<typeof createClient>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(join(root, 'packages/redis/dist/index.js'))) throw new Error('packages/redis/dist is missing: run pnpm build first');
  const cache = join(root, 'test/node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'redis-readme-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  redis = await startRedis();
  look = createClient({ url: redis.url });
  look.on('error', () => {});
  await look.connect();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  look?.destroy();
  await redis?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Runs a serving snippet with the README runner (listen() moved to a free port), REDIS_URL set. */
async function serve(name: string, code: string): Promise<{ url: string; output: () => string }> {
  const runner = compile(dir, 'readme-snippet-runner', readFileSync(join(root, 'test/harness/readme-snippet-runner.ts'), 'utf8'));
  const script = compile(dir, name, code);
  const child = spawn(process.execPath, [runner, script], {
    cwd: dir,
    env: { ...process.env, JWT_SECRET: SECRET, REDIS_URL: redis.url },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 15_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { ports: number[] }).ports);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${output}`)));
  });
  return { url: `http://127.0.0.1:${ports[0]}`, output: () => output };
}

describe(`${README} with REDIS_URL set`, () => {
  it('the node-redis example keeps logouts and refreshes in Redis, and answers 503 while Redis is away', { timeout: 60_000 }, async () => {
    const app = await serve('node-redis', snippet('createClient({ url: process.env.REDIS_URL })'));
    expect(app.output()).not.toMatch(/REDIS_URL is not set/);

    const sid = randomUUID();
    const access = await token('access', sid);
    expect(await call(`${app.url}/me`, { token: access })).toMatchObject({ status: 200, body: { sub: 'alice' } });
    expect(await call(`${app.url}/token/revoke`, { method: 'POST', json: { token: access } })).toMatchObject({ status: 200, body: { revoked: true } });
    expect(await look.exists(`jwtauth:{${sid}}:revoked`)).toBe(1);
    expect(await call(`${app.url}/me`, { token: access })).toMatchObject({ status: 401, body: { code: 'token_revoked' } });

    const session = randomUUID();
    const refreshed = await call(`${app.url}/token/refresh`, { method: 'POST', json: { refresh_token: await token('refresh', session) } });
    expect(refreshed.status).toBe(200);
    expect(String(await look.get(`jwtauth:{${session}}:session`))).toMatch(/^1:\d+:\d+$/);
    expect(await call(`${app.url}/me`, { token: String(refreshed.body!.accessToken) })).toMatchObject({ status: 200 });

    await redis.stop();
    try {
      const answer = await call(`${app.url}/me`, { token: await token('access', randomUUID()) });
      expect(answer).toMatchObject({ status: 503, body: { code: 'store_unavailable' } });
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(await call(`${app.url}/token/revoke`, { method: 'POST', json: { token: access } })).toMatchObject({
        status: 503,
        body: { code: 'store_unavailable' },
      });
    } finally {
      await redis.start();
    }
  });

  it('the ioredis example checks tokens against the keys of its prefix', { timeout: 60_000 }, async () => {
    const app = await serve('ioredis', snippet("from 'ioredis'"));
    const sid = randomUUID();
    const access = await token('access', sid);
    expect(await call(`${app.url}/api/me`, { token: access })).toMatchObject({ status: 200, body: { sub: 'alice' } });
    await look.set(`shop-api:{${sid}}:revoked`, '1', { PX: 60_000 });
    expect(await call(`${app.url}/api/me`, { token: access })).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
    expect(await call(`${app.url}/api/me`, { token: await token('access', randomUUID()) })).toMatchObject({ status: 200 });
  });

  it('the client-side caching module makes a store that answers repeated checks from its cache and sees revocations', { timeout: 30_000 }, async () => {
    const module = compile(dir, 'caching', snippet('createCachingStore'));
    // In a process of its own, which exits when done (the module's client stays connected).
    const check = compile(
      dir,
      'caching-check',
      `import { createCachingStore } from ${JSON.stringify(pathToFileURL(module).href)};
const store = await createCachingStore(process.env.REDIS_URL);
const ids = [crypto.randomUUID(), crypto.randomUUID()];
const answers = [];
for (let i = 0; i < 10; i++) answers.push(await store.anyRevoked(ids));
await store.revoke(ids[1], Math.floor(Date.now() / 1000) + 60);
answers.push(await store.anyRevoked(ids));
console.log(JSON.stringify(answers));
process.exit(0);
`,
    );
    await look.sendCommand(['CONFIG', 'RESETSTAT']);
    const child = spawn(process.execPath, [check], { cwd: dir, env: { ...process.env, REDIS_URL: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual([...Array(10).fill(false), true]);
    // Ten checks sent one EXISTS (nine answers came from the cache); the check after the revocation asked again.
    expect(String(await look.sendCommand<string>(['INFO', 'commandstats']))).toMatch(/^cmdstat_exists:calls=2,/m);
  });
});
