// What the Redis revocation check costs per verified request, against the memory store, in the
// same process and the same run. Redis runs on loopback: a redis-server started here (free port,
// no persistence) unless REDIS_URL names one. Run after `pnpm build`:  node bench/redis.mjs
//
// Three stores behind the same issuer and the same Hono app (requests injected with app.request(),
// so no socket noise on the HTTP side):
// - memory: MemoryRevocationStore, the single-process default;
// - redis: @jwtauth/redis over node-redis (RESP2), one EXISTS round trip per request;
// - redis + client-side cache: node-redis with RESP3 and clientSideCache, repeated checks of a
//   token answered from the client's cache, kept fresh by Redis's invalidation pushes.
// Each is measured one request at a time (latency: the round trip shows in full) and 64 at a
// time (a loaded server: node-redis pipelines the concurrent EXISTS on one connection).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtAuth } from '@jwtauth/hono';
import { createRedisStore } from '@jwtauth/redis';
import { Hono } from 'hono';
import { createClient } from 'redis';
import { Bench } from 'tinybench';
// The bench package depends on the adapters, not on core itself: take the built core of this checkout.
import { MemoryRevocationStore } from '../packages/core/dist/index.js';
import { createTokenIssuer } from '../packages/issuer/dist/index.js';

const time = Number(process.env.BENCH_TIME_MS ?? 1500);
const KEY = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const CONCURRENCY = 64;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of our own on loopback, or the one REDIS_URL names. */
async function redisUrl() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jwtauth-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  child.on('error', (error) => {
    console.error(`cannot start redis-server (${error.message}): install it (bash scripts/ensure-redis.sh) or set REDIS_URL`);
    process.exit(1);
  });
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}`, stop };
}

const server = await redisUrl();
const plain = createClient({ url: server.url, socket: { reconnectStrategy: 50 } });
const cached = createClient({ url: server.url, socket: { reconnectStrategy: 50 }, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 10_000 } });
for (const client of [plain, cached]) {
  client.on('error', () => {});
  await client.connect(); // retries until our redis-server listens
}
const redisVersion = /redis_version:(\S+)/.exec(await plain.info('server'))?.[1];

const stores = {
  memory: new MemoryRevocationStore(),
  redis: createRedisStore({ client: plain }),
  'redis + client-side cache': createRedisStore({ client: cached }),
};
const setups = {};
for (const [name, store] of Object.entries(stores)) {
  const issuer = createTokenIssuer({ key: KEY, store });
  const tokens = await issuer.issue('alice', { scope: 'read' });
  const app = new Hono().use('*', jwtAuth({ ...issuer.verifierOptions })).get('/', (c) => c.json({ sub: c.get('auth').payload.sub }));
  const payload = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1], 'base64url').toString());
  const request = () => app.request('/', { headers: { authorization: `Bearer ${tokens.accessToken}` } });
  const response = await request();
  if (response.status !== 200) throw new Error(`${name}: expected 200, got ${response.status}`);
  // A revoked token is refused through every store (the bench measures a check that works).
  const revoked = await issuer.issue('mallory');
  await issuer.revoke(revoked.accessToken);
  const refused = await app.request('/', { headers: { authorization: `Bearer ${revoked.accessToken}` } });
  if (refused.status !== 401) throw new Error(`${name}: a revoked token answered ${refused.status}`);
  setups[name] = { issuer, payload, request };
}

const bench = new Bench({ time, warmupTime: 300 });
// The bare round trip, for scale: what any one-command check costs at least.
bench.add('PING|round trip', () => plain.ping());
for (const [name, { issuer, payload, request }] of Object.entries(setups)) {
  bench.add(`${name}|check alone`, () => issuer.isRevoked(payload));
  bench.add(`${name}|request`, request);
  bench.add(`${name}|request x${CONCURRENCY}`, () => Promise.all(Array.from({ length: CONCURRENCY }, request)));
}
await bench.run();

const us = (task) => {
  const ms = task.result.latency.mean;
  return task.name.endsWith(`x${CONCURRENCY}`) ? (ms * 1000) / CONCURRENCY : ms * 1000;
};
const byName = Object.fromEntries(bench.tasks.map((task) => [task.name, us(task)]));
const rows = [{ store: 'node-redis PING (the round trip alone)', 'check alone µs': byName['PING|round trip'].toFixed(1) }];
for (const name of Object.keys(setups)) {
  const row = { store: name };
  for (const what of ['check alone', 'request', `request x${CONCURRENCY}`]) {
    const value = byName[`${name}|${what}`];
    const base = byName[`memory|${what}`];
    row[`${what} µs`] = value.toFixed(1);
    const more = value - base;
    row[`${what} vs memory`] = name === 'memory' ? '' : `${more >= 0 ? '+' : ''}${more.toFixed(1)}`;
  }
  rows.push(row);
}
console.table(rows);
console.log(
  `µs per verified request (Hono, in-process) or per check; "x${CONCURRENCY}": ${CONCURRENCY} requests in flight, time divided by ${CONCURRENCY}. ` +
    `Redis ${redisVersion} on ${server.url.replace(/\/\/.*@/, '//')}, node-redis ${JSON.stringify((await import('redis/package.json', { with: { type: 'json' } })).default.version)}.`,
);
const stats = cached.clientSideCache?.stats();
if (stats) console.log(`client-side cache: ${stats.hitCount} hits, ${stats.missCount} misses`);

plain.destroy();
cached.destroy();
await server.stop();
