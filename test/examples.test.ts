import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Runs the built examples (examples/<fw>/dist/server.js) as real processes: `pnpm build` first.

const frameworks = ['express', 'koa', 'fastify', 'hono'] as const;
const root = fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'examples-test-secret-0123456789-abcdefghij';
const STARTUP_TIMEOUT = 10_000;
const EXIT_TIMEOUT = 10_000;

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serverPath(fw: string): string {
  return fileURLToPath(new URL(`../examples/${fw}/dist/server.js`, import.meta.url));
}

/** The parent's environment without anything the examples read, plus `vars`. */
function envWith(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['PORT', 'HOST', 'JWT_SECRET', 'NODE_ENV']) delete env[name];
  return { ...env, ...vars };
}

function run(fw: string, env: NodeJS.ProcessEnv): Omit<Running, 'url'> {
  const script = serverPath(fw);
  if (!existsSync(script)) throw new Error(`${script} is missing: build the examples first (pnpm build)`);
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts an example and waits (bounded) for its `listening on` line. */
async function start(fw: string, env: NodeJS.ProcessEnv): Promise<Running> {
  const started = run(fw, env);
  const { child } = started;
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (reason: string) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${fw}: ${reason}\nstdout: ${started.stdout()}\nstderr: ${started.stderr()}`));
    };
    const onData = () => {
      const match = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(started.stdout());
      if (match === null) return;
      cleanup();
      if (Number(match[2]) > 0) resolve(match[1]!);
      else fail('listened on port 0');
    };
    const onExit = (code: number | null) => fail(`exited with ${code} before listening`);
    const timer = setTimeout(() => fail(`no "listening on" line within ${STARTUP_TIMEOUT} ms`), STARTUP_TIMEOUT);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  return { ...started, url };
}

/** Waits (bounded) for a process to exit. */
async function exitOf(running: Pick<Running, 'exited' | 'child'>) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.child.kill('SIGKILL');
      reject(new Error(`did not exit within ${EXIT_TIMEOUT} ms`));
    }, EXIT_TIMEOUT);
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const key = new TextEncoder().encode(SECRET);
function token(sub: string, scope: string): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

async function get(url: string, bearer?: string) {
  const response = await fetch(url, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe.each(frameworks)('examples/%s', (fw) => {
  describe('running with JWT_SECRET', () => {
    let server: Running;
    let reader: string;
    let admin: string;

    beforeAll(async () => {
      server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET }));
      reader = await token('alice', 'read');
      admin = await token('root', 'read admin');
    });
    afterAll(() => {
      if (server?.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });

    it('answers /healthz publicly', async () => {
      const res = await get(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('challenges /api/hello without a token', async () => {
      const res = await get(`${server.url}/api/hello`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ error: 'unauthorized', code: 'missing_token' });
    });

    it('rejects a token signed with another secret', async () => {
      const forged = await new SignJWT({ scope: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('mallory')
        .sign(new TextEncoder().encode('some-other-secret-0123456789-abcdefghij'));
      const res = await get(`${server.url}/api/hello`, forged);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });
    });

    it('greets the subject of a valid token', async () => {
      const res = await get(`${server.url}/api/hello`, reader);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ message: 'Hello, alice!', sub: 'alice', scopes: ['read'] });
    });

    it('forbids /api/admin without the admin scope', async () => {
      const res = await get(`${server.url}/api/admin`, reader);
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="admin"/);
      expect(res.body).toMatchObject({ error: 'insufficient_scope', code: 'insufficient_scope' });
    });

    it('welcomes an admin on /api/admin', async () => {
      const res = await get(`${server.url}/api/admin`, admin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'Welcome, admin root.' });
    });

    it('exits 0 on SIGTERM, having printed only the listening line', async () => {
      server.child.kill('SIGTERM');
      expect(await exitOf(server)).toEqual({ code: 0, signal: null });
      expect(server.stdout()).toBe(`listening on ${server.url}\n`);
      expect(server.stderr()).toBe('');
    });
  });

  it('exits 1 in production without JWT_SECRET', async () => {
    const child = run(fw, envWith({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1' }));
    expect(await exitOf(child)).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toMatch(/JWT_SECRET/);
    expect(child.stdout()).toBe('');
  });

  it('exits 1 in production with a JWT_SECRET shorter than 32 characters', async () => {
    const child = run(fw, envWith({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'x'.repeat(31) }));
    expect(await exitOf(child)).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toMatch(/JWT_SECRET.*32/);
    expect(child.stdout()).toBe('');
  });

  it('starts with a warning and a development secret outside production, and exits 0 on SIGINT', async () => {
    const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1' }));
    try {
      await vi.waitFor(() => expect(server.stderr()).toMatch(/warning: JWT_SECRET is not set/));
      // Signed with the test secret, which this server was not given.
      const res = await get(`${server.url}/api/hello`, await token('alice', 'read'));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'invalid_signature' });
      server.child.kill('SIGINT');
      expect(await exitOf(server)).toEqual({ code: 0, signal: null });
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
  });
});

