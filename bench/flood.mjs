// Issue 10's "login load must not slow verification": the latency of one uncached verification,
// idle and while a login flood runs in the same process: K `crypto.scrypt` password hashes kept
// in flight all the time (each one that ends starts the next), with the parameters of the demo
// users' hashes (examples/shared/src/users.ts: N=2^14, r=8, p=1, 64-byte key). scrypt runs on
// libuv's thread pool, where Web Crypto's checks also run: jose's jwtVerify (the old path) queues
// behind the hashes, @jwtauth/core on Node verifies synchronously on the main thread and only
// competes with them for CPU.
// Run: pnpm --filter @jwtauth/bench bench:flood (after pnpm build). Knobs in bench/README.md.
import { createHmac, generateKeyPairSync, randomBytes, scrypt, sign } from 'node:crypto';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { importSPKI, jwtVerify } from 'jose';
import { fmtInt, fmtUs, gitDescribe, heading, loadCore, log, machineLine, measure, publish, stats, versionOf, warm } from './measure.mjs';

// As examples/shared/src/users.ts hashes passwords.
const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 64;
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const list = (value, fallback) =>
  (value ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const knobs = {
  time: Number(process.env.BENCH_TIME_MS ?? 3000),
  rounds: Number(process.env.BENCH_ROUNDS ?? 2),
  warmup: Number(process.env.BENCH_WARMUP_MS ?? 300),
  floods: list(process.env.BENCH_FLOOD, '0,1,4,32').map(Number),
  algs: list(process.env.BENCH_ALGS, 'HS256,RS256'),
  verifiers: list(process.env.BENCH_VERIFIERS, 'ours,jose'),
  nice: list(process.env.BENCH_FLOOD_NICE, '32').map(Number),
};
for (const k of [...knobs.floods, ...knobs.nice]) if (!(Number.isInteger(k) && k >= 0)) throw new Error(`BENCH_FLOOD: ${k} is not a whole number`);
const note = process.env.BENCH_NOTE ?? '';
const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

const { createAuthenticator } = await loadCore();
const startedAt = new Date();
const loadBefore = os.loadavg();
const request = new Request('http://localhost/');
const now = Math.floor(Date.now() / 1000);
const b64url = (value) => Buffer.from(value).toString('base64url');

function setup(alg) {
  let verifyKey;
  let signWith;
  if (alg === 'HS256') {
    verifyKey = SECRET;
    signWith = (data) => createHmac('sha256', SECRET).update(data).digest();
  } else if (alg === 'RS256') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    verifyKey = publicKey.export({ type: 'spki', format: 'pem' });
    signWith = (data) => sign('sha256', Buffer.from(data), privateKey);
  } else {
    throw new Error(`BENCH_ALGS: ${alg} is not HS256 or RS256`);
  }
  const head = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: 'alice', scope: 'read', iat: now, exp: now + 3600 }))}`;
  return { verifyKey, token: `${head}.${signWith(head).toString('base64url')}` };
}

/** One task per algorithm and verifier: one uncached verification of a valid token. */
const tasks = [];
for (const alg of knobs.algs) {
  const { verifyKey, token } = setup(alg);
  for (const verifier of knobs.verifiers) {
    let fn;
    if (verifier === 'ours') {
      const auth = createAuthenticator({ secret: verifyKey, algorithms: [alg], cache: false });
      const input = { headers: { authorization: `Bearer ${token}` } };
      if (!(await auth.authenticate(input, request)).ok) throw new Error(`${alg}: ours refused the token`);
      fn = () => auth.authenticate(input, request);
    } else if (verifier === 'jose') {
      const key = alg === 'HS256' ? new TextEncoder().encode(SECRET) : await importSPKI(verifyKey, alg);
      const options = { algorithms: [alg] };
      if ((await jwtVerify(token, key, options)).payload.sub !== 'alice') throw new Error(`${alg}: jose refused the token`);
      fn = () => jwtVerify(token, key, options);
    } else {
      throw new Error(`BENCH_VERIFIERS: ${verifier} is not ours or jose`);
    }
    tasks.push({ alg, verifier, fn, byFlood: new Map() });
  }
}

/**
 * Keeps `k` scrypt hashes in flight until stopped: each one that ends starts the next, as logins
 * arriving faster than they are served would. `stop()` resolves when the last one has ended.
 */
function startFlood(k) {
  const salt = randomBytes(16);
  const flood = { done: 0, inFlight: 0, stopped: false };
  let drained;
  const whenDrained = new Promise((resolve) => {
    drained = resolve;
  });
  const hash = () => {
    flood.inFlight++;
    scrypt('correct horse battery staple', salt, KEY_LENGTH, SCRYPT_OPTIONS, (error) => {
      if (error) throw error;
      flood.inFlight--;
      flood.done++;
      if (!flood.stopped) hash();
      else if (flood.inFlight === 0) drained();
    });
  };
  for (let i = 0; i < k; i++) hash();
  flood.stop = () => {
    flood.stopped = true;
    if (flood.inFlight === 0) drained();
    return whenDrained;
  };
  return flood;
}

// Between two verifications the event loop turns once (outside the timed part), as a server's
// does between requests: that is when finished hashes are collected and new ones started.
const turn = () => new Promise(setImmediate);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

log(`warm-up: ${knobs.warmup} ms per task, idle`);
for (const task of tasks) await warm(task.fn, knobs.warmup, turn);

// The conditions, in two passes. The second (Linux only) first lowers the priority of every
// thread but the main one to nice 19 (libuv's pool among them; a thread's nice value cannot be
// lowered again without privileges, hence a pass of its own, last): what is left of the slowdown
// under a flood once the scheduler favours the main thread.
const plain = knobs.floods.map((k) => ({ key: `${k}`, k, niced: false }));
const niced = process.platform === 'linux' && knobs.nice.length > 0 ? [0, ...knobs.nice].map((k) => ({ key: `nice:${k}`, k, niced: true })) : [];
for (const c of [...plain, ...niced]) {
  const base = c.k === 0 ? 'idle' : c.k === 1 ? '1 hash in flight (bounded)' : `${c.k} hashes in flight`;
  c.label = c.niced ? `${base}, other threads at nice 19` : base;
  c.hashes = 0;
  c.ms = 0;
  c.cpuUs = 0;
}

/** Lowers every thread of this process but the main one to nice 19 (Linux: nice is per thread). */
function niceOtherThreads() {
  let count = 0;
  for (const tid of readdirSync('/proc/self/task').map(Number)) {
    if (tid === process.pid) continue;
    try {
      os.setPriority(tid, 19);
      count++;
    } catch {
      /* the thread ended */
    }
  }
  return count;
}

const perRound = knobs.time / knobs.rounds;
let nicedThreads = 0;
for (const pass of [plain, niced]) {
  if (pass.length === 0) continue;
  if (pass === niced) {
    // The pool's threads exist once it has run anything (the first pass's hashes, or this one).
    await new Promise((resolve) => {
      scrypt('x', 'salt', 16, { N: 16 }, resolve);
    });
    nicedThreads = niceOtherThreads();
    log(`${nicedThreads} threads other than the main one now at nice 19`);
  }
  for (let round = 1; round <= knobs.rounds; round++) {
    for (const c of pass) {
      log(`round ${round}/${knobs.rounds}: ${c.label}, ${Math.round(perRound)} ms per task`);
      const flood = startFlood(c.k);
      if (c.k > 0) await sleep(250); // the pool is busy from the start; let the first hashes end and restart
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const done0 = flood.done;
      for (const task of tasks) {
        if (!task.byFlood.has(c.key)) task.byFlood.set(c.key, { fn: task.fn });
        await measure(task.byFlood.get(c.key), perRound, turn);
      }
      const cpu = process.cpuUsage(cpu0);
      c.hashes += flood.done - done0;
      c.ms += performance.now() - t0;
      c.cpuUs += cpu.user + cpu.system;
      await flood.stop();
    }
  }
}
const loadAfter = os.loadavg();

const times = (x) => `${x.toFixed(2)}×`;
const tables = [];
const verdicts = [];
for (const alg of knobs.algs) {
  const rows = [];
  for (const task of tasks.filter((t) => t.alg === alg)) {
    for (const pass of [plain, niced]) {
      const idleKey = pass.find((c) => c.k === 0)?.key;
      const idle = idleKey === undefined ? undefined : stats(task.byFlood.get(idleKey));
      for (const c of pass) {
        const s = stats(task.byFlood.get(c.key));
        const vs = (x) => (idle && c.k !== 0 ? times(s[x] / idle[x]) : '');
        rows.push(
          `| ${task.verifier === 'ours' ? 'ours, cache off' : 'jose jwtVerify'} | ${c.label} | ${fmtUs(s.p50)} | ${fmtUs(s.p99)} | ${fmtUs(s.mean)} | ${fmtInt(s.n)} | ${vs('p50')} | ${vs('p99')} | ${vs('mean')} |`,
        );
        if (task.verifier === 'ours' && idle && c.k !== 0) {
          const worst = Math.max(s.p50 / idle.p50, s.mean / idle.mean);
          verdicts.push(
            `- ${alg}, ${c.label}: ours under flood / idle p50 ${times(s.p50 / idle.p50)}, mean ${times(s.mean / idle.mean)}, p99 ${times(s.p99 / idle.p99)} — target ≤ 2× (p50 and mean): ${worst <= 2 ? '**holds**' : `**missed** by ${((worst / 2 - 1) * 100).toFixed(0)}%`}.`,
          );
        }
      }
    }
  }
  tables.push(
    [
      `#### ${alg}`,
      '',
      '| verifier | login flood | p50 µs | p99 µs | mean µs | verifications | p50 / idle | p99 / idle | mean / idle |',
      '|---|---|--:|--:|--:|--:|--:|--:|--:|',
      ...rows,
    ].join('\n'),
  );
}
const floodTable = [
  '| login flood | scrypt hashes/s (logins/s) | process CPU, % of one core |',
  '|---|--:|--:|',
  ...[...plain, ...niced].map(
    (c) => `| ${c.label} | ${c.k === 0 ? '' : (c.hashes / (c.ms / 1000)).toFixed(1)} | ${((c.cpuUs / 1000 / c.ms) * 100).toFixed(0)} |`,
  ),
].join('\n');

const section = [
  heading(startedAt, 'verification latency under a login flood (`bench:flood`)', note),
  '',
  machineLine(loadBefore, loadAfter),
  `- Node ${process.version}; @jwtauth at ${gitDescribe()}; jose ${versionOf('jose')}; libuv thread pool of ${poolSize}${process.env.UV_THREADPOOL_SIZE ? ' (UV_THREADPOOL_SIZE)' : ' (the default)'}.`,
  `- Flood: K \`crypto.scrypt\` hashes (N=${SCRYPT_OPTIONS.N}, r=${SCRYPT_OPTIONS.r}, p=${SCRYPT_OPTIONS.p}, ${KEY_LENGTH}-byte key, as the examples' users are hashed) kept in flight in the same process, each one that ends starting the next; K = 1 is a login endpoint that hashes one password at a time.`,
  `- Latency of one uncached verification of a valid token, one at a time, the event loop turning once between two (outside the timed part): ours = @jwtauth/core \`authenticate()\` with \`cache: false\` (synchronous node:crypto), jose = \`jwtVerify\` (Web Crypto, on libuv's thread pool). ${knobs.rounds} interleaved rounds, ${fmtInt(knobs.time)} ms per cell in all, after ${knobs.warmup} ms of warm-up each.`,
  ...(niced.length
    ? [
        `- Rows "other threads at nice 19": a second pass, after every thread of the process but the main one (${nicedThreads}: libuv's pool, V8's helpers) was set to nice 19, with its own idle; it shows how much of the slowdown is the scheduler sharing the cores between the main thread and the hashing threads, not a queue.`,
      ]
    : []),
  '',
  tables.join('\n\n'),
  '',
  floodTable,
  '',
  'Target (issue 10: a login flood leaves uncached verification latency within 2× of idle):',
  '',
  ...verdicts,
  '',
].join('\n');

publish(section);
