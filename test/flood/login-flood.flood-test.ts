// Issue 11's "a login flood leaves /api/hello latency within 2× of idle", end to end: the built
// Express example (examples/express/dist/server.js, `pnpm build` first) runs as a real process,
// configured as a user runs it (its own token cache, login throttling and bound on password
// checks), and this file measures GET /api/hello with a valid token at idle and while a flood of
// wrong-password logins hits POST /api/token.
//
// It asserts a timing, which the parallel unit run must not: run it alone, on a machine doing
// nothing else, with `pnpm test:flood` (vitest.flood.config.ts: one file, one fork). `pnpm test`
// runs it as its last step, after `vitest run`, so no other test competes for the cores.
//
// How it measures, and why:
// - Every /api/hello request carries a token the server has never seen, so each one really
//   verifies the signature (the example's cache keeps a token from its second verification on).
//   The tokens are the access token of one real login with a fresh `jti` each, re-signed with the
//   server's JWT_SECRET: every claim the example's issuer puts in is there, so each verifies
//   exactly as a token from a login would (revocation lookup included), without thousands of logins.
// - The flood keeps FLOOD_IN_FLIGHT wrong-password logins in flight all the time (each answer
//   starts the next), every one with a new username and a new X-Forwarded-For address (the
//   example trusts X-Forwarded-For from loopback, as behind nginx), so neither the per-username
//   nor the per-address limit turns them into cheap 429s: each one reaches the password hash.
//   They must be answered 401 invalid_credentials or 503 login_busy, nothing else, and all within
//   a bound once the flood stops (no hang).
// - /api/hello is called one request at a time over one keep-alive connection, for ROUND_MS per
//   round. Idle and flood rounds alternate in ABBA order (idle, flood, flood, idle…),
//   so a drift of the machine's speed during the run weighs on both alike, after a warm-up of
//   both. A flood round starts probing once the server has answered some flood logins (its hash
//   is busy), and ends by waiting until every login of the flood is answered, so the next idle
//   round is idle. It asserts that both the median and the mean (of the fastest 99%, so that a
//   stray stall of a shared VM does not decide) of all flood latencies are within 2× of all idle
//   ones, and prints them, per round too. The median alone would not catch a missing bound: the
//   example verifies on its main thread, and unbounded hashing only takes CPU time from it, which
//   delays a minority of requests by a scheduler slice. Measured on a 2-core VM shared with other
//   jobs: without the bound p50 1.1–5.2×, mean 2.9–6.8×, p90 7–14× idle; with a bound of one hash
//   at a time p50 0.5–1.2×, mean 0.9–1.7× (2.1× once, at a load average of 9). Other processes on
//   the machine inflate the flood rounds more than the idle ones: run it on an otherwise idle one.
import { createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, startApp, within, type App } from '../e2e-support.js';

const SECRET = 'login-flood-test-secret-0123456789-abcdefghij';
/** Wrong-password logins kept in flight during a flood round (issue 11 saw 32 make verification 300–1000× slower). */
const FLOOD_IN_FLIGHT = 64;
/** How long each round calls /api/hello, one request after the other (a flood round: once it has settled). */
const ROUND_MS = 1500;
/** Rounds in ABBA order: each kind is measured 4 times, drift cancels out. */
const ROUNDS = ['idle', 'flood', 'flood', 'idle', 'idle', 'flood', 'flood', 'idle'] as const;
/** Flood answers to wait for before probing: the server's hashing is then in its steady state. */
const FLOOD_SETTLE_ANSWERS = 4;
/** The target of issue 11. */
const MAX_RATIO = 2;
/** Bounds that prove no hang (generous: answers come in milliseconds, or seconds for queued logins). */
const REQUEST_TIMEOUT = 30_000;
const SETTLE_TIMEOUT = 30_000;
const DRAIN_TIMEOUT = 60_000;

type Kind = (typeof ROUNDS)[number];

interface Reply {
  status: number;
  text: string;
  /** From just before the request was made to the end of the answer's body. */
  ms: number;
}

/** One HTTP request over `agent`; fails after REQUEST_TIMEOUT ms without a byte (a hang). */
function send(agent: Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT, () => req.destroy(new Error(`${options.method ?? 'GET'} ${url}: no answer within ${REQUEST_TIMEOUT} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

function codeOf(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : '(no code)';
  } catch {
    return '(not JSON)';
  }
}

/** What a flood login may be answered: a failed password check, or the bound's refusal. */
const EXPECTED_FLOOD_ANSWERS = new Set(['401 invalid_credentials', '503 login_busy']);

/** A distinct client address per login, as nginx would forward it: 10.0.0.1, 10.0.0.2, … */
const addressOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

let loginNumber = 0;

/**
 * FLOOD_IN_FLIGHT wrong-password logins kept in flight from `start()` to `stop()`, each with a new
 * username and client address. Counts the answers by status and code.
 */
class Flood {
  readonly answers = new Map<string, number>();
  /** Answers that were password checks (401 invalid_credentials). */
  checked = 0;
  answered = 0;
  private stopped = false;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: FLOOD_IN_FLIGHT });
  private readonly loops: Promise<void>[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly url: string) {}

  start(): void {
    for (let i = 0; i < FLOOD_IN_FLIGHT; i++) this.loops.push(this.loop());
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const n = ++loginNumber;
      let key: string;
      try {
        const reply = await send(this.agent, `${this.url}/api/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': addressOf(n) },
          body: JSON.stringify({ username: `flood-user-${n}`, password: `wrong-password-${n}` }),
        });
        key = `${reply.status} ${codeOf(reply.text)}`;
      } catch (error) {
        key = `error: ${(error as Error).message}`;
        // A refused connection would spin: the loop ends, and the answer is counted below.
        this.stopped = true;
      }
      this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
      this.answered++;
      if (key === '401 invalid_credentials') this.checked++;
      this.waiters = this.waiters.filter((waiter) => (this.answered >= waiter.count ? (waiter.resolve(), false) : true));
    }
  }

  /** Resolves once `count` logins have been answered in all. */
  answeredAtLeast(count: number): Promise<void> {
    if (this.answered >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Starts no more logins and waits (bounded) until every one in flight is answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await within(DRAIN_TIMEOUT, `the ${FLOOD_IN_FLIGHT} logins in flight answered after the flood stopped`, Promise.all(this.loops));
    } finally {
      this.agent.destroy();
    }
  }
}

/** An HS256 JWT of `header` and `payload`, signed with `secret`. */
function signHs256(encodedHeader: string, payload: Record<string, unknown>, secret: string): string {
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** Makes tokens like `token` (same header and claims), each with its own `jti`, so none is in the server's cache. */
function distinctTokens(token: string): () => string {
  const [encodedHeader, encodedPayload] = token.split('.');
  const header = JSON.parse(Buffer.from(encodedHeader!, 'base64url').toString('utf8')) as { alg?: unknown };
  // Re-signing needs the secret the test gave the server; an asymmetric example key would need its private key.
  if (header.alg !== 'HS256') throw new Error(`the example's access token is ${String(header.alg)}, not HS256: this test re-signs tokens with JWT_SECRET`);
  const payload = JSON.parse(Buffer.from(encodedPayload!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return () => signHs256(encodedHeader!, { ...payload, jti: randomUUID() }, SECRET);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Summary {
  p50: number;
  p90: number;
  p99: number;
  /** The mean of the fastest 99%: the slowest 1% on a shared VM are other processes' doing. */
  mean: number;
  n: number;
}

function summary(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const kept = sorted.slice(0, Math.max(1, Math.floor(sorted.length * 0.99)));
  const mean = kept.reduce((sum, x) => sum + x, 0) / kept.length;
  return { p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), mean, n: sorted.length };
}

const line = (s: Summary) => `p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  mean* ${ms(s.mean)}`;

const ms = (value: number) => `${value.toFixed(3)} ms`;

describe('a login flood against the Express example', () => {
  let app: App;
  let nextToken: () => string;
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    app = await startApp('express', {
      JWT_SECRET: SECRET,
      // The run takes about a minute; the tokens must outlive it on a slow machine.
      ACCESS_TOKEN_TTL: '15m',
      // X-Forwarded-For from loopback is the client's address, as behind nginx (the default, said out loud).
      TRUST_PROXY: 'loopback',
    });
    const login = await send(probeAgent, `${app.url}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.1' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    });
    expect(login.status, login.text).toBe(200);
    const { access_token: accessToken } = JSON.parse(login.text) as { access_token: string };
    nextToken = distinctTokens(accessToken);
    const check = await send(probeAgent, `${app.url}/api/hello`, { headers: { Authorization: `Bearer ${nextToken()}` } });
    expect(check.status, `a re-signed token is refused: ${check.text}`).toBe(200);
  }, 60_000);

  afterAll(async () => {
    probeAgent.destroy();
    await cleanUp();
  });

  /** Sequential GET /api/hello for ROUND_MS, each with a token not seen before; their latencies. */
  async function probe(): Promise<number[]> {
    const latencies: number[] = [];
    const end = performance.now() + ROUND_MS;
    while (performance.now() < end) {
      // Signed before the request starts: the timed part is the server's work and the round trip.
      const token = nextToken();
      const reply = await send(probeAgent, `${app.url}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });
      if (reply.status !== 200) throw new Error(`GET /api/hello answered ${reply.status}: ${reply.text}`);
      latencies.push(reply.ms);
    }
    return latencies;
  }

  /** One round of `kind`; for a flood, also how many password checks ended while it probed. */
  async function round(kind: Kind, floods: Flood[]): Promise<{ latencies: number[]; checksDuring: number }> {
    if (kind === 'idle') return { latencies: await probe(), checksDuring: 0 };
    const flood = new Flood(app.url);
    floods.push(flood);
    flood.start();
    try {
      await within(SETTLE_TIMEOUT, `${FLOOD_SETTLE_ANSWERS} flood logins answered`, flood.answeredAtLeast(FLOOD_SETTLE_ANSWERS));
      const before = flood.checked;
      const latencies = await probe();
      return { latencies, checksDuring: flood.checked - before };
    } finally {
      await flood.stop();
    }
  }

  it(`keeps GET /api/hello's median and mean latency within ${MAX_RATIO}× of idle while ${FLOOD_IN_FLIGHT} wrong-password logins are in flight`, async () => {
    const floods: Flood[] = [];
    // Warm-up, not counted: the JIT, the connections, the thread pool and the limiters' first entries.
    await round('idle', floods);
    await round('flood', floods);

    const samples: Record<Kind, number[]> = { idle: [], flood: [] };
    const lines: string[] = [];
    let checksWhileProbing = 0;
    for (const [index, kind] of ROUNDS.entries()) {
      const { latencies, checksDuring } = await round(kind, floods);
      samples[kind].push(...latencies);
      checksWhileProbing += checksDuring;
      const s = summary(latencies);
      lines.push(`  round ${index + 1} ${kind.padEnd(5)} ${line(s)}${kind === 'flood' ? `  (${checksDuring} password checks answered while probing)` : ''}`);
    }

    const answers = new Map<string, number>();
    for (const flood of floods) for (const [key, count] of flood.answers) answers.set(key, (answers.get(key) ?? 0) + count);
    const idle = summary(samples.idle);
    const flooded = summary(samples.flood);
    const median = flooded.p50 / idle.p50;
    const mean = flooded.mean / idle.mean;
    const report = [
      `GET /api/hello, one request at a time for ${ROUND_MS} ms per round, every token new to the server; flood: ${FLOOD_IN_FLIGHT} wrong-password logins in flight`,
      ...lines,
      `  idle : ${line(idle)}  (${idle.n} requests)`,
      `  flood: ${line(flooded)}  (${flooded.n} requests)`,
      `  flood / idle: p50 ${median.toFixed(2)}×, mean* ${mean.toFixed(2)}× (target ≤ ${MAX_RATIO}× for both); p90 ${(flooded.p90 / idle.p90).toFixed(2)}× (mean*: of the fastest 99%)`,
      `  flood logins answered: ${[...answers].map(([key, count]) => `${key} × ${count}`).join(', ')}`,
    ].join('\n');
    console.log(report);

    // Only a failed password check or the bound's 503: never a 429 (the flood would not have
    // reached the hash), a 500 or a dropped connection.
    const unexpected = [...answers.keys()].filter((key) => !EXPECTED_FLOOD_ANSWERS.has(key));
    expect(unexpected, `flood logins answered otherwise than 401 invalid_credentials / 503 login_busy\n${report}`).toEqual([]);
    // The flood really hashed while /api/hello was measured; a flood answered only 503s proves nothing.
    expect(checksWhileProbing, `no password check ended while /api/hello was measured under the flood\n${report}`).toBeGreaterThan(0);
    expect(
      median,
      `under the login flood GET /api/hello's median latency was ${median.toFixed(2)}× idle's, more than ${MAX_RATIO}×\n${report}`,
    ).toBeLessThanOrEqual(MAX_RATIO);
    // The median alone would pass without the bound: verification runs on the main thread, so
    // unbounded hashing only takes CPU time from it, which delays a minority of requests by a
    // scheduler slice each (p90 7–10× idle) while the median barely moves. The mean counts them.
    expect(
      mean,
      `under the login flood GET /api/hello's mean latency (fastest 99%) was ${mean.toFixed(2)}× idle's, more than ${MAX_RATIO}×\n${report}`,
    ).toBeLessThanOrEqual(MAX_RATIO);
  });
});
