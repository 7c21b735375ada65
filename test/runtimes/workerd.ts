import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SCENARIO_HEADER } from './apps.js';
import type { RuntimeConfig } from './server.js';

const require = createRequire(import.meta.url);
/** The binary itself (the package's postinstall puts it in bin/), from the npm package `workerd`. */
export const WORKERD = join(dirname(require.resolve('workerd/package.json')), 'bin', 'workerd');
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The Workers compatibility date both workers are configured with. */
export const COMPATIBILITY_DATE = '2026-11-01';

/** One worker of the workerd process. */
export interface WorkerSpec {
  /** A name for the worker (its ports are found under it). */
  name: string;
  /**
   * Whether the worker runs with the `nodejs_compat` flag. Without it, the `node:` modules the test
   * fixtures import (not the packages: they import none) are stubs that throw when called, so
   * only scenarios whose options need no `node:crypto` KeyObject can run there.
   */
  nodejsCompat: boolean;
  config: Extract<RuntimeConfig, { mode: 'conformance' }>;
}

/** A workerd process serving worker.ts. */
export interface RunningWorkerd {
  /** By worker name, then by app name (as server.ts names them), plus `runtime`: a socket answering `{ userAgent }`. */
  ports: Record<string, Record<string, number>>;
  /** The files of the `@jwtauth/*` packages esbuild bundled (relative to the repository root). */
  bundled: string[];
  stderr(): string;
  close(): Promise<void>;
}

/** A capnp text literal (JSON's escapes are capnp's). */
const text = (value: string) => JSON.stringify(value);

/** The names the test fixtures import from `node:` modules, as functions that throw when called. */
const NODE_STUBS: Plugin = {
  name: 'node-stubs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => {
      const fail = `throw new Error(${JSON.stringify(`${args.path} is not available without nodejs_compat`)});`;
      const functions = ['createServer', 'createPrivateKey', 'createPublicKey', 'generateKeyPairSync', 'request'];
      return {
        contents: [...functions.map((name) => `export function ${name}() { ${fail} }`), `export const KeyObject = { from() { ${fail} } };`].join('\n'),
        loader: 'js',
      };
    });
  },
};

/** Bundles worker.ts as wrangler does (ESM, the `workerd`/`worker`/`browser` export conditions). */
async function bundle(outfile: string, nodejsCompat: boolean): Promise<string[]> {
  const { metafile } = await build({
    metafile: true,
    absWorkingDir: REPO,
    entryPoints: [WORKER],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    ...(nodejsCompat ? { external: ['node:*'] } : { plugins: [NODE_STUBS] }),
    logLevel: 'error',
  });
  return Object.keys(metafile.inputs).filter((path) => path.startsWith('packages/'));
}

/**
 * Bundles worker.ts for each worker and serves them with one `workerd serve`: one loopback socket
 * per app on port 0 (the ports read from `--control-fd`), outbound `fetch` allowed to loopback
 * only (the key server).
 */
export async function startWorkerd(workers: WorkerSpec[], options: { timeoutMs?: number } = {}): Promise<RunningWorkerd> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtauth-workerd-'));
  try {
    return await serve(dir, workers, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** startWorkerd in `dir`, which the caller removes if this fails. */
async function serve(dir: string, workers: WorkerSpec[], { timeoutMs = 45000 } = {}): Promise<RunningWorkerd> {
  const services: string[] = [];
  const sockets: string[] = [];
  const socketApps: Array<{ worker: string; app: string }> = [];
  let bundled: string[] = [];
  for (const [w, { name, nodejsCompat, config }] of workers.entries()) {
    bundled = await bundle(join(dir, `worker-${w}.js`), nodejsCompat);
    await writeFile(join(dir, `config-${w}.json`), JSON.stringify(config));
    services.push(`(name = "w${w}", worker = (
      modules = [(name = "worker.js", esModule = embed "worker-${w}.js")],
      compatibilityDate = ${text(COMPATIBILITY_DATE)},
      compatibilityFlags = [${nodejsCompat ? '"nodejs_compat"' : ''}],
      bindings = [(name = "CONFIG", text = embed "config-${w}.json")],
      globalOutbound = "loopback",
    ))`);
    for (const app of [...config.scenarios, 'issuer', 'runtime']) {
      const header = `(name = ${text(SCENARIO_HEADER)}, value = ${text(encodeURIComponent(app))})`;
      sockets.push(`(name = "s${socketApps.length}", address = "127.0.0.1:0", service = "w${w}", http = (injectRequestHeaders = [${header}]))`);
      socketApps.push({ worker: name, app });
    }
  }
  await writeFile(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.join(',\n    ')},
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [
    ${sockets.join(',\n    ')}
  ],
);
`,
  );
  const child = spawn(WORKERD, ['serve', join(dir, 'config.capnp'), '--control-fd=3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const close = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  const ports: Record<string, Record<string, number>> = Object.fromEntries(workers.map(({ name }) => [name, {}]));
  let listening = 0;
  return new Promise<RunningWorkerd>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stop();
    }, timeoutMs);
    // Rejects once workerd has exited (by itself, or stopped for being slow), so the caller can
    // remove the directory; a no-op once resolved.
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        new Error(
          timedOut ? `workerd did not listen within ${timeoutMs} ms:\n${stderr}` : `workerd exited (code ${child.exitCode}) before it listened:\n${stderr}`,
        ),
      );
    });
    // One JSON line per socket once it listens: {"event":"listen","socket":"s0","port":…}.
    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
      if (message.event !== 'listen' || message.socket === undefined || message.port === undefined) return;
      const { worker, app } = socketApps[Number(message.socket.slice(1))]!;
      ports[worker]![app] = message.port;
      if (++listening < socketApps.length) return;
      clearTimeout(timer);
      resolve({ ports, bundled, stderr: () => stderr, close });
    });
  });
}
