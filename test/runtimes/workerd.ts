import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { RuntimeConfig } from './server.js';
import { SCENARIO_HEADER } from './apps.js';

const require = createRequire(import.meta.url);
/** The binary itself (the package's postinstall puts it in bin/), from the npm package `workerd`. */
export const WORKERD = join(dirname(require.resolve('workerd/package.json')), 'bin', 'workerd');
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A workerd process serving worker.ts: the port of each app, by the name server.ts uses. */
export interface RunningWorkerd {
  /** By app name, and `runtime`: a socket whose answer is `{ userAgent }`. */
  ports: Record<string, number>;
  /** The files of the `@jwtauth/*` packages esbuild bundled (relative to the repository root). */
  bundled: string[];
  stderr(): string;
  close(): Promise<void>;
}

/** A capnp text literal (JSON's escapes are capnp's). */
const text = (value: string) => JSON.stringify(value);

/**
 * Bundles worker.ts (esbuild, as wrangler does: ESM, the `workerd`/`worker`/`browser` export
 * conditions, `node:` modules left to workerd's nodejs_compat) and serves it with
 * `workerd serve`: one worker, one loopback socket per app on port 0, the ports read from
 * `--control-fd`, outbound `fetch` allowed to loopback (the key server).
 */
export async function startWorkerd(config: Extract<RuntimeConfig, { mode: 'conformance' }>, { timeoutMs = 30000 } = {}): Promise<RunningWorkerd> {
  const dir = await mkdtemp(join(tmpdir(), 'jwtauth-workerd-'));
  const { metafile } = await build({
    metafile: true,
    absWorkingDir: REPO,
    entryPoints: [WORKER],
    outfile: join(dir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    external: ['node:*'],
    logLevel: 'error',
  });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const bundled = Object.keys(metafile.inputs).filter((path) => path.startsWith('packages/'));
  const names = [...config.scenarios, 'issuer', 'runtime'];
  const sockets = names.map(
    (name, i) =>
      `(name = "s${i}", address = "127.0.0.1:0", service = "app", http = (injectRequestHeaders = [(name = ${text(SCENARIO_HEADER)}, value = ${text(encodeURIComponent(name))})]))`,
  );
  await writeFile(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "app", worker = (
      modules = [(name = "worker.js", esModule = embed "worker.js")],
      compatibilityDate = "2026-11-01",
      compatibilityFlags = ["nodejs_compat"],
      bindings = [(name = "CONFIG", text = embed "config.json")],
      globalOutbound = "loopback",
    )),
    (name = "loopback", network = (allow = ["local", "private"])),
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
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const ports: Record<string, number> = {};
  return new Promise<RunningWorkerd>((resolve, reject) => {
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`workerd did not listen within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`workerd exited (code ${child.exitCode}) before it listened:\n${stderr}`));
    });
    // One JSON line per socket once it listens: {"event":"listen","socket":"s0","port":…}.
    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
      if (message.event !== 'listen' || message.socket === undefined || message.port === undefined) return;
      ports[names[Number(message.socket.slice(1))]!] = message.port;
      if (Object.keys(ports).length < names.length) return;
      clearTimeout(timer);
      resolve({ ports, bundled, stderr: () => stderr, close });
    });
  });
}
