import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What the end-to-end tests share (test/e2e-nginx.test.ts, test/e2e-cluster.test.ts): the built
// examples (examples/<fw>/dist/server.js: `pnpm build` first) run as real processes on loopback,
// behind a real nginx configured from examples/nginx.

export const frameworks = ['express', 'koa', 'fastify', 'hono'] as const;
export type Framework = (typeof frameworks)[number];

export const root = fileURLToPath(new URL('..', import.meta.url));
export const nginxDir = join(root, 'examples', 'nginx');

/** Bounds on every wait. */
export const APP_START_TIMEOUT = 10_000;
export const NGINX_START_TIMEOUT = 10_000;
export const EXIT_TIMEOUT = 10_000;
export const REQUEST_TIMEOUT = 10_000;

// ---------------------------------------------------------------------------------------------
// Processes

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Started as the leader of its own process group (nginx: a master and its workers). */
  group: boolean;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const processes: Proc[] = [];
const tempDirs: string[] = [];

export function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, group = false): Proc {
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A spawn failure (ENOENT…) ends here too: `exit` is not emitted then.
    child.once('error', (error) => {
      output += `\nspawn error: ${error.message}`;
      resolve({ code: null, signal: null });
    });
  });
  const proc = { name, child, group, output: () => output, exited };
  processes.push(proc);
  return proc;
}

export function running(proc: Proc): boolean {
  return proc.child.pid !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
}

/** SIGKILL to the process, or to its whole group: a killed nginx master would leave its workers. */
export function kill(proc: Proc): void {
  if (proc.child.pid === undefined) return;
  try {
    if (proc.group) process.kill(-proc.child.pid, 'SIGKILL');
    else proc.child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

/** `promise`, or an error naming `what` once `ms` have passed. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a process that may still run: `signal` first (nginx: SIGTERM stops its workers too), then SIGKILL. */
export async function stop(proc: Proc, signal: NodeJS.Signals, ms = 5_000): Promise<void> {
  if (running(proc)) proc.child.kill(signal);
  try {
    await within(ms, `${proc.name} stopping`, proc.exited);
  } catch {
    // killed below
  }
  if (running(proc)) kill(proc);
}

/** Waits (bounded) for a process to exit; kills it and fails when it does not. */
export async function exitOf(proc: Proc, ms = EXIT_TIMEOUT) {
  try {
    return await within(ms, `${proc.name} exiting`, proc.exited);
  } catch (error) {
    kill(proc);
    throw new Error(`${(error as Error).message}\n${proc.name} output:\n${proc.output()}`);
  }
}

/** For `afterAll`: what a failure left running (the apps first, then nginx), and the temp dirs. */
export async function cleanUp(): Promise<void> {
  await Promise.all(processes.filter((proc) => !proc.group).map((proc) => stop(proc, 'SIGKILL')));
  // SIGTERM: nginx's workers stop with their master.
  await Promise.all(processes.filter((proc) => proc.group).map((proc) => stop(proc, 'SIGTERM')));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The example servers

/** Every variable the examples read: removed from the parent's environment before `vars` are set. */
export const EXAMPLE_VARIABLES = [
  'PORT',
  'HOST',
  'JWT_SECRET',
  'NODE_ENV',
  'ACCESS_TOKEN_TTL',
  'REFRESH_TOKEN_TTL',
  'TRUST_PROXY',
  'REDIS_URL',
  'REUSE_INTERVAL',
  'WORKERS',
  'DRAIN_DELAY_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'HEADERS_TIMEOUT_MS',
  'REQUEST_TIMEOUT_MS',
  'MAX_CONNECTIONS',
  'LOG_LEVEL',
  'LOGIN_LIMIT_PER_ADDRESS',
  'LOGIN_FAILURES_PER_USERNAME',
  'HASH_CONCURRENCY',
  'PUBLIC_URL',
  'KEYS_FILE',
  'AUDIENCE',
  'AUTH_ISSUER',
];

export interface App {
  proc: Proc;
  url: string;
  port: number;
}

/**
 * Starts a built example on loopback with `vars` (PORT=0 unless given: the kernel picks a free
 * port, which the `listening on` line names, no race); resolves once it listens.
 */
export async function startApp(fw: Framework, vars: Record<string, string>, name = `examples/${fw}`): Promise<App> {
  return startScript(join(root, 'examples', fw, 'dist', 'server.js'), vars, name);
}

/** {@link startApp} for any built example server script (`examples/two-services/dist/api-service.js`). */
export async function startScript(script: string, vars: Record<string, string>, name: string): Promise<App> {
  if (!existsSync(script)) throw new Error(`${script} is missing: build the examples first (pnpm build)`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of EXAMPLE_VARIABLES) delete env[variable];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOGIN_LIMIT_PER_ADDRESS: 'off', LOGIN_FAILURES_PER_USERNAME: 'off' }, vars);
  const proc = launch(name, process.execPath, [script], env);
  const pattern = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/m;
  const listening = new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = () => {
      const match = pattern.exec(proc.output());
      if (match !== null) {
        proc.child.stdout!.off('data', onData);
        resolve(match);
      }
    };
    proc.child.stdout!.on('data', onData);
    void proc.exited.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) before listening`)));
  });
  try {
    const match = await within(APP_START_TIMEOUT, `${proc.name}: "listening on" line`, listening);
    const port = Number(match[2]);
    if (!(port > 0)) throw new Error(`listened on port ${port}`);
    return { proc, url: match[1]!, port };
  } catch (error) {
    kill(proc);
    throw new Error(`${proc.name}: ${(error as Error).message}\noutput:\n${proc.output()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// nginx

/** The nginx binary, or a failure saying how to install it. */
export function findNginx(): string {
  try {
    const found = execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
    if (found !== '') return found;
  } catch {
    // not on PATH
  }
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there
    }
  }
  throw new Error(
    'nginx is not installed: the end-to-end tests run the examples behind a real nginx. ' +
      'Install it (Debian/Ubuntu: `apt-get install nginx-light`, as scripts/ensure-nginx.sh does) and run the tests again.',
  );
}

export const productionSite = readFileSync(join(nginxDir, 'jwtauth.conf'), 'utf8');
const proxyParams = join(nginxDir, 'proxy-params.conf');

/** The `server 127.0.0.1:PORT …;` lines of jwtauth.conf's upstream block. */
const SERVER_LINE = /^( *)server 127\.0\.0\.1:(\d+)([^;\n]*);\n/gm;

/**
 * jwtauth.conf's `upstream jwtauth_app { … }` block, its two `server` lines (ports 3000 and 3001,
 * with their parameters) pointed at `ports` instead: one line per port, with the first line's
 * parameters.
 */
export function upstreamBlock(ports: readonly number[]): string {
  const block = /^upstream jwtauth_app \{[^}]*\}/m.exec(productionSite)?.[0];
  const lines = block === undefined ? [] : [...block.matchAll(SERVER_LINE)];
  if (block === undefined || lines.map((line) => line[2]).join() !== '3000,3001') {
    throw new Error('examples/nginx/jwtauth.conf has no `upstream jwtauth_app { server 127.0.0.1:3000 …; server 127.0.0.1:3001 …; … }` block');
  }
  const [, indent, , parameters] = lines[0]!;
  const servers = ports.map((port) => `${indent}server 127.0.0.1:${port}${parameters};\n`).join('');
  let first = true;
  return block.replace(SERVER_LINE, () => {
    if (!first) return '';
    first = false;
    return servers;
  });
}

/**
 * The test's nginx.conf: everything inside `dir`, the production upstream block, and a server
 * that includes the production proxy-params.conf itself, on plain HTTP. The access log records
 * which instances each request went to (`$upstream_addr`: two when nginx retried it).
 */
function nginxConfig(dir: string, nginxPort: number, appPorts: readonly number[]): string {
  return `# Generated by test/e2e-support.ts from examples/nginx.
worker_processes 1;
error_log ${dir}/error.log notice;
events {
    worker_connections 256;
}
http {
    log_format upstreams '$status $request_method $uri upstream=[$upstream_addr] upstream_status=[$upstream_status]';
    access_log ${dir}/access.log upstreams;
    client_body_temp_path ${dir}/client_body_temp;
    proxy_temp_path ${dir}/proxy_temp;
    fastcgi_temp_path ${dir}/fastcgi_temp;
    uwsgi_temp_path ${dir}/uwsgi_temp;
    scgi_temp_path ${dir}/scgi_temp;

${upstreamBlock(appPorts)}

    server {
        # In production: the TLS server block of jwtauth.conf.
        listen 127.0.0.1:${nginxPort};
        server_name localhost;
        include "${proxyParams}";
    }
}
`;
}

export interface Nginx {
  proc: Proc;
  url: string;
  dir: string;
  /** nginx's error log so far. */
  errorLog(): string;
  /** nginx's access log so far, one line per request (`log_format upstreams` above). */
  accessLog(): string[];
}

/** Starts nginx in front of the apps on `appPorts`; resolves once it proxies /healthz to them. */
export async function startNginx(name: string, appPorts: readonly number[], appsRunning: () => boolean): Promise<Nginx> {
  const nginx = findNginx();
  const dir = mkdtempSync(join(tmpdir(), `jwtauth-e2e-${name}-`));
  tempDirs.push(dir);
  // Run as root, nginx's workers drop to an unprivileged user that must reach the temp paths.
  chmodSync(dir, 0o755);
  const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '');
  // The port is picked, then bound by nginx: another process may take it in between, so retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, appPorts));
    const proc = launch(
      `nginx for ${name}`,
      nginx,
      ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', `daemon off; pid ${dir}/nginx.pid;`],
      process.env,
      true,
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + NGINX_START_TIMEOUT;
    let last = '';
    while (Date.now() < deadline && running(proc) && appsRunning()) {
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        const text = await response.text();
        if (response.status === 200) {
          return {
            proc,
            url,
            dir,
            errorLog: () => read('error.log'),
            accessLog: () =>
              read('access.log')
                .split('\n')
                .filter((line) => line !== ''),
          };
        }
        last = `${response.status} ${text}`;
      } catch (error) {
        last = String((error as Error).cause ?? error);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const errorLog = read('error.log');
    if (running(proc)) {
      await stop(proc, 'SIGTERM');
      if (!appsRunning()) throw new Error(`the app exited while nginx for ${name} was starting`);
      throw new Error(`nginx for ${name} did not proxy /healthz within ${NGINX_START_TIMEOUT} ms (last: ${last})\n${errorLog}`);
    }
    await exitOf(proc);
    if (attempt < 3 && /Address already in use/.test(proc.output() + errorLog)) continue;
    throw new Error(`nginx for ${name} exited at start:\n${proc.output()}\n${errorLog}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

export interface CallInit {
  bearer?: string;
  /** JSON-encoded and sent with `Content-Type: application/json` (POST). */
  json?: unknown;
  cookie?: string;
}

export async function send(url: string, init: CallInit = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // recorded as text; the assertions on `body` will say what was wrong
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}
