// What one verification costs, in-process, the figures issue 10's targets are stated in:
// @jwtauth/core's authenticate() (cache off, cache hit, cache on with no hits, forged tokens)
// against fast-jwt (the verifier behind @fastify/jwt) and jose's jwtVerify, per algorithm.
// Every call is timed on its own (mean, p50, p99), tasks run in interleaved rounds.
// Run: pnpm --filter @jwtauth/bench bench:verify (after pnpm build). Knobs in bench/README.md.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import os from 'node:os';
import { importSPKI, jwtVerify } from 'jose';
import {
  fmtInt,
  fmtRatio,
  fmtUs,
  gitDescribe,
  heading,
  loadCore,
  loadFastJwt,
  log,
  machineLine,
  measure,
  ratio,
  publish,
  stats,
  versionOf,
  warm,
} from './measure.mjs';

const SECRET = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const knobs = {
  time: Number(process.env.BENCH_TIME_MS ?? 1500),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  warmup: Number(process.env.BENCH_WARMUP_MS ?? 300),
  distinct: Number(process.env.BENCH_DISTINCT ?? 5000),
  algs: (process.env.BENCH_ALGS ?? 'HS256,RS256,ES256')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
};
for (const [name, value] of Object.entries(knobs)) {
  if (name !== 'algs' && !(Number.isInteger(value) && value >= 0)) throw new Error(`bad value for ${name}: ${value}`);
}
// Cycled through in turn, more tokens than the default cache keeps (1,000) means every call misses.
if (knobs.distinct <= 1000) throw new Error('BENCH_DISTINCT must be above 1000, the default cache size, for the cache to miss on every call.');
const note = process.env.BENCH_NOTE ?? '';

const { createAuthenticator } = await loadCore();
const { createVerifier, version: fastJwtVersion } = loadFastJwt();
const startedAt = new Date();
const loadBefore = os.loadavg();

// The framework's request object, handed to hooks: built once, never read by these options.
const request = new Request('http://localhost/');
const input = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const now = Math.floor(Date.now() / 1000);
const b64url = (value) => Buffer.from(value).toString('base64url');

function keysFor(alg, secret = SECRET) {
  if (alg === 'HS256') return { verifyKey: secret, signWith: (data) => createHmac('sha256', secret).update(data).digest() };
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signWith =
    alg === 'RS256'
      ? (data) => sign('sha256', Buffer.from(data), privateKey)
      : (data) => sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { verifyKey: publicKey.export({ type: 'spki', format: 'pem' }), signWith };
}

function tokenOf(alg, signWith, sub) {
  const head = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, scope: 'read', iat: now, exp: now + 3600 }))}`;
  return `${head}.${signWith(head).toString('base64url')}`;
}

/** The tasks of one algorithm; each `fn` verifies once (a cycling one, the next token each call). */
async function tasksFor(alg) {
  const { verifyKey, signWith } = keysFor(alg);
  const valid = tokenOf(alg, signWith, 'alice');
  // Well-formed, signed with another key: the header and payload are valid, the signature is not.
  const forged = `${valid.slice(0, valid.lastIndexOf('.'))}.${tokenOf(alg, keysFor(alg, `another-${SECRET}`).signWith, 'alice').split('.')[2]}`;
  const distinct = Array.from({ length: knobs.distinct }, (_, i) => tokenOf(alg, signWith, `user-${i}`));
  const distinctInputs = distinct.map(input);

  const options = { secret: verifyKey, algorithms: [alg] };
  const oursOn = createAuthenticator(options); // the default cache: max 1000, ttl 60 s
  const oursOff = createAuthenticator({ ...options, cache: false });
  const oursDistinctOn = createAuthenticator(options);
  const fastJwt = createVerifier({ key: verifyKey, algorithms: [alg], cache: false });
  const joseKey = alg === 'HS256' ? new TextEncoder().encode(SECRET) : await importSPKI(verifyKey, alg);
  const joseOptions = { algorithms: [alg] };

  const validInput = input(valid);
  const forgedInput = input(forged);
  let i = 0;
  let j = 0;
  let k = 0;
  const tasks = {
    'ours, cache off': () => oursOff.authenticate(validInput, request),
    'fast-jwt': () => fastJwt(valid),
    'jose jwtVerify': () => jwtVerify(valid, joseKey, joseOptions),
    'ours, cache hit': () => oursOn.authenticate(validInput, request),
    [`ours, cache on, ${knobs.distinct} distinct (no hits)`]: () => oursDistinctOn.authenticate(distinctInputs[i++ % distinct.length], request),
    [`ours, cache off, ${knobs.distinct} distinct`]: () => oursOff.authenticate(distinctInputs[j++ % distinct.length], request),
    [`fast-jwt, ${knobs.distinct} distinct`]: () => fastJwt(distinct[k++ % distinct.length]),
    'ours, forged': () => oursOn.authenticate(forgedInput, request),
    'fast-jwt, forged': () => {
      try {
        fastJwt(forged);
      } catch {
        /* refused, as expected */
      }
    },
    'jose jwtVerify, forged': () => jwtVerify(forged, joseKey, joseOptions).catch(() => {}),
  };

  // Every side must answer as expected before anything is timed.
  const expect = (what, ok) => {
    if (!ok) throw new Error(`${alg}: ${what}`);
  };
  expect('ours refused the valid token', (await oursOff.authenticate(validInput, request)).ok);
  expect('ours accepted the forged token', !(await oursOn.authenticate(forgedInput, request)).ok);
  expect('ours refused a distinct token', (await oursOff.authenticate(distinctInputs.at(-1), request)).auth?.payload.sub === `user-${knobs.distinct - 1}`);
  expect('fast-jwt refused the valid token', fastJwt(valid).sub === 'alice');
  expect(
    'fast-jwt accepted the forged token',
    (() => {
      try {
        fastJwt(forged);
        return false;
      } catch {
        return true;
      }
    })(),
  );
  expect('jose refused the valid token', (await jwtVerify(valid, joseKey, joseOptions)).payload.sub === 'alice');
  expect(
    'jose accepted the forged token',
    await jwtVerify(forged, joseKey, joseOptions).then(
      () => false,
      () => true,
    ),
  );
  // The hit task must hit: verify the token into the cache once.
  await oursOn.authenticate(validInput, request);
  return Object.entries(tasks).map(([name, fn]) => ({ name, alg, fn }));
}

// Alg-independent: the fixed cost of one authenticate() call (no token, none required), and the
// timer's own (an empty async function timed the same way).
const anonymous = createAuthenticator({ secret: SECRET, algorithms: ['HS256'], credentialsRequired: false });
const noToken = { headers: {} };
if (!(await anonymous.authenticate(noToken, request)).ok) throw new Error('the anonymous call was refused');
const common = [
  { name: 'ours, no token (credentialsRequired: false): fixed per-call cost', alg: '*', fn: () => anonymous.authenticate(noToken, request) },
  { name: 'timer floor: an empty async function', alg: '*', fn: async () => {} },
];

log(`signing tokens (${knobs.distinct} distinct per algorithm)…`);
const tasks = [...common];
for (const alg of knobs.algs) tasks.push(...(await tasksFor(alg)));

log(`warm-up: ${knobs.warmup} ms per task, ${tasks.length} tasks`);
for (const task of tasks) await warm(task.fn, knobs.warmup);
const perRound = knobs.time / knobs.rounds;
for (let round = 1; round <= knobs.rounds; round++) {
  log(`round ${round}/${knobs.rounds}: ${Math.round(perRound)} ms per task`);
  for (const task of tasks) await measure(task, perRound);
}
const loadAfter = os.loadavg();

const find = (alg, name) => tasks.find((t) => t.alg === alg && t.name === name);
const fixed = stats(common[0]);
const floor = stats(common[1]);

const tables = [];
const verdicts = [];
const D = knobs.distinct;
for (const alg of knobs.algs) {
  const fast = find(alg, 'fast-jwt');
  const versus = {
    'ours, cache off': fast,
    'jose jwtVerify': fast,
    'ours, cache hit': fast,
    [`ours, cache on, ${D} distinct (no hits)`]: find(alg, `fast-jwt, ${D} distinct`),
    [`ours, cache off, ${D} distinct`]: find(alg, `fast-jwt, ${D} distinct`),
    'ours, forged': find(alg, 'fast-jwt, forged'),
    'jose jwtVerify, forged': find(alg, 'fast-jwt, forged'),
  };
  const rows = tasks
    .filter((t) => t.alg === alg)
    .map((task) => {
      const s = stats(task);
      const against = versus[task.name];
      const ratios = against
        ? `${fmtRatio(ratio(task, against, { cpu: true }))} | ${fmtRatio(ratio(task, against))} | ${(s.p50 / stats(against).p50).toFixed(2)}×`
        : ' | | ';
      return `| ${task.name} | ${fmtUs(s.cpu)} | ${fmtUs(s.mean)} | ${fmtUs(s.p50)} | ${fmtUs(s.p99)} | ${fmtInt(s.opsPerSec)} | ${ratios} |`;
    });
  tables.push(
    [
      `#### ${alg}`,
      '',
      '| task | CPU µs/call | mean µs | p50 µs | p99 µs | ops/s | vs fast-jwt: CPU | vs fast-jwt: mean | vs fast-jwt: p50 |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...rows,
    ].join('\n'),
  );

  const hit = stats(find(alg, 'ours, cache hit'));
  const onOffTasks = [find(alg, `ours, cache on, ${D} distinct (no hits)`), find(alg, `ours, cache off, ${D} distinct`)];
  const onOff = ratio(...onOffTasks, { cpu: true });
  const onOffWall = ratio(...onOffTasks);
  const uncachedTasks = [find(alg, 'ours, cache off'), fast];
  const uncached = ratio(...uncachedTasks, { cpu: true });
  const uncachedWall = ratio(...uncachedTasks);
  const forgedTasks = [find(alg, 'ours, forged'), find(alg, 'fast-jwt, forged')];
  const forgedRatio = ratio(...forgedTasks, { cpu: true });
  const p50s = ([x, y]) => `${(stats(x).p50 / stats(y).p50).toFixed(2)}×`;
  // "missed" says by how much the figure is above its bound, as a share of the bound.
  const verdict = (value, bound, strict = false) =>
    (strict ? value < bound : value <= bound) ? '**holds**' : `**missed** by ${((value / bound - 1) * 100).toFixed(0)}%`;
  const straddles = (r, bound) => (r.min <= bound && r.max > bound ? ' (the per-round range straddles it)' : '');
  verdicts.push(
    `- ${alg}, uncached, ours/fast-jwt: CPU ${fmtRatio(uncached)}, wall mean ${fmtRatio(uncachedWall)}, p50 ${p50s(uncachedTasks)}${alg === 'ES256' ? ' (no target for ES256)' : ` — target ≤ 1.5: ${verdict(uncached.pooled, 1.5)}${straddles(uncached, 1.5)}`}.`,
    `- ${alg}, forged, ours/fast-jwt: CPU ${fmtRatio(forgedRatio)}, p50 ${p50s(forgedTasks)} (no in-process target; over HTTP the target is ours ≤ peer).`,
    `- ${alg}, cache hit: CPU ${fmtUs(hit.cpu)} µs/call, ${fmtUs(hit.cpu - fixed.cpu)} µs above the fixed per-call cost; wall mean ${fmtUs(hit.mean)}, p50 ${fmtUs(hit.p50)} µs — target < 3 µs: ${verdict(hit.cpu, 3, true)}.`,
    `- ${alg}, cache on with no hits / cache off (${D} tokens): CPU ${fmtRatio(onOff)}, wall mean ${fmtRatio(onOffWall)}, p50 ${p50s(onOffTasks)} — target ≤ 1.05: ${verdict(onOff.pooled, 1.05)}${straddles(onOff, 1.05)}.`,
  );
}

const section = [
  heading(startedAt, 'in-process verification cost (`bench:verify`)', note),
  '',
  machineLine(loadBefore, loadAfter),
  `- Node ${process.version}; @jwtauth at ${gitDescribe()}; fast-jwt ${fastJwtVersion} (as @fastify/jwt ${versionOf('@fastify/jwt')} uses it), jose ${versionOf('jose')}.`,
  `- ${knobs.rounds} interleaved rounds, ${fmtInt(knobs.time)} ms per task in all, after ${knobs.warmup} ms of warm-up each; every call timed on its own (performance.now() around it, the promise awaited).`,
  "- ours = `createAuthenticator` of @jwtauth/core, `authenticate({ headers: { authorization: 'Bearer …' } }, request)`, the input object built once per token; fast-jwt = `createVerifier({ key, algorithms, cache: false })`, called synchronously; jose = `jwtVerify(token, key, { algorithms })` with the key imported once. Keys: an HS256 string secret, a 2048-bit RSA and a P-256 public key as PEM. Forged = the valid header and payload with another key's signature; ours runs with its defaults (cache on) for it.",
  "- CPU µs/call = the process's CPU time (user + system, all threads, `process.cpuUsage()`) over the calls: what a call costs even when other work on the machine preempts it, so the targets are judged on it. mean / p50 / p99 = wall-clock time of one call; ops/s = 1 / mean.",
  `- vs fast-jwt = the row / fast-jwt on the same tokens (valid, ${D} distinct, forged), lower is better for ours; in brackets the lowest and highest per-round ratio.`,
  '',
  `Fixed per-call cost of authenticate() (no token, \`credentialsRequired: false\`): CPU ${fmtUs(fixed.cpu)} µs/call, wall mean ${fmtUs(fixed.mean)} µs, p50 ${fmtUs(fixed.p50)}, p99 ${fmtUs(fixed.p99)}. Timer floor (an empty async function timed the same way): CPU ${fmtUs(floor.cpu)} µs/call, wall mean ${fmtUs(floor.mean)} µs.`,
  '',
  tables.join('\n\n'),
  '',
  'Targets (issue 10):',
  '',
  ...verdicts,
  '',
].join('\n');

publish(section);
