import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Ready, RuntimeConfig } from './server.js';

/** The runtimes server.ts runs in, as installed from the npm registry (test/package.json). */
export type RuntimeName = 'bun' | 'deno';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
/** The test workspace: its package.json and node_modules are what Deno resolves `@jwtauth/*` and `hono` through. */
const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));
/** The repository: Deno may read it (node_modules links into packages/*\/dist), nothing else. */
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The binaries themselves, not the package's bin shims: the `deno` shim is a Node script that
 * spawns the binary, so killing the shim would leave the server running.
 */
export const BINARIES: Record<RuntimeName, string> = {
  bun: join(packageDir('bun'), 'bin', 'bun.exe'),
  deno: join(packageDir('deno'), 'deno'),
};

/** A server.ts process that said it was ready. */
export interface RunningRuntime extends Ready {
  /** Every JSON line it printed after the ready line. */
  lines: unknown[];
  /** Its stderr so far, for failure messages. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * The command line that runs server.ts. Deno: `--allow-net` as given (the permission test narrows
 * it to one port), reads limited to the repository, the one environment variable, no prompt, and
 * the `node_modules` pnpm made (`manual`: nothing is downloaded). `./x.js` imports name `.ts` files
 * (the repository's TypeScript convention), which Bun resolves and Deno does with sloppy imports.
 */
function commandLine(runtime: RuntimeName, allowNet: string): string[] {
  if (runtime === 'bun') return [BINARIES.bun, 'run', SERVER];
  return [
    BINARIES.deno,
    'run',
    '--no-prompt',
    '--node-modules-dir=manual',
    '--unstable-sloppy-imports',
    '--no-lock',
    `--allow-read=${REPO}`,
    '--allow-env=JWTAUTH_RUNTIME_CONFIG',
    `--allow-net=${allowNet}`,
    SERVER,
  ];
}

/**
 * Starts server.ts in `runtime` with `config` and waits (up to `timeoutMs`) for its ready line.
 * `allowNet` is Deno's `--allow-net` value (default: loopback, any port).
 */
export function startRuntime(runtime: RuntimeName, config: RuntimeConfig, { allowNet = '127.0.0.1', timeoutMs = 45000 } = {}): Promise<RunningRuntime> {
  const [command, ...args] = commandLine(runtime, allowNet);
  const child: ChildProcess = spawn(command!, args, {
    cwd: TEST_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', JWTAUTH_RUNTIME_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: unknown[] = [];
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<RunningRuntime>((resolve, reject) => {
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`${runtime} did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${runtime} exited (code ${child.exitCode}) before it was ready:\n${stderr}`));
    });
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        return; // not ours (a runtime's own notice)
      }
      if (ready) {
        lines.push(line);
        return;
      }
      ready = true;
      clearTimeout(timer);
      resolve({ ...(line as Ready), lines, stderr: () => stderr, close });
    });
  });
}
