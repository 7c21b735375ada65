// Shared by verify.mjs and flood.mjs: a latency loop that times every call on its own (so
// percentiles exist, not only a mean), interleaved rounds, and the bits of a RESULTS.md section
// (machine, versions, commit). Not a benchmark itself.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * `@jwtauth/core` (its ESM build, as the adapters load it) and fast-jwt (the verifier behind
 * `@fastify/jwt`): neither is a dependency of the bench itself, so each is found where its
 * dependent finds it, without adding anything to the lockfile.
 */
export async function loadCore() {
  const coreDir = dirname(createRequire(require.resolve('@jwtauth/hono')).resolve('@jwtauth/core/package.json'));
  const pkg = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8'));
  return import(pathToFileURL(join(coreDir, pkg.exports['.'].import.default)).href);
}
export function loadFastJwt() {
  const from = createRequire(require.resolve('@fastify/jwt'));
  return { ...from('fast-jwt'), version: from('fast-jwt/package.json').version };
}

/** Log-spaced histogram of durations in ns, 0.5% wide buckets: percentiles to within 0.5%. */
const STEP = Math.log(1.005);
export class Histogram {
  counts = new Map();
  n = 0;
  sumNs = 0;
  add(samplesMs, length) {
    for (let i = 0; i < length; i++) {
      const ns = Math.max(1, samplesMs[i] * 1e6);
      const bucket = Math.floor(Math.log(ns) / STEP);
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
      this.sumNs += ns;
    }
    this.n += length;
  }
  get meanUs() {
    return this.sumNs / this.n / 1000;
  }
  /** The q-quantile (0..1) in µs: the middle of the bucket it falls in. */
  quantileUs(q) {
    const buckets = [...this.counts.keys()].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (const bucket of buckets) {
      seen += this.counts.get(bucket);
      if (seen >= rank) return Math.exp((bucket + 0.5) * STEP) / 1000;
    }
    return NaN;
  }
}

// One buffer for the samples of whichever task is running: a round stops early when it is full.
const scratch = new Float64Array(1 << 22);

/**
 * Calls `fn` again and again for about `ms` milliseconds, one at a time, timing each call
 * (awaited when it returns a promise) with performance.now(); `between` (if given) runs between
 * calls, outside the timed part. Returns how many calls were timed; their durations (ms) are in
 * `scratch`.
 */
async function loop(fn, ms, between) {
  const end = performance.now() + ms;
  let n = 0;
  // One untimed call first, to tell a function that returns a promise from one that does not.
  const first = fn();
  const isAsync = typeof first?.then === 'function';
  if (isAsync) await first;
  if (between) await between();
  if (isAsync) {
    while (n < scratch.length) {
      const t0 = performance.now();
      await fn();
      const t1 = performance.now();
      scratch[n++] = t1 - t0;
      if (t1 > end) break;
      if (between) await between();
    }
  } else {
    while (n < scratch.length) {
      const t0 = performance.now();
      fn();
      const t1 = performance.now();
      scratch[n++] = t1 - t0;
      if (t1 > end) break;
      if (between) await between();
    }
  }
  return n;
}

/** Runs `fn` for `ms` unrecorded (warm-up). */
export async function warm(fn, ms, between) {
  await loop(fn, ms, between);
}

/**
 * Runs `fn` for `ms` and adds the timings to `task.histogram`, this round's mean to `task.rounds`,
 * and the process's CPU time (user + system, all threads: `process.cpuUsage()`) per call to
 * `task.cpuRounds`. CPU time is what a call costs even when other work on the machine preempts
 * it, which stretches the wall-clock timings but not this.
 */
export async function measure(task, ms, between) {
  task.histogram ??= new Histogram();
  task.rounds ??= [];
  task.cpuRounds ??= [];
  task.cpuUs ??= 0;
  const cpu0 = process.cpuUsage();
  const n = await loop(task.fn, ms, between);
  const cpu = process.cpuUsage(cpu0);
  task.histogram.add(scratch, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += scratch[i];
  task.rounds.push((sum / n) * 1000);
  // The loop calls fn once more, untimed, before its timed calls: n + 1 calls.
  task.cpuRounds.push((cpu.user + cpu.system) / (n + 1));
  task.cpuUs += cpu.user + cpu.system;
  task.calls = (task.calls ?? 0) + n + 1;
}

/** Summary of a measured task, in µs (cpu: process CPU time per call). */
export function stats(task) {
  const h = task.histogram;
  return { mean: h.meanUs, p50: h.quantileUs(0.5), p99: h.quantileUs(0.99), n: h.n, opsPerSec: 1e6 / h.meanUs, cpu: task.cpuUs / task.calls };
}

/**
 * Ratio a / b of the wall-clock means (or, with `cpu`, of the CPU time per call), pooled over the
 * rounds, with the lowest and highest of the per-round ratios.
 */
export function ratio(a, b, { cpu = false } = {}) {
  const [ra, rb] = cpu ? [a.cpuRounds, b.cpuRounds] : [a.rounds, b.rounds];
  const perRound = ra.map((mean, i) => mean / rb[i]);
  const pooled = cpu ? a.cpuUs / a.calls / (b.cpuUs / b.calls) : a.histogram.meanUs / b.histogram.meanUs;
  return { pooled, min: Math.min(...perRound), max: Math.max(...perRound) };
}

export const fmtUs = (us) => (us >= 1000 ? us.toFixed(0) : us >= 100 ? us.toFixed(1) : us >= 10 ? us.toFixed(2) : us.toFixed(3));
export const fmtRatio = (r) => `${r.pooled.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
export const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

export function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

export function gitDescribe() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '../packages'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (packages/ modified)` : commit;
  } catch {
    return 'unknown';
  }
}

export function machineLine(loadBefore, loadAfter) {
  const cpus = os.cpus();
  const load = (l) => l.map((x) => x.toFixed(2)).join(' / ');
  return `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores (${os.availableParallelism()} available), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; load average ${load(loadBefore)} before, ${load(loadAfter)} after (1 / 5 / 15 min).`;
}

/** Where a section goes: `BENCH_RESULTS` (a path, or `-` for stdout only), bench/RESULTS.md by default. */
export function resultsFile() {
  return process.env.BENCH_RESULTS === '-' ? undefined : process.env.BENCH_RESULTS || join(BENCH_DIR, 'RESULTS.md');
}

export const heading = (startedAt, what, note) => `## ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${what}${note ? ` — ${note}` : ''}`;

export const log = (message) => process.stderr.write(`${message}\n`);

/** Prints a results section and appends it to {@link resultsFile} (unless `BENCH_RESULTS=-`). */
export function publish(section) {
  process.stdout.write(`\n${section}`);
  const file = resultsFile();
  if (!file) return;
  if (!existsSync(file)) appendFileSync(file, '# Benchmark results\n\n');
  appendFileSync(file, `${section}\n`);
  log(`appended to ${relative(process.cwd(), file) || file}`);
}
