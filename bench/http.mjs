// The HTTP benchmark: server CPU per request and requests per second of each @jwtauth adapter
// against its framework's usual JWT middleware and the bare framework, over real sockets.
// One server process (bench/http-server.mjs) serves every cell of the run on 127.0.0.1; this
// process is the load generator (autocannon). With `taskset` and two cores or more, the server is
// pinned to core 0 and this process to core 1. Rounds are interleaved: every cell runs once per
// round, in the same order, so drift (other work, thermal) falls on all of them alike.
// Run: pnpm --filter @jwtauth/bench bench:http (after pnpm build). Knobs: see bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const FRAMEWORKS = ['express', 'koa', 'fastify', 'hono'];
const ALGS = ['HS256', 'RS256'];
const SCENARIOS = ['valid', 'forged', 'distinct'];
const VARIANTS = ['bare', 'peer', 'ours', 'ours-nocache'];
const LABEL = {
  express: 'Express 5',
  koa: 'Koa 3',
  fastify: 'Fastify 5',
  hono: 'Hono 4',
  valid: 'valid, repeated',
  forged: 'forged signature',
};
const PEER = { express: 'express-jwt', koa: 'koa-jwt', fastify: '@fastify/jwt', hono: 'hono/jwt' };

// ---- knobs ------------------------------------------------------------------------------------

function list(name, all) {
  const raw = process.env[name];
  if (!raw) return all;
  const wanted = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const w of wanted) if (!all.includes(w)) throw new Error(`${name}: unknown "${w}" (one of ${all.join(', ')})`);
  return all.filter((a) => wanted.includes(a));
}
function number(name, fallback, min) {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number, at least ${min}`);
  return value;
}
const knobs = {
  frameworks: list('BENCH_FRAMEWORKS', FRAMEWORKS),
  algs: list('BENCH_ALGS', ALGS),
  scenarios: list('BENCH_SCENARIOS', SCENARIOS),
  variants: list('BENCH_VARIANTS', VARIANTS),
  duration: number('BENCH_DURATION', 1.5, 0.2),
  rounds: Math.floor(number('BENCH_ROUNDS', 3, 1)),
  warmup: number('BENCH_WARMUP', 1, 0),
  connections: Math.floor(number('BENCH_CONNECTIONS', 10, 1)),
  distinct: Math.floor(number('BENCH_DISTINCT', 5000, 2)),
};
const resultsFile = process.env.BENCH_RESULTS === '-' ? undefined : process.env.BENCH_RESULTS || join(BENCH_DIR, 'RESULTS.md');
const note = process.env.BENCH_NOTE ?? '';
const withMemory = process.env.BENCH_MEMORY !== '0';

const log = (...args) => console.error(...args);

// ---- pinning ----------------------------------------------------------------------------------

function hasTaskset() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const cores = os.availableParallelism();
const pinned = cores >= 2 && process.platform === 'linux' && hasTaskset();
if (pinned) execFileSync('taskset', ['-a', '-c', '-p', '1', String(process.pid)], { stdio: 'ignore' });

// ---- keys and tokens --------------------------------------------------------------------------

const SECRET = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const WRONG_SECRET = 'not-the-secret-the-server-knows-but-just-as-long-as-it';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
const now = Math.floor(Date.now() / 1000);
// Long enough for any run: a token that expired mid-run would turn 200s into 401s.
const claims = (sub) => ({ sub, scope: 'read', iat: now, exp: now + 24 * 3600 });

async function signToken(alg, sub, forged = false) {
  const key = alg === 'HS256' ? new TextEncoder().encode(forged ? WRONG_SECRET : SECRET) : (forged ? otherRsa : rsa).privateKey;
  return new SignJWT(claims(sub)).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

log(`signing tokens (${knobs.algs.join(', ')}; ${knobs.distinct} distinct each)…`);
const tokens = {};
for (const alg of knobs.algs) {
  const distinct = [];
  if (knobs.scenarios.includes('distinct')) for (let i = 0; i < knobs.distinct; i++) distinct.push(await signToken(alg, `user-${i}`));
  tokens[alg] = {
    valid: [await signToken(alg, 'alice')],
    // Signed with another key: well-formed in every way, only the signature is wrong.
    forged: [await signToken(alg, 'alice', true)],
    distinct,
  };
}

// ---- cells ------------------------------------------------------------------------------------

// The bare framework reads no token: it is measured once per framework and algorithm, with the
// valid token (the same request size as the other cells), and shown on every scenario row.
const cells = [];
for (const framework of knobs.frameworks) {
  for (const alg of knobs.algs) {
    if (knobs.variants.includes('bare')) cells.push({ framework, alg, scenario: 'valid', variant: 'bare' });
    for (const scenario of knobs.scenarios) {
      for (const variant of knobs.variants) if (variant !== 'bare') cells.push({ framework, alg, scenario, variant });
    }
  }
}
cells.forEach((cell, i) => {
  cell.id = `${cell.framework}-${cell.alg}-${cell.scenario}-${cell.variant}`;
  cell.index = i;
  cell.next = 0; // where this cell is in its scenario's token list, kept across rounds
  cell.expected = cell.scenario === 'forged' && cell.variant !== 'bare' ? 401 : 200;
  cell.rounds = [];
});

// ---- the server process -----------------------------------------------------------------------

const serverArgs = ['--expose-gc', join(BENCH_DIR, 'http-server.mjs')];
const server = pinned
  ? spawn('taskset', ['-c', '0', process.execPath, ...serverArgs], { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  : spawn(process.execPath, serverArgs, { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const pending = new Map();
let seq = 0;
const ready = new Promise((resolve, reject) => {
  server.once('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}) before it was ready`)));
  server.on('message', (message) => {
    if (message.ready) return resolve();
    const waiter = pending.get(message.seq);
    pending.delete(message.seq);
    if (message.ok) waiter?.resolve(message.result);
    else waiter?.reject(new Error(message.error));
  });
});
server.on('exit', (code, signal) => {
  for (const waiter of pending.values()) waiter.reject(new Error(`server exited (${code ?? signal})`));
});
function ask(message) {
  return new Promise((resolve, reject) => {
    pending.set(++seq, { resolve, reject });
    server.send({ ...message, seq });
  });
}

function request(port, token) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

function tokensOf(cell) {
  return tokens[cell.alg][cell.scenario];
}

/** One autocannon run against a cell; the distinct scenario hands each request the next token. */
function load(cell, seconds) {
  const list = tokensOf(cell);
  // autocannon stops at the first sample tick after `duration`: ticks of 100 ms (not its default
  // 1 s) keep short rounds as short as asked.
  const options = { url: `http://127.0.0.1:${cell.port}/`, duration: seconds, connections: knobs.connections, sampleInt: 100 };
  if (list.length === 1) {
    options.headers = { authorization: `Bearer ${list[0]}` };
  } else {
    // One counter shared by every connection: each token is sent once per cycle, by whichever
    // connection comes next (a per-connection list would send the same token from every connection
    // at once, and a cache would hit).
    options.requests = [
      {
        setupRequest(req) {
          req.headers.authorization = `Bearer ${list[cell.next]}`;
          cell.next = (cell.next + 1) % list.length;
          return req;
        },
      },
    ];
  }
  return autocannon(options);
}

// ---- the run ----------------------------------------------------------------------------------

const loadBefore = os.loadavg();
const startedAt = new Date();
try {
  await ready;
  const { ports } = await ask({
    op: 'start',
    cells: cells.map(({ id, framework, alg, variant }) => ({ id, framework, alg, variant })),
    keys: { secret: SECRET, publicPem },
  });
  for (const cell of cells) cell.port = ports[cell.id];

  // Every cell answers what it should before anything is timed.
  for (const cell of cells) {
    const list = tokensOf(cell);
    for (const token of [list[0], list[list.length - 1]]) {
      const status = await request(cell.port, token);
      if (status !== cell.expected) throw new Error(`${cell.id}: expected ${cell.expected}, got ${status}`);
    }
  }

  const perRound = cells.length * (knobs.duration + 0.2);
  log(
    `${cells.length} cells × ${knobs.rounds} rounds × ${knobs.duration} s (+ ${knobs.warmup} s warm-up each): about ${Math.ceil((cells.length * (knobs.warmup + 0.2) + knobs.rounds * perRound) / 60)} min; ${pinned ? 'server on core 0, load on core 1' : 'not pinned'}`,
  );
  if (knobs.warmup > 0) {
    for (const cell of cells) await load(cell, knobs.warmup);
  }
  for (let round = 0; round < knobs.rounds; round++) {
    for (const cell of cells) {
      const before = await ask({ op: 'snapshot', id: cell.id, collect: true });
      const result = await load(cell, knobs.duration);
      const after = await ask({ op: 'snapshot', id: cell.id, collect: false });
      const served = after.served - before.served;
      const expectedCount = cell.expected === 200 ? result['2xx'] : result['4xx'];
      cell.rounds.push({
        cpuMicros: after.cpuMicros - before.cpuMicros,
        served,
        completed: result.requests.total,
        seconds: result.duration,
        unexpected: result.requests.total - expectedCount,
        errors: result.errors + result.timeouts,
      });
    }
    log(`round ${round + 1}/${knobs.rounds} done`);
  }
} finally {
  server.disconnect?.();
  if (server.exitCode === null) server.kill();
}
const loadAfter = os.loadavg();

// ---- report -----------------------------------------------------------------------------------

function summary(cell) {
  const sum = (key) => cell.rounds.reduce((total, r) => total + r[key], 0);
  return {
    cpuPerRequest: sum('cpuMicros') / sum('served'),
    perRound: cell.rounds.map((r) => r.cpuMicros / r.served),
    rps: sum('completed') / sum('seconds'),
    unexpected: sum('unexpected'),
    errors: sum('errors'),
  };
}
const find = (framework, alg, scenario, variant) =>
  cells.find((c) => c.framework === framework && c.alg === alg && c.variant === variant && (variant === 'bare' || c.scenario === scenario));

const fmt = {
  us: (v) => (v === undefined ? '–' : v.toFixed(1)),
  rps: (v) => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US')),
  ratio(peer, ours) {
    if (!peer || !ours) return '–';
    const pooled = (peer.cpuPerRequest / ours.cpuPerRequest).toFixed(2);
    if (peer.perRound.length < 2) return `${pooled}×`;
    const each = peer.perRound.map((p, i) => p / ours.perRound[i]);
    return `${pooled}× (${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)})`;
  },
};

const problems = [];
const tables = [];
for (const alg of knobs.algs) {
  const lines = [
    `#### ${alg}`,
    '',
    '| framework | scenario | bare µs | peer µs | ours µs | ours, cache off µs | peer/ours | peer/ours, cache off | bare req/s | peer req/s | ours req/s | cache off req/s |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const framework of knobs.frameworks) {
    for (const scenario of knobs.scenarios) {
      const [bare, peer, ours, off] = VARIANTS.map((variant) => {
        const cell = find(framework, alg, scenario, variant);
        if (!cell) return undefined;
        const s = summary(cell);
        if (s.unexpected || s.errors) problems.push(`${cell.id}: ${s.unexpected} unexpected statuses, ${s.errors} errors/timeouts`);
        return s;
      });
      const label = scenario === 'distinct' ? `${knobs.distinct.toLocaleString('en-US')} distinct` : LABEL[scenario];
      lines.push(
        `| ${LABEL[framework]} vs ${PEER[framework]} | ${label} | ${fmt.us(bare?.cpuPerRequest)} | ${fmt.us(peer?.cpuPerRequest)} | ${fmt.us(ours?.cpuPerRequest)} | ${fmt.us(off?.cpuPerRequest)} | ${fmt.ratio(peer, ours)} | ${fmt.ratio(peer, off)} | ${fmt.rps(bare?.rps)} | ${fmt.rps(peer?.rps)} | ${fmt.rps(ours?.rps)} | ${fmt.rps(off?.rps)} |`,
      );
    }
  }
  tables.push(lines.join('\n'));
}

let memoryTable = '';
if (withMemory) {
  log('memory per cache entry…');
  const rows = JSON.parse(execFileSync(process.execPath, [join(BENCH_DIR, 'memory.mjs'), '--json'], { cwd: BENCH_DIR, encoding: 'utf8' }));
  memoryTable = [
    `Memory per verified-token cache entry (in-process, \`bench/memory.mjs\`: heap after verifying ${rows[0].tokens.toLocaleString('en-US')} distinct tokens through a cache that keeps them all, minus before, divided by the count; one process per figure):`,
    '',
    '| alg | token length | ours, bytes/entry | fast-jwt (@fastify/jwt), bytes/entry | control: ours with `cache: false`, bytes/token |',
    '|---|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.alg} | ${r.tokenLength} | ${Math.round(r.ours)} | ${Math.round(r['fast-jwt'])} | ${Math.round(r.control)} |`),
  ].join('\n');
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}
function gitDescribe() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '../packages'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (packages/ modified)` : commit;
  } catch {
    return 'unknown';
  }
}
const versions = ['express', 'express-jwt', 'koa', 'koa-jwt', 'fastify', '@fastify/jwt', 'hono', '@hono/node-server', 'jose', 'autocannon']
  .map((name) => `${name} ${versionOf(name)}`)
  .join(', ');
const cpus = os.cpus();
const minutes = ((Date.now() - startedAt.getTime()) / 60000).toFixed(1);
const section = [
  `## ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${note ? ` — ${note}` : ''}`,
  '',
  `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores (${cores} available), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} after (1 / 5 / 15 min).`,
  `- Node ${process.version}; @jwtauth at ${gitDescribe()}; ${versions}.`,
  `- ${pinned ? 'Server pinned to core 0, load generator to core 1 (taskset)' : 'Not pinned (no taskset or one core)'}; ${knobs.rounds} interleaved rounds of ${knobs.duration} s per cell after ${knobs.warmup} s of warm-up, ${knobs.connections} connections; ${minutes} min in all.`,
  '- µs = server CPU (user + system, all threads) per request served, pooled over the rounds; peer/ours > 1 means @jwtauth is cheaper, with the lowest and highest per-round ratio in brackets. Bare is the framework with no auth (measured once per algorithm, shown on each row).',
  ...(problems.length ? [`- **Unexpected answers**: ${problems.join('; ')}.`] : []),
  '',
  tables.join('\n\n'),
  ...(memoryTable ? ['', memoryTable] : []),
  '',
].join('\n');

process.stdout.write(`\n${section}`);
if (resultsFile) {
  if (!existsSync(resultsFile)) {
    appendFileSync(
      resultsFile,
      '# HTTP benchmark results\n\nEach section is one run of `pnpm --filter @jwtauth/bench bench:http`, appended by the script (see bench/README.md for what the columns mean and the caveats). Compare ratios within a run, not absolute figures across runs.\n\n',
    );
  }
  appendFileSync(resultsFile, `${section}\n`);
  log(`appended to ${relative(process.cwd(), resultsFile) || resultsFile}`);
}
