import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, exitOf, freePort, frameworks, running, send, startApp, startNginx, type App, type Framework, type Nginx, type Reply } from './e2e-support.js';
import { startRedis, type RedisServer } from './redis-server.js';

// Several processes, the production way: two instances of each built example (examples/<fw>/dist:
// `pnpm build` first) on loopback, NODE_ENV=production, sharing one real redis-server
// (REDIS_URL; test/redis-server.ts starts its own, with AOF) behind a real nginx whose upstream
// is jwtauth.conf's (two servers) and whose directives are proxy-params.conf's. Then each example
// again as one instance with WORKERS=2 (node:cluster). "Through A / through B" steps talk to an
// instance directly; the load of the rolling restart goes through nginx.
//
// redis-server and nginx must be installed (scripts/ensure-redis.sh and ensure-nginx.sh, run by
// `pnpm test`): without them this test fails, it is never skipped.

const SECRET = 'e2e-cluster-test-secret-0123456789-abcdefghijklmn';
/** Shorter than the production default (5 s), to keep the rolling restarts short. */
const DRAIN_DELAY_MS = 1000;
/**
 * Seconds. Long enough for 100 concurrent refreshes to finish within it (they take well under a
 * second), short enough that the test can outlast it (the rolling restart takes longer).
 */
const REUSE_INTERVAL = 3;

const alice = { username: 'alice', password: 'alice-password' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

interface Tokens {
  access: string;
  refresh: string;
}

function tokensOf(reply: Reply): Tokens {
  expect(reply.status, reply.text).toBe(200);
  return { access: reply.body.access_token as string, refresh: reply.body.refresh_token as string };
}

const login = (url: string) => send(`${url}/api/token`, { json: alice });
const hello = (url: string, access: string) => send(`${url}/api/hello`, { bearer: access });
const refresh = (url: string, token: string) => send(`${url}/api/token/refresh`, { json: { refresh_token: token } });
const revoke = (url: string, token: string) => send(`${url}/api/token/revoke`, { json: { token } });

/** Two distinct free loopback ports. */
async function twoPorts(): Promise<[number, number]> {
  const first = await freePort();
  let second = await freePort();
  while (second === first) second = await freePort();
  return [first, second];
}

/** The lines of pino's JSON log in `output`, parsed (the `listening on` line and stderr left out). */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterAll(cleanUp);

describe.each(frameworks)('two instances of examples/%s behind nginx, sharing one Redis', (fw: Framework) => {
  let redis: RedisServer;
  let ports: [number, number];
  /** The instances now running: A on ports[0], B on ports[1]. */
  const instances: App[] = [];
  let nginx: Nginx;
  const a = () => instances[0]!;
  const b = () => instances[1]!;

  function startInstance(index: 0 | 1, name: string, vars: Record<string, string> = {}): Promise<App> {
    return startApp(
      fw,
      {
        PORT: String(ports[index]),
        JWT_SECRET: SECRET,
        NODE_ENV: 'production',
        REDIS_URL: redis.url,
        REUSE_INTERVAL: `${REUSE_INTERVAL}s`,
        DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
        SHUTDOWN_TIMEOUT_MS: '5000',
        ...vars,
      },
      `${fw} ${name}`,
    );
  }

  /** SIGTERM, then a clean exit (0) within the drain delay and a margin. */
  async function stopInstance(app: App): Promise<void> {
    app.proc.child.kill('SIGTERM');
    expect(await exitOf(app.proc), app.proc.output()).toEqual({ code: 0, signal: null });
  }

  beforeAll(async () => {
    redis = await startRedis();
    ports = await twoPorts();
    instances.push(...(await Promise.all([startInstance(0, 'A'), startInstance(1, 'B')])));
    nginx = await startNginx(`cluster-${fw}`, ports, () => instances.every((app) => running(app.proc)));
  }, 30_000);

  afterAll(async () => {
    await redis?.close();
  });

  it('says on start-up that it shares revocations through Redis', () => {
    for (const app of instances) {
      expect(logLines(app.proc.output())).toContainEqual(expect.objectContaining({ type: 'store', store: 'redis', url: redis.url }));
    }
  });

  it('refuses on A a session logged out through B, at once', async () => {
    const tokens = tokensOf(await login(a().url));
    expect((await hello(a().url, tokens.access)).status).toBe(200);
    expect((await hello(b().url, tokens.access)).status).toBe(200);
    const logout = await revoke(b().url, tokens.access);
    expect([logout.status, logout.text]).toEqual([200, '{"revoked":true}']);
    for (const url of [a().url, b().url, nginx.url]) {
      expect((await hello(url, tokens.access)).body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    }
    expect((await refresh(a().url, tokens.refresh)).body).toMatchObject({ code: 'token_revoked' });
  });

  /** A session rotated on A at `at`: its previous and its current tokens (used after the reuse interval below). */
  let rotatedOnA: { previous: Tokens; current: Tokens; at: number } | undefined;

  it('gives working tokens to 100 concurrent refreshes of one token over both instances, within the reuse interval', async () => {
    const { refresh: token } = tokensOf(await login(nginx.url));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => refresh(i % 2 === 0 ? a().url : b().url, token)));
    expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.text)).toEqual([]);
    // One rotation, the others answered at the same generation (RotateResult `reused`).
    expect(new Set(replies.map((reply) => decodeJwt(reply.body.refresh_token as string).gen))).toEqual(new Set([1]));
    // Every access token works on both instances…
    const greetings = await Promise.all(replies.flatMap((reply) => [a().url, b().url].map((url) => hello(url, reply.body.access_token as string))));
    expect(greetings.filter((reply) => reply.status !== 200).map((reply) => reply.text)).toEqual([]);
    // …and every refresh token refreshes (the first moves the session on; the others, of the
    // generation just before, still within the interval).
    const again = await Promise.all(replies.slice(0, 10).map((reply, i) => refresh(i % 2 === 0 ? b().url : a().url, reply.body.refresh_token as string)));
    expect(again.map((reply) => reply.status)).toEqual(Array(10).fill(200));

    // For the test after the rolling restart: a rotation on A whose previous token comes back later.
    const previous = tokensOf(await login(a().url));
    const current = tokensOf(await refresh(a().url, previous.refresh));
    rotatedOnA = { previous, current, at: Date.now() };
  });

  it('restarts A then B under steady load through nginx without losing a request', async () => {
    type Phase = 'both' | 'A draining' | 'A down' | 'B draining' | 'B down' | 'both again';
    let phase: Phase = 'both';
    const results: { phase: Phase; what: string; status: number; ms: number; error?: string }[] = [];
    let loading = true;

    async function timed(what: string, request: () => Promise<Reply>): Promise<Reply | undefined> {
      const started = Date.now();
      try {
        const reply = await request();
        results.push({ phase, what, status: reply.status, ms: Date.now() - started, ...(reply.status === 200 ? {} : { error: reply.text }) });
        return reply;
      } catch (error) {
        results.push({ phase, what, status: 0, ms: Date.now() - started, error: String((error as Error).cause ?? error) });
        return undefined;
      }
    }

    /** One client: logs in, then calls the API, refreshes every 10th time and logs in again every 25th. */
    async function client(): Promise<void> {
      let tokens: Tokens | undefined;
      for (let n = 0; loading; n++) {
        if (tokens === undefined || n % 25 === 0) {
          const reply = await timed('POST /api/token', () => login(nginx.url));
          if (reply?.status === 200) tokens = tokensOf(reply);
        } else if (n % 10 === 0) {
          const reply = await timed('POST /api/token/refresh', () => refresh(nginx.url, tokens!.refresh));
          if (reply?.status === 200) tokens = tokensOf(reply);
        } else {
          await timed('GET /api/hello', () => hello(nginx.url, tokens!.access));
        }
      }
    }

    const clients = Array.from({ length: 4 }, client);
    const accessLogBefore = nginx.accessLog().length;
    const started = Date.now();
    await sleep(300);
    for (const [index, name] of [
      [0, 'A'],
      [1, 'B'],
    ] as const) {
      phase = `${name} draining`;
      const old = instances[index]!;
      old.proc.child.kill('SIGTERM');
      await until(`${name} stopping listening`, () => old.proc.output().includes('"type":"shutdown"'), 5_000);
      await sleep(DRAIN_DELAY_MS);
      phase = `${name} down`;
      expect(await exitOf(old.proc), old.proc.output()).toEqual({ code: 0, signal: null });
      instances[index] = await startInstance(index, `${name}'`);
      phase = index === 0 ? 'both' : 'both again';
      // Let the new instance take its share before the next one stops.
      await sleep(300);
    }
    loading = false;
    await Promise.all(clients);
    const elapsed = Date.now() - started;

    const failures = results.filter((result) => result.status !== 200);
    expect(failures, `${failures.length} of ${results.length} requests failed: ${JSON.stringify(failures)}`).toEqual([]);
    // The load was steady: requests went on in every phase, each instance's absence included.
    const phases: Phase[] = ['both', 'A draining', 'A down', 'B draining', 'B down', 'both again'];
    const perPhase = Object.fromEntries(phases.map((name) => [name, results.filter((result) => result.phase === name).length]));
    for (const name of phases) expect(perPhase[name], `requests completed while ${name}`).toBeGreaterThan(0);
    for (const what of ['GET /api/hello', 'POST /api/token/refresh', 'POST /api/token']) {
      expect(results.filter((result) => result.what === what).length, what).toBeGreaterThan(0);
    }
    // Measured: how many nginx sent to the other instance (the access log names both instances).
    await sleep(100);
    const lines = nginx.accessLog().slice(accessLogBefore);
    const retried = lines.filter((line) => /upstream=\[[^\]]*, /.test(line)).length;
    const slowest = Math.max(...results.map((result) => result.ms));
    console.info(
      `${fw}: rolling restart under load in ${elapsed} ms: ${results.length} requests through nginx, ${failures.length} failed ` +
        `(${Object.entries(perPhase)
          .map(([name, count]) => `${name}: ${count}`)
          .join(', ')}); ` +
        `${retried} retried by nginx on the other instance; slowest ${slowest} ms`,
    );
  }, 60_000);

  it('refuses the previous refresh token after the reuse interval on B, and ends the session on every instance (across restarts)', async () => {
    expect(rotatedOnA).toBeDefined();
    const { previous, current, at } = rotatedOnA!;
    // Whole seconds on the issuer's clock: one more second makes sure the interval is over.
    await sleep(Math.max(0, at + (REUSE_INTERVAL + 1.1) * 1000 - Date.now()));
    const replay = await refresh(b().url, previous.refresh);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    for (const url of [a().url, b().url]) {
      expect((await hello(url, current.access)).body).toMatchObject({ code: 'token_revoked' });
      expect((await refresh(url, current.refresh)).body).toMatchObject({ code: 'token_revoked' });
    }
  }, 15_000);

  it('answers 503 store_unavailable with Retry-After within 3 s while Redis is stopped or hangs, and recovers with its data', async () => {
    const loggedOut = tokensOf(await login(nginx.url));
    expect((await revoke(nginx.url, loggedOut.refresh)).status).toBe(200);
    const live = tokensOf(await login(nginx.url));
    // Refreshed only while Redis cannot answer: a rotation that timed out may still run once a
    // hung Redis wakes up, and, replayed later, would end its session (as it should).
    const spare = tokensOf(await login(nginx.url));
    expect((await hello(a().url, loggedOut.access)).body).toMatchObject({ code: 'token_revoked' });

    /** Every token check answers 503 store_unavailable, JSON with Retry-After, each within 3 s. */
    async function expectUnavailable(): Promise<void> {
      const checks: [string, () => Promise<Reply>][] = [];
      for (const url of [a().url, b().url, nginx.url]) {
        checks.push(
          [`hello on ${url}`, () => hello(url, live.access)],
          // Never a 200 for a token revoked before the outage.
          [`hello with a revoked token on ${url}`, () => hello(url, loggedOut.access)],
          [`refresh on ${url}`, () => refresh(url, spare.refresh)],
          [`verify on ${url}`, () => send(`${url}/api/token/verify`, { json: { token: live.access } })],
          // A logout that cannot be recorded is not answered with success.
          [`revoke on ${url}`, () => revoke(url, spare.access)],
        );
      }
      // All at once: each must be answered within 3 s however many wait on the store.
      await Promise.all(
        checks.map(async ([what, check]) => {
          const started = Date.now();
          const reply = await check();
          expect({ what, ms: Date.now() - started < 3_000 }).toEqual({ what, ms: true });
          expect({
            what,
            status: reply.status,
            type: reply.headers.get('content-type'),
            retryAfter: reply.headers.get('retry-after'),
            body: reply.body,
          }).toEqual({
            what,
            status: 503,
            type: expect.stringMatching(/^application\/json(; ?charset=utf-8)?$/i),
            retryAfter: '5',
            body: { error: 'temporarily_unavailable', error_description: expect.any(String), code: 'store_unavailable' },
          });
        }),
      );
    }

    await redis.stop();
    await expectUnavailable();
    // Logging in needs no store (a new session has nothing stored yet); its tokens wait for Redis.
    expect((await login(nginx.url)).status).toBe(200);
    // Each instance logged the outage, once.
    await until('the outage logged', () => instances.every((app) => logLines(app.proc.output()).some((line) => line.type === 'store.error')));

    await redis.start();
    const back = Date.now();
    for (const url of [a().url, b().url]) await until(`${url} answering again`, async () => (await hello(url, live.access)).status === 200);
    const recovery = Date.now() - back;
    // The revocation made before the outage survived the restart of redis-server (AOF).
    for (const url of [a().url, b().url, nginx.url]) {
      expect((await hello(url, loggedOut.access)).body).toMatchObject({ code: 'token_revoked' });
      expect((await refresh(url, loggedOut.refresh)).body).toMatchObject({ code: 'token_revoked' });
    }
    expect((await refresh(nginx.url, live.refresh)).status).toBe(200);

    // A Redis that hangs (SIGSTOP) instead: the command timeout answers, no request waits on it.
    redis.pause();
    try {
      await expectUnavailable();
    } finally {
      redis.resume();
    }
    for (const url of [a().url, b().url]) await until(`${url} answering after the pause`, async () => (await hello(url, live.access)).status === 200);
    console.info(`${fw}: Redis restarted with its data: both instances answered again after ${recovery} ms`);
  }, 45_000);

  it('in strict mode (REUSE_INTERVAL=0): a rotated token used on B ends the session everywhere, and 100 concurrent refreshes have exactly one winner', async () => {
    await Promise.all(instances.map(stopInstance));
    const strict = await Promise.all([startInstance(0, 'A strict', { REUSE_INTERVAL: '0' }), startInstance(1, 'B strict', { REUSE_INTERVAL: '0' })]);
    instances.splice(0, 2, ...strict);

    const first = tokensOf(await login(a().url));
    const rotated = tokensOf(await refresh(a().url, first.refresh));
    const replay = await refresh(b().url, first.refresh);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    for (const url of [a().url, b().url, nginx.url]) {
      expect((await hello(url, rotated.access)).body).toMatchObject({ code: 'token_revoked' });
    }
    expect((await refresh(a().url, rotated.refresh)).body).toMatchObject({ code: 'token_revoked' });

    const { refresh: token } = tokensOf(await login(nginx.url));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => refresh(i % 2 === 0 ? a().url : b().url, token)));
    const winners = replies.filter((reply) => reply.status === 200);
    expect(winners).toHaveLength(1);
    for (const reply of replies.filter((reply) => reply.status !== 200)) {
      expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 401, body: { error: 'invalid_token', code: 'token_revoked' } });
    }
    // The losers presented a rotated token: reuse, so the winner's session ended too.
    for (const url of [a().url, b().url]) {
      expect((await hello(url, winners[0]!.body.access_token as string)).body).toMatchObject({ code: 'token_revoked' });
    }
  }, 30_000);

  it('stops cleanly, nginx too', async () => {
    await Promise.all(instances.map(stopInstance));
    nginx.proc.child.kill('SIGQUIT');
    expect(await exitOf(nginx.proc)).toEqual({ code: 0, signal: null });
  });
});

describe.each(frameworks)('examples/%s with WORKERS=2', (fw: Framework) => {
  it('serves from two worker processes sharing Redis, restarts them one at a time on SIGHUP without losing a request, and exits 0 on SIGTERM', async () => {
    const redis = await startRedis();
    try {
      const app = await startApp(
        fw,
        { JWT_SECRET: SECRET, NODE_ENV: 'production', REDIS_URL: redis.url, WORKERS: '2', DRAIN_DELAY_MS: '500' },
        `${fw} WORKERS=2`,
      );
      /** The pids of the workers that said which store they use: one line each at start-up. */
      const workers = () =>
        new Set(
          logLines(app.proc.output())
            .filter((line) => line.type === 'store')
            .map((line) => line.pid as number),
        );
      await until('two workers', () => workers().size === 2);
      const first = workers();
      expect(first.has(app.proc.child.pid!)).toBe(false);

      /** Which workers answer: each refused request is logged by the worker that refused it. */
      async function answeringWorkers(): Promise<Set<number>> {
        const kid = `probe-${Math.random()}`;
        const forged = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid })).toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`;
        // A new connection each time: the primary hands connections to the workers in turn.
        await Promise.all(
          Array.from({ length: 16 }, () =>
            fetch(`${app.url}/api/hello`, { headers: { authorization: `Bearer ${forged}`, connection: 'close' } }).then((r) => r.text()),
          ),
        );
        await sleep(100);
        return new Set(
          logLines(app.proc.output())
            .filter((line) => line.kid === kid)
            .map((line) => line.pid as number),
        );
      }
      expect(await answeringWorkers()).toEqual(first);

      // A logout on one worker reaches the other (Redis): every connection refuses the token.
      const tokens = tokensOf(await login(app.url));
      expect((await revoke(app.url, tokens.access)).status).toBe(200);
      const afterLogout = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch(`${app.url}/api/hello`, { headers: { authorization: `Bearer ${tokens.access}`, connection: 'close' } }).then((r) => r.status),
        ),
      );
      expect(afterLogout).toEqual(Array(8).fill(401));

      // SIGHUP under load: new workers start, the old ones drain; not one request fails.
      const statuses: number[] = [];
      let loading = true;
      const live = tokensOf(await login(app.url));
      const clients = Array.from({ length: 4 }, async () => {
        while (loading) {
          try {
            statuses.push((await hello(app.url, live.access)).status);
          } catch {
            statuses.push(0);
          }
        }
      });
      await sleep(200);
      app.proc.child.kill('SIGHUP');
      await until('two new workers', () => workers().size === 4);
      const exited = (pid: number) => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
      await until('the old workers exiting', () => [...first].every(exited));
      await sleep(200);
      loading = false;
      await Promise.all(clients);
      expect(statuses.length).toBeGreaterThan(20);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      const second = new Set([...workers()].filter((pid) => !first.has(pid)));
      expect(await answeringWorkers()).toEqual(second);

      app.proc.child.kill('SIGTERM');
      expect(await exitOf(app.proc), app.proc.output()).toEqual({ code: 0, signal: null });
      for (const pid of second) expect(exited(pid)).toBe(true);
    } finally {
      await redis.close();
    }
  }, 30_000);
});
