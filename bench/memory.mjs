// Memory per verified-token cache entry, in-process: the heap after N distinct tokens have been
// verified through a cache that keeps them all, minus the heap before (each after a full
// collection), divided by N. Each measurement runs in a process of its own (node --expose-gc
// --no-flush-bytecode), so nothing another measurement left or freed lands in it:
// - ours: a Hono app with jwtAuth (requests injected with app.request()), cache sized to keep all N;
// - control: the same with `cache: false`; what it shows is noise, not the cache's;
// - fast-jwt (the verifier behind @fastify/jwt) with its own cache on, for scale.
// The tokens are signed once, up front, and handed over in a file the child keeps as a Buffer
// (outside the JS heap); each one becomes a JS string only when it is sent and is then dropped, as a
// server drops a request's header, so what a cache entry keeps alive (the token it is keyed by,
// say) is counted against the entry.
// Run: node bench/memory.mjs [--json] (bench:http runs it too); BENCH_MEMORY_TOKENS sets N.
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECRET = 'bench-secret-that-is-long-enough-for-hs256-signatures';
const WARM = 1000;
const KINDS = ['ours', 'control', 'fast-jwt'];

if (process.argv[2] === '--child') await child(...process.argv.slice(3));
else await parent();

async function parent() {
  const n = Number(process.env.BENCH_MEMORY_TOKENS ?? 5000);
  if (!Number.isInteger(n) || n < 100) throw new Error('BENCH_MEMORY_TOKENS must be a whole number, at least 100.');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'jwtauth-memory-'));
  const now = Math.floor(Date.now() / 1000);
  const b64url = (value) => Buffer.from(value).toString('base64url');
  const rows = [];
  try {
    writeFileSync(join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    for (const alg of ['HS256', 'RS256']) {
      const lines = [];
      for (let i = 0; i < WARM + n + 1; i++) {
        const head = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: `user-${i}`, scope: 'read', iat: now, exp: now + 3600 }))}`;
        const signature = alg === 'HS256' ? createHmac('sha256', SECRET).update(head).digest() : sign('sha256', Buffer.from(head), privateKey);
        lines.push(`${head}.${signature.toString('base64url')}`);
      }
      writeFileSync(join(dir, `${alg}.txt`), `${lines.join('\n')}\n`);
      const row = { alg, tokens: n, tokenLength: lines[WARM].length };
      for (const kind of KINDS) {
        const out = execFileSync(
          process.execPath,
          ['--expose-gc', '--no-flush-bytecode', fileURLToPath(import.meta.url), '--child', alg, kind, dir, String(n)],
          { encoding: 'utf8' },
        );
        row[kind] = JSON.parse(out).bytesPerToken;
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  console.table(
    rows.map((r) => ({
      alg: r.alg,
      'token length': r.tokenLength,
      'ours, bytes/entry': Math.round(r.ours),
      'fast-jwt, bytes/entry': Math.round(r['fast-jwt']),
      'control (cache off), bytes/token': Math.round(r.control),
    })),
  );
}

async function child(alg, kind, dir, count) {
  const n = Number(count);
  const publicPem = readFileSync(join(dir, 'public.pem'), 'utf8');
  const key = alg === 'HS256' ? SECRET : publicPem;
  // One Buffer holds every token; offsets live in a typed array: neither grows the JS heap.
  const file = readFileSync(join(dir, `${alg}.txt`));
  const starts = new Uint32Array(WARM + n + 2);
  for (let i = 0, line = 1; i < file.length; i++) if (file[i] === 0x0a) starts[line++] = i + 1;
  const token = (i) => file.toString('latin1', starts[i], starts[i + 1] - 1);

  let verify;
  if (kind === 'fast-jwt') {
    // fast-jwt is @fastify/jwt's dependency, not the bench's: resolve it from there.
    const { createVerifier } = createRequire(createRequire(import.meta.url).resolve('@fastify/jwt'))('fast-jwt');
    const verifier = createVerifier({ key, algorithms: [alg], cache: n + WARM + 10, cacheTTL: 3_600_000 });
    verify = async (t) => typeof verifier(t).sub === 'string';
  } else {
    const [{ jwtAuth }, { Hono }] = await Promise.all([import('@jwtauth/hono'), import('hono')]);
    const cache = kind === 'ours' ? { max: n + WARM + 10, ttl: 3600 } : false;
    const app = new Hono().use('*', jwtAuth({ secret: key, algorithms: [alg], cache })).get('/', (c) => c.text('ok'));
    verify = async (t) => (await app.request('/', { headers: { authorization: `Bearer ${t}` } })).status === 200;
  }
  const heapUsed = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };

  // Each token is sent twice, as a client reuses its token: @jwtauth keeps a token from its
  // second verification on (fast-jwt from its first), so one request each would measure nothing.
  const twice = async (t) => (await verify(t)) && (await verify(t));
  // Warm up on tokens of their own (compiled code, the cache's Map past its first sizes).
  for (let i = 0; i < WARM; i++) if (!(await twice(token(i)))) throw new Error(`${kind} refused warm-up token ${i}`);
  const before = heapUsed();
  for (let i = WARM; i < WARM + n; i++) if (!(await twice(token(i)))) throw new Error(`${kind} refused token ${i}`);
  const after = heapUsed();
  // The verifier (and its cache) must still be reachable when the heap is read.
  if (!(await verify(token(WARM + n)))) throw new Error(`${kind} refused the last token`);
  process.stdout.write(JSON.stringify({ bytesPerToken: (after - before) / n }));
}
