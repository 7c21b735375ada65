import { connect, type Socket } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_VARIABLES } from './e2e-support.js';
import { startRedis } from './redis-server.js';

// Runs the built examples (examples/<fw>/dist/server.js) as real processes: `pnpm build` first.

const frameworks = ['express', 'koa', 'fastify', 'hono'] as const;
/** JSON, with or without the charset some frameworks add (`res.json()` in Express). */
const JSON_TYPE = /^application\/json(; ?charset=utf-8)?$/i;
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

/**
 * The parent's environment without anything the examples read, plus `vars`. `DRAIN_DELAY_MS` is
 * 0 unless a test sets it: only the drain tests wait for it (5 s by default). Login throttling is
 * off unless a test sets it, since every test logs in from 127.0.0.1; "login throttling" below
 * runs with the defaults.
 */
function envWith(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of EXAMPLE_VARIABLES) delete env[name];
  return { ...env, DRAIN_DELAY_MS: '0', LOGIN_LIMIT_PER_ADDRESS: 'off', LOGIN_FAILURES_PER_USERNAME: 'off', ...vars };
}

function run(fw: string, env: NodeJS.ProcessEnv): Omit<Running, 'url'> {
  const script = serverPath(fw);
  if (!existsSync(script)) throw new Error(`${script} is missing: build the examples first (pnpm build)`);
  const child = spawn(process.execPath, [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
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

/** An access token signed with `secret`, by default one the servers do not have. */
function forged(secret = 'some-other-secret-0123456789-abcdefghij', header: { kid?: string } = {}, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ scope: 'admin', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header })
    .setSubject('mallory')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** A JSON body with every token replaced by `<jwt>`. */
function masked(text: string): unknown {
  return JSON.parse(text.replace(JWT, '<jwt>')) as unknown;
}
const JWT_ONLY = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const COOKIE_ATTRIBUTES = 'Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict';
const NOT_FOUND = '{"error":"not_found","error_description":"There is nothing at this address","code":"not_found"}';

interface CallInit {
  method?: string;
  bearer?: string;
  /** Sent as is; `Content-Type: application/json` unless `contentType` says otherwise. */
  body?: string;
  /** `null`: no Content-Type header. */
  contentType?: string | null;
  contentEncoding?: string;
  cookie?: string;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
  setCookie: string[];
}

/**
 * What must be the same whichever framework answers (tokens and times aside): the wire contract
 * (status, media type, the auth and caching headers, cookies, and the JSON body as parsed). Byte
 * identity is not asked for: each example answers in its framework's own way (`res.json()` adds
 * a charset, key order and Content-Length framing may differ).
 */
interface Step {
  step: string;
  status: number;
  headers: Record<string, string | null>;
  setCookie: string[];
  body: unknown;
}

const COMPARED_HEADERS = ['www-authenticate', 'cache-control', 'retry-after'];

/**
 * The JSON body with tokens and times replaced, or the text when it is not JSON. An error's
 * `error_description` is compared by its presence only: the wire contract is the status, `error`,
 * `code` and the fields; each example words its own refusals in its framework's way.
 */
function comparableBody(text: string): unknown {
  const masked = text.replace(JWT, '<jwt>').replace(/"exp":\d+/g, '"exp":"<time>"');
  let body: unknown;
  try {
    body = JSON.parse(masked) as unknown;
  } catch {
    return masked;
  }
  if (typeof body === 'object' && body !== null && typeof (body as { error_description?: unknown }).error_description === 'string') {
    return { ...body, error_description: '<text>' };
  }
  return body;
}

function normalise(step: string, reply: Reply): Step {
  const mediaType = reply.headers.get('content-type')?.split(';')[0]!.trim().toLowerCase() ?? null;
  return {
    step,
    status: reply.status,
    headers: { 'media-type': mediaType, ...Object.fromEntries(COMPARED_HEADERS.map((name) => [name, reply.headers.get(name)])) },
    setCookie: reply.setCookie.map((cookie) => cookie.replace(JWT, '<jwt>')),
    body: comparableBody(reply.text),
  };
}

async function send(base: string, path: string, init: CallInit): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  if (init.contentEncoding !== undefined) headers['content-encoding'] = init.contentEncoding;
  if (init.body !== undefined && init.contentType !== null) headers['content-type'] = init.contentType ?? 'application/json';
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const response = await fetch(`${base}${path}`, { method, headers, body: init.body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    setCookie: response.headers.getSetCookie(),
  };
}

/** What came back on a raw connection: the bytes, whether the server closed it, and when. */
interface Exchange {
  data: string;
  /** The server closed the connection (within the wait). */
  closed: boolean;
  ms: number;
}

/**
 * Opens a connection, hands it to `write`, and collects what comes back until the server closes
 * the connection (`until: 'close'`) or has sent one complete answer (`until: 'answer'`), or
 * `within` ms have passed. Never waits longer: a server that holds the connection shows as
 * `closed: false`.
 */
function exchange(
  base: string,
  write: (socket: Socket) => void,
  { until = 'answer', within = 5_000 }: { until?: 'answer' | 'close'; within?: number } = {},
): Promise<Exchange> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), within);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (until === 'answer' && parseAnswer(data) !== undefined) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.once('connect', () => write(socket));
  });
}

/** The first complete HTTP answer in `data` (with a Content-Length body), or `undefined`. */
function parseAnswer(data: string): Reply | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  if (data.length < end + 4 + length) return undefined;
  const text = data.slice(end + 4, end + 4 + length);
  return {
    status: Number(statusLine!.split(' ')[1]),
    headers,
    text,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    setCookie: headers.getSetCookie(),
  };
}

/** Sends `request` as it is and returns the answer (failing when there is none within 5 s). */
async function sendRaw(base: string, request: string, until: 'answer' | 'close' = 'answer'): Promise<Reply & Exchange> {
  const result = await exchange(base, (socket) => socket.write(request), { until });
  const reply = parseAnswer(result.data);
  if (reply === undefined) throw new Error(`no complete answer to ${JSON.stringify(request.slice(0, 80))} within 5 s: ${JSON.stringify(result.data)}`);
  return { ...result, ...reply };
}

/** Writes the parts of a request one by one, `every` ms apart (a slow client). */
function dribble(parts: string[], every: number) {
  return (socket: Socket) => {
    let next = 0;
    const timer = setInterval(() => {
      if (next < parts.length && socket.writable) socket.write(parts[next++]!);
      else clearInterval(timer);
    }, every);
    socket.once('close', () => clearInterval(timer));
  };
}

/** A kept-alive connection: sends requests one at a time and reads each answer. */
async function keptAlive(base: string) {
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  let data = '';
  let closed = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return {
    socket,
    closed: () => closed,
    async request(text: string): Promise<Reply> {
      data = '';
      socket.write(text);
      return vi.waitFor(() => parseAnswer(data) ?? Promise.reject(new Error(`no complete answer yet: ${JSON.stringify(data)}`)), {
        timeout: 5_000,
        interval: 10,
      });
    },
  };
}

/** Whether a connection to `port` is refused (nothing listens there). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** The lines pino wrote on stdout (every line but the `listening on` line), parsed. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('listening on '))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The transcript of the same script, per framework: compared at the end. */
const transcripts = new Map<string, Step[]>();

describe.each(frameworks)('examples/%s', (fw) => {
  describe('running with JWT_SECRET', () => {
    let server: Running;
    const steps: Step[] = [];
    transcripts.set(fw, steps);

    /** One request of the script, recorded for the cross-framework comparison. */
    async function call(step: string, path: string, init: CallInit = {}): Promise<Reply> {
      const reply = await send(server.url, path, init);
      steps.push(normalise(step, reply));
      return reply;
    }
    const login = (step: string, fields: Record<string, unknown>) => call(step, '/api/token', { body: JSON.stringify(fields) });
    const alice = { username: 'alice', password: 'alice-password' };
    const admin = { username: 'admin', password: 'admin-password' };
    const tokensOf = (reply: Reply) => ({ access: reply.body.access_token as string, refresh: reply.body.refresh_token as string });
    /** The refresh token a cookie-mode answer sets. */
    const cookieToken = (reply: Reply) => /^refresh_token=([^;]*);/.exec(reply.setCookie[0] ?? '')?.[1] ?? '';

    beforeAll(async () => {
      server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET }));
    });
    afterAll(() => {
      if (server?.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });

    it('answers /healthz publicly', async () => {
      const res = await call('healthz', '/healthz');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('challenges /api/hello without a token', async () => {
      const res = await call('hello without a token', '/api/hello');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(res.body).toMatchObject({ error: 'unauthorized', code: 'missing_token' });
    });

    it('rejects a token signed with another secret', async () => {
      const res = await call('forged token', '/api/hello', { bearer: await forged() });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });
    });

    it('logs alice in and answers the RFC 6749 token response', async () => {
      const res = await login('login alice', alice);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.setCookie).toEqual([]);
      expect(masked(res.text)).toEqual({ access_token: '<jwt>', token_type: 'Bearer', expires_in: 300, refresh_token: '<jwt>', refresh_expires_in: 86400 });
      const { access, refresh } = tokensOf(res);
      expect(decodeProtectedHeader(access).typ).toBe('at+jwt');
      expect(decodeJwt(access)).toMatchObject({ sub: 'alice', scope: 'read', token_type: 'access' });
      expect(decodeJwt(refresh)).toMatchObject({ sub: 'alice', token_type: 'refresh' });
    });

    it('refuses a wrong password and an unknown user alike: 401 invalid_credentials', async () => {
      const wrong = await login('wrong password', { ...alice, password: 'alice-passwore' });
      const unknown = await login('unknown user', { username: 'mallory', password: 'alice-password' });
      for (const res of [wrong, unknown]) {
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
        expect(res.body).toMatchObject({ error: 'invalid_grant', code: 'invalid_credentials' });
      }
      expect(unknown.body).toEqual(wrong.body);
    });

    it('answers 400 invalid_json, 400 missing_field and 413 body_too_large for bad bodies', async () => {
      const cases: [string, CallInit, number, string][] = [
        ['invalid JSON', { body: '{"username":' }, 400, 'invalid_json'],
        ['JSON array', { body: '["alice","alice-password"]' }, 400, 'invalid_json'],
        ['JSON null', { body: 'null' }, 400, 'invalid_json'],
        ['empty body', { body: '' }, 400, 'invalid_json'],
        ['text/plain', { body: JSON.stringify(alice), contentType: 'text/plain' }, 400, 'invalid_json'],
        ['form', { body: 'username=alice&password=alice-password', contentType: 'application/x-www-form-urlencoded' }, 400, 'invalid_json'],
        ['no Content-Type', { body: JSON.stringify(alice), contentType: null }, 400, 'invalid_json'],
        ['gzip-encoded', { body: 'not really gzip', contentEncoding: 'gzip' }, 400, 'invalid_json'],
        ['no password', { body: '{"username":"alice"}' }, 400, 'missing_field'],
        ['password not a string', { body: '{"username":"alice","password":1}' }, 400, 'missing_field'],
        ['unknown refresh_in', { body: JSON.stringify({ ...alice, refresh_in: 'sms' }) }, 400, 'missing_field'],
        ['17 KiB body', { body: JSON.stringify({ ...alice, padding: 'x'.repeat(17 * 1024) }) }, 413, 'body_too_large'],
        // Size first: an oversized body is 413 whatever else is wrong with it.
        ['17 KiB gzip-encoded body', { body: 'x'.repeat(17 * 1024), contentEncoding: 'gzip' }, 413, 'body_too_large'],
        ['17 KiB text body', { body: 'x'.repeat(17 * 1024), contentType: 'text/plain' }, 413, 'body_too_large'],
      ];
      for (const [name, init, status, code] of cases) {
        const res = await call(name, '/api/token', { method: 'POST', ...init });
        const type = res.headers.get('content-type');
        expect({ name, status: res.status, type, cache: res.headers.get('cache-control'), body: res.body }).toMatchObject({
          name,
          status,
          type: expect.stringMatching(JSON_TYPE),
          cache: 'no-store',
          body: { error: 'invalid_request', code },
        });
      }
      const charset = await call('JSON with a charset', '/api/token', { body: JSON.stringify(alice), contentType: 'application/json; charset=utf-8' });
      expect(charset.status).toBe(200);
      for (const path of ['/api/token/refresh', '/api/token/revoke', '/api/token/verify']) {
        const res = await call(`no token for ${path}`, path, { body: '{}' });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'invalid_request', code: 'missing_field' });
      }
    });

    /** A raw exchange, recorded for the cross-framework comparison like call(). */
    async function callRaw(step: string, request: string, until: 'answer' | 'close' = 'answer') {
      const reply = await sendRaw(server.url, request, until);
      steps.push(normalise(step, reply));
      return reply;
    }

    it.each([
      ['a declared 100 MB JSON body', 'application/json', ''],
      ['a declared 100 MB gzip-encoded body', 'application/json', 'Content-Encoding: gzip\r\n'],
      ['a declared 100 MB text body', 'text/plain', ''],
    ])('refuses %s at once with 413 body_too_large, and closes the connection', async (name, type, extra) => {
      const head = `POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\n${extra}Content-Length: 100000000\r\n\r\n`;
      // The client goes on sending; the answer must not wait for the 100 MB (nor for a timeout).
      const res = await callRaw(name, `${head}{"username":"alice"`, 'close');
      expect(res.closed).toBe(true);
      expect(res.ms).toBeLessThan(5_000);
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'The request body is larger than 16384 bytes', code: 'body_too_large' });
    });

    it.each([
      ['a streamed (chunked) JSON body, once 16 KiB have arrived,', 'application/json', 20 * 1024, 413, 'body_too_large'],
      ['a streamed (chunked) text body, before reading it,', 'text/plain', 1024, 400, 'invalid_json'],
    ])('refuses %s and closes the connection: %i %s', async (name, type, size, status, code) => {
      const chunk = 'x'.repeat(size);
      const request =
        `POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
      // The last chunk never comes: the server must not wait for it (nor read on).
      const res = await callRaw(name, request, 'close');
      expect(res.closed).toBe(true);
      expect(res.ms).toBeLessThan(5_000);
      expect(res.status).toBe(status);
      expect(res.headers.get('connection')).toBe('close');
      expect(res.body).toMatchObject({ error: 'invalid_request', code });
    });

    it.each<[string, number, string, string]>([
      ['a malformed escape', 400, 'bad_request', 'GET /% HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['a malformed escape after a route', 400, 'bad_request', 'GET /api/hello%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['escapes that are not UTF-8', 400, 'bad_request', 'GET /api/%C0%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['the asterisk target', 400, 'bad_request', 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['a backslash in the path', 400, 'bad_request', 'GET /api\\hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['an escaped route', 404, 'not_found', 'GET /api/%68ello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['a dot segment', 404, 'not_found', 'GET /./healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['a dot-dot segment', 404, 'not_found', 'GET /api/../healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      ['no Host header', 400, 'bad_request', 'GET /healthz HTTP/1.1\r\n\r\n'],
      ['two Host headers', 400, 'bad_request', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: example.com\r\n\r\n'],
      ['a Host with userinfo', 400, 'bad_request', 'GET /healthz HTTP/1.1\r\nHost: user@127.0.0.1\r\n\r\n'],
      [
        'a media type that does not parse',
        400,
        'invalid_json',
        'POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ;;\r\nContent-Length: 2\r\n\r\n{}',
      ],
      [
        'a media type that does not parse, on no route',
        404,
        'not_found',
        'POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: json\r\nContent-Length: 2\r\n\r\n{}',
      ],
      ['a request line that is not HTTP', 400, 'bad_request', 'GET /healthz HTTP/1.1 please\r\nHost: 127.0.0.1\r\n\r\n'],
      ['an unknown Transfer-Encoding', 400, 'bad_request', 'POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: zip\r\n\r\n'],
      ['headers over 64 KiB', 431, 'headers_too_large', `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(70 * 1024)}\r\n\r\n`],
    ])('answers a request with %s in the JSON error shape, without echoing it: %i %s', async (name, status, code, request) => {
      const res = await callRaw(`malformed: ${name}`, request);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(Object.keys(res.body)).toEqual(['error', 'error_description', 'code']);
      expect(res.body.code).toBe(code);
      const target = request.split(' ')[1]!;
      if (target.length > 1) expect(res.text).not.toContain(target);
    });

    it('reads the largest token @jwtauth/core accepts (16 KiB) from the Authorization header', async () => {
      let token = await forged(undefined, {}, { padding: '' });
      token = await forged(undefined, {}, { padding: 'p'.repeat(Math.floor(((16 * 1024 - token.length) * 3) / 4) - 8) });
      expect(token.length).toBeGreaterThan(16 * 1024 - 16);
      expect(token.length).toBeLessThanOrEqual(16 * 1024);
      // Over Node's default 16 KiB head limit: 431 without the larger maxHeaderSize.
      const res = await call('16 KiB forged token', '/api/hello', { bearer: token });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });
    });

    it('logs a refused request as one JSON line with its code and reason, and never the token', async () => {
      const token = await forged(undefined, { kid: `log-test-${fw}` });
      const res = await send(server.url, '/api/hello', { bearer: token });
      expect(res.status).toBe(401);
      const line = await vi.waitFor(() => {
        const found = logLines(server.stdout()).find((entry) => entry.kid === `log-test-${fw}`);
        expect(found).toBeDefined();
        return found!;
      });
      expect(line).toMatchObject({
        level: 40, // pino's warn: a bad signature points at a forged token
        msg: 'request refused',
        type: 'auth.failed',
        code: 'invalid_signature',
        status: 401,
        alg: 'HS256',
      });
      expect(line.reason).toEqual(expect.any(String));
      expect(line.reason).not.toBe('');
      expect(server.stdout()).not.toContain(token.split('.')[2]);
      expect(server.stdout()).not.toContain(token.split('.')[1]);

      await send(server.url, '/api/hello', {});
      await vi.waitFor(() =>
        expect(logLines(server.stdout())).toContainEqual(expect.objectContaining({ level: 30, code: 'missing_token', reason: expect.any(String) })),
      );
    });

    it('greets alice on /api/hello, refuses her /api/admin with 403, welcomes admin', async () => {
      const { access } = tokensOf(await login('login alice for hello', alice));
      const hello = await call('hello alice', '/api/hello', { bearer: access });
      expect(hello.status).toBe(200);
      expect(hello.headers.get('content-type')).toMatch(JSON_TYPE);
      expect(hello.body).toEqual({ message: 'Hello, alice!', sub: 'alice', scopes: ['read'] });

      const refused = await call('admin as alice', '/api/admin', { bearer: access });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="admin"/);
      expect(refused.body).toMatchObject({ error: 'insufficient_scope', code: 'insufficient_scope' });

      const root = tokensOf(await login('login admin', admin));
      const welcome = await call('admin as admin', '/api/admin', { bearer: root.access });
      expect(welcome.status).toBe(200);
      expect(welcome.body).toEqual({ message: 'Welcome, admin admin.' });
      const adminHello = await call('hello admin', '/api/hello', { bearer: root.access });
      expect(adminHello.body).toEqual({ message: 'Hello, admin!', sub: 'admin', scopes: ['read', 'admin'] });
    });

    it('rotates the refresh token, and gives working tokens to the previous one presented again within the reuse interval (two tabs)', async () => {
      const first = tokensOf(await login('login alice for refresh', alice));
      const refreshed = await call('refresh', '/api/token/refresh', { body: JSON.stringify({ refresh_token: first.refresh }) });
      expect(refreshed.status).toBe(200);
      expect(refreshed.headers.get('cache-control')).toBe('no-store');
      expect(masked(refreshed.text)).toEqual({
        access_token: '<jwt>',
        token_type: 'Bearer',
        expires_in: 300,
        refresh_token: '<jwt>',
        refresh_expires_in: 86400,
      });
      const second = tokensOf(refreshed);
      expect(second.refresh).not.toBe(first.refresh);
      expect(second.access).not.toBe(first.access);
      expect((await call('hello with the refreshed token', '/api/hello', { bearer: second.access })).status).toBe(200);

      // REUSE_INTERVAL (10 s by default): a second tab refreshing with the same token at the same
      // time is not a thief. Its answer is of the same generation, and both answers work.
      const again = await call('previous refresh token again, within the reuse interval', '/api/token/refresh', {
        body: JSON.stringify({ refresh_token: first.refresh }),
      });
      expect(again.status).toBe(200);
      const third = tokensOf(again);
      expect(decodeJwt(third.refresh).gen).toBe(decodeJwt(second.refresh).gen);
      for (const tokens of [second, third]) {
        expect((await call('hello with either answer', '/api/hello', { bearer: tokens.access })).status).toBe(200);
      }
      const next = await call('refresh with the second answer', '/api/token/refresh', { body: JSON.stringify({ refresh_token: third.refresh }) });
      expect(next.status).toBe(200);
      expect(decodeJwt(tokensOf(next).refresh).gen).toBe((decodeJwt(third.refresh).gen as number) + 1);
    });

    it('refuses an access token on the refresh endpoint and a refresh token on the API', async () => {
      const { access, refresh } = tokensOf(await login('login alice for token types', alice));
      const res = await call('refresh with an access token', '/api/token/refresh', { body: JSON.stringify({ refresh_token: access }) });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', code: 'wrong_token_type' });
      const api = await call('hello with a refresh token', '/api/hello', { bearer: refresh });
      expect(api.status).toBe(401);
      expect(api.body).toMatchObject({ error: 'invalid_token' });
    });

    it('verifies access tokens, refuses refresh tokens (no oracle for a stolen one) and a malformed one', async () => {
      const { access, refresh } = tokensOf(await login('login alice for verify', alice));
      const exp = decodeJwt(access).exp;
      const verified = await call('verify access token', '/api/token/verify', { body: JSON.stringify({ token: access }) });
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({ valid: true, token_type: 'access', sub: 'alice', exp });
      // Whether a refresh token is live is not told: the same answer as for a revoked one.
      const verifiedRefresh = await call('verify refresh token', '/api/token/verify', { body: JSON.stringify({ token: refresh }) });
      expect(verifiedRefresh.status).toBe(401);
      expect(verifiedRefresh.body).toMatchObject({ error: 'invalid_token', code: 'wrong_token_type' });
      const malformed = await call('verify a malformed token', '/api/token/verify', { body: '{"token":"not-a-jwt"}' });
      expect(malformed.status).toBe(401);
      expect(malformed.body).toMatchObject({ error: 'invalid_token', code: 'malformed_token' });
      const bad = await call('verify a forged token', '/api/token/verify', { body: JSON.stringify({ token: await forged() }) });
      expect(bad.body).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });
    });

    it('logs out with the access token: the whole session ends (RFC 7009 §2.1)', async () => {
      const { access, refresh } = tokensOf(await login('login alice for revoke', alice));
      const revoked = await call('revoke access token', '/api/token/revoke', { body: JSON.stringify({ token: access }) });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ revoked: true });
      expect(revoked.setCookie).toEqual([]);
      const hello = await call('hello with a revoked token', '/api/hello', { bearer: access });
      expect(hello.status).toBe(401);
      expect(hello.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(hello.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
      const verify = await call('verify a revoked token', '/api/token/verify', { body: JSON.stringify({ token: access }) });
      expect(verify.body).toMatchObject({ code: 'token_revoked' });
      // The session's refresh token went with it.
      const refreshed = await call('refresh after access revoke', '/api/token/refresh', { body: JSON.stringify({ refresh_token: refresh }) });
      expect(refreshed.status).toBe(401);
      expect(refreshed.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
    });

    it('answers success when revoking a token already revoked, expired or invalid (RFC 7009 §2.2)', async () => {
      const { access, refresh } = tokensOf(await login('login alice for revoke twice', alice));
      expect((await call('revoke refresh token', '/api/token/revoke', { body: JSON.stringify({ token: refresh }) })).body).toEqual({ revoked: true });
      const again = await call('revoke refresh token again', '/api/token/revoke', { body: JSON.stringify({ token: refresh }) });
      expect([again.status, again.body]).toEqual([200, { revoked: true }]);
      const access2 = await call('revoke the access token of the ended session', '/api/token/revoke', { body: JSON.stringify({ token: access }) });
      expect([access2.status, access2.body]).toEqual([200, { revoked: true }]);
      const garbage = await call('revoke garbage', '/api/token/revoke', { body: JSON.stringify({ token: 'not-a-token' }) });
      expect([garbage.status, garbage.body]).toEqual([200, { revoked: true }]);
      expect((await call('hello in a revoked session', '/api/hello', { bearer: access })).body).toMatchObject({ code: 'token_revoked' });
    });

    it('answers success to a logout that races a refresh of the same session, and the session ends', async () => {
      // Not recorded as steps: which of the two runs first differs from run to run.
      for (let round = 0; round < 5; round++) {
        const { access, refresh } = tokensOf(await send(server.url, '/api/token', { body: JSON.stringify(alice) }));
        const [refreshed, revoked] = await Promise.all([
          send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: refresh }) }),
          send(server.url, '/api/token/revoke', { body: JSON.stringify({ token: refresh }) }),
        ]);
        expect([revoked.status, revoked.body]).toEqual([200, { revoked: true }]);
        expect([200, 401]).toContain(refreshed.status);
        const survivors = refreshed.status === 200 ? [access, tokensOf(refreshed).access] : [access];
        for (const token of survivors) {
          expect((await send(server.url, '/api/hello', { bearer: token })).body).toMatchObject({ code: 'token_revoked' });
        }
        if (refreshed.status === 200) {
          const again = await send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: tokensOf(refreshed).refresh }) });
          expect(again.body).toMatchObject({ code: 'token_revoked' });
        }
      }
    });

    it('keeps the refresh token in an HttpOnly, Secure, SameSite=Strict cookie in cookie mode', async () => {
      const res = await login('login alice, cookie mode', { ...alice, refresh_in: 'cookie' });
      expect(res.status).toBe(200);
      expect(masked(res.text)).toEqual({ access_token: '<jwt>', token_type: 'Bearer', expires_in: 300 });
      expect(res.setCookie).toHaveLength(1);
      expect(res.setCookie[0]!.replace(JWT, '<jwt>')).toBe(`refresh_token=<jwt>; ${COOKIE_ATTRIBUTES}`);
      const first = cookieToken(res);
      expect(first).toMatch(JWT_ONLY);

      const refreshed = await call('refresh by cookie', '/api/token/refresh', { body: '{}', cookie: `refresh_token=${first}` });
      expect(refreshed.status).toBe(200);
      expect(masked(refreshed.text)).toEqual({ access_token: '<jwt>', token_type: 'Bearer', expires_in: 300 });
      expect(refreshed.setCookie[0]!.replace(JWT, '<jwt>')).toBe(`refresh_token=<jwt>; ${COOKIE_ATTRIBUTES}`);
      const second = cookieToken(refreshed);
      expect(second).not.toBe(first);
      const hello = await call('hello after cookie refresh', '/api/hello', { bearer: refreshed.body.access_token as string });
      expect(hello.status).toBe(200);

      // The cookie is never needed on the API, and a body token wins over the cookie.
      const verify = await call('verify with a cookie present', '/api/token/verify', {
        body: JSON.stringify({ token: refreshed.body.access_token }),
        cookie: `refresh_token=${second}`,
      });
      expect(verify.body).toMatchObject({ valid: true, token_type: 'access' });

      const revoked = await call('revoke by cookie', '/api/token/revoke', { body: '{}', cookie: `refresh_token=${second}` });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ revoked: true });
      expect(revoked.setCookie).toEqual(['refresh_token=; Path=/api/token; Max-Age=0; HttpOnly; Secure; SameSite=Strict']);
      const after = await call('refresh by a revoked cookie', '/api/token/refresh', { body: '{}', cookie: `refresh_token=${second}` });
      expect(after.status).toBe(401);
      expect(after.body).toMatchObject({ code: 'token_revoked' });
    });

    it('answers 404 not_found for unknown routes and methods, without asking for a token', async () => {
      const cases: [string, CallInit][] = [
        ['/nope', {}],
        ['/api/nope', {}],
        ['/api/token', {}],
        ['/API/hello', {}],
        ['/api/hello/', {}],
        ['/healthz', { method: 'POST', body: '{}' }],
        ['/api/hello', { method: 'DELETE' }],
        ['/api/nope', { body: '{"not json' }],
      ];
      for (const [path, init] of cases) {
        const res = await call(`404 ${init.method ?? 'GET'} ${path}`, path, init);
        expect({ path, status: res.status, type: res.headers.get('content-type'), body: res.body }).toEqual({
          path,
          status: 404,
          type: expect.stringMatching(JSON_TYPE),
          body: JSON.parse(NOT_FOUND),
        });
        expect(res.headers.get('www-authenticate')).toBeNull();
      }
    });

    it('waits on /api/slow, behind a token', async () => {
      const { access } = tokensOf(await login('login alice for slow', alice));
      expect((await call('slow without a token', '/api/slow?ms=5')).status).toBe(401);
      const res = await call('slow', '/api/slow?ms=20', { bearer: access });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ waited: 20 });
      expect((await call('slow, not a number', '/api/slow?ms=soon', { bearer: access })).body).toEqual({ waited: 0 });
    });

    it('logs SIGHUP and goes on serving: a single process has no workers to restart', async () => {
      server.child.kill('SIGHUP');
      await vi.waitFor(() => expect(logLines(server.stdout())).toContainEqual(expect.objectContaining({ level: 40, type: 'reload' })));
      expect((await send(server.url, '/healthz', {})).body).toEqual({ status: 'ok' });
    });

    it('exits 0 on SIGTERM, having printed where its store is, the listening line, then JSON log lines without a token, and nothing on stderr', async () => {
      server.child.kill('SIGTERM');
      expect(await exitOf(server)).toEqual({ code: 0, signal: null });
      const stdout = server.stdout();
      // Without REDIS_URL: said at start-up (pino, warn), as it is wrong for more than one process.
      // pino writes asynchronously and the listening line is console.log's: either may come first.
      const lines = logLines(stdout);
      expect(lines[0]).toMatchObject({ level: 40, type: 'store', store: 'memory', msg: expect.stringMatching(/^REDIS_URL is not set/) });
      expect(stdout.split('\n').filter((line) => !line.startsWith('{'))[0]).toBe(`listening on ${server.url}`);
      // The script above was refused often (forged, revoked, refresh tokens, none at all).
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(line).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) });
      expect(stdout).not.toMatch(JWT);
      expect(server.stderr()).toBe('');
    });
  });

  describe('login throttling (the defaults)', () => {
    it('answers 429 with Retry-After after 5 wrong passwords for a username, and after 20 logins a minute from one address', async () => {
      const server = await start(
        fw,
        envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, LOGIN_LIMIT_PER_ADDRESS: '', LOGIN_FAILURES_PER_USERNAME: '' }),
      );
      try {
        const attempt = (username: string, password: string) => send(server.url, '/api/token', { body: JSON.stringify({ username, password }) });
        const wrong = [];
        for (let i = 0; i < 6; i++) wrong.push(await attempt('admin', 'guess'));
        expect(wrong.map((res) => res.status)).toEqual([401, 401, 401, 401, 401, 429]);
        const limited = wrong[5]!;
        expect(limited.body).toMatchObject({ code: 'too_many_requests' });
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        // Even the right password waits: the count is per username, whoever guesses.
        expect((await attempt('admin', 'admin-password')).status).toBe(429);
        // Other usernames from this address count towards its 20 logins a minute (7 so far).
        const statuses = [];
        for (let i = 0; i < 14; i++) statuses.push((await attempt(`nobody-${i}`, 'guess')).status);
        expect(statuses.slice(0, 13)).toEqual(Array(13).fill(401));
        expect(statuses[13]).toBe(429);
        expect((await attempt('alice', 'alice-password')).status).toBe(429);
      } finally {
        server.child.kill('SIGKILL');
      }
    }, 30_000);
  });

  describe('with REUSE_INTERVAL=0 (strict rotation)', () => {
    it('revokes the whole session when a rotated refresh token is used again', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, REUSE_INTERVAL: '0' }));
      try {
        const login = await send(server.url, '/api/token', { body: '{"username":"alice","password":"alice-password"}' });
        const first = { access: login.body.access_token as string, refresh: login.body.refresh_token as string };
        const refreshed = await send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: first.refresh }) });
        expect(refreshed.status).toBe(200);
        const second = { access: refreshed.body.access_token as string, refresh: refreshed.body.refresh_token as string };
        expect((await send(server.url, '/api/hello', { bearer: second.access })).status).toBe(200);

        const reused = await send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: first.refresh }) });
        expect(reused.status).toBe(401);
        expect(reused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        expect(reused.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
        // Reuse ended the session: the tokens of the rotation are refused too.
        const after = await send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: second.refresh }) });
        expect(after.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });
        const hello = await send(server.url, '/api/hello', { bearer: second.access });
        expect([hello.status, hello.body.code]).toEqual([401, 'token_revoked']);
      } finally {
        server.child.kill('SIGKILL');
      }
    });
  });

  describe('slow clients and the connection cap', () => {
    const REQUEST_408 = { error: 'invalid_request', error_description: 'The request did not arrive in time', code: 'request_timeout' };

    it('cuts off, with a JSON 408, a client that sends nothing, a header line at a time or a body byte at a time', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000' }));
      try {
        const headerLines = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: 1\r\n`)];
        const bodyBytes = [
          'POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
          ...'{"username":"alice","password":"alice-password","x":"'.split(''),
        ];
        // Held for 35 s and more before Node checked its connections often enough; now within
        // the timeouts and a second of checking (generous bounds below).
        const results = await Promise.all([
          exchange(server.url, () => undefined, { until: 'close', within: 8_000 }),
          exchange(server.url, dribble(headerLines, 200), { until: 'close', within: 8_000 }),
          exchange(server.url, dribble(bodyBytes, 200), { until: 'close', within: 8_000 }),
        ]);
        for (const result of results) {
          expect(result.closed).toBe(true);
          const answer = parseAnswer(result.data);
          expect(answer?.status).toBe(408);
          expect(answer?.headers.get('content-type')).toMatch(JSON_TYPE);
          expect(answer?.body).toEqual(REQUEST_408);
        }
        // The request timeout bounds receiving a request, not answering it.
        const login = await send(server.url, '/api/token', { body: '{"username":"alice","password":"alice-password"}' });
        const slow = await send(server.url, '/api/slow?ms=2500', { bearer: login.body.access_token as string });
        expect(slow.body).toEqual({ waited: 2500 });
        server.child.kill('SIGTERM');
        expect(await exitOf(server)).toEqual({ code: 0, signal: null });
        expect(server.stderr()).toBe('');
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
    });

    it('closes connections beyond MAX_CONNECTIONS at once, logs it, and serves again once the idle ones timed out', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, MAX_CONNECTIONS: '3', HEADERS_TIMEOUT_MS: '3000' }));
      try {
        const idle = [1, 2, 3].map(() => exchange(server.url, () => undefined, { until: 'close', within: 10_000 }));
        // Let the server accept the three before the fourth comes: there is no way to ask it.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const refused = await exchange(server.url, (socket) => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'), {
          until: 'close',
          within: 2_000,
        });
        expect(refused).toMatchObject({ closed: true, data: '' });
        await vi.waitFor(() =>
          expect(logLines(server.stdout())).toContainEqual(expect.objectContaining({ level: 40, type: 'connection.dropped', maxConnections: 3 })),
        );
        // The idle three are cut off by the headers timeout, and the server answers again.
        for (const result of await Promise.all(idle)) expect(parseAnswer(result.data)?.status).toBe(408);
        expect((await send(server.url, '/healthz', {})).body).toEqual({ status: 'ok' });
      } finally {
        server.child.kill('SIGKILL');
      }
    });
  });

  describe('configured lifetimes and graceful shutdown', () => {
    /**
     * Starts GET /api/slow?ms=… on its own keep-alive connection; resolves, once the request is
     * sent, to `{ response }` (wrapped, or awaiting this would wait for the response too).
     */
    async function slowRequest(url: string, bearer: string, ms: number) {
      const request = httpRequest(`${url}/api/slow?ms=${ms}`, { headers: { authorization: `Bearer ${bearer}`, connection: 'keep-alive' } });
      const response = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
        request.once('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.once('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
          res.once('error', reject);
        });
        request.once('error', reject);
      });
      response.catch(() => {});
      await new Promise<void>((resolve) => request.end(resolve));
      // Let the server read the request before the signal comes: there is no way to ask it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { response };
    }

    it('issues tokens with the configured lifetimes, and lets an in-flight request finish on SIGTERM', async () => {
      const env = envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, ACCESS_TOKEN_TTL: '2m', REFRESH_TOKEN_TTL: '1h' });
      const server = await start(fw, env);
      try {
        const res = await send(server.url, '/api/token', { body: JSON.stringify({ username: 'alice', password: 'alice-password' }) });
        expect(res.body).toMatchObject({ expires_in: 120, refresh_expires_in: 3600 });
        const cookie = await send(server.url, '/api/token', { body: '{"username":"alice","password":"alice-password","refresh_in":"cookie"}' });
        expect(cookie.setCookie[0]).toMatch(/; Max-Age=3600;/);

        const { response: inFlight } = await slowRequest(server.url, res.body.access_token as string, 1500);
        server.child.kill('SIGTERM');
        expect(await inFlight).toMatchObject({ status: 200, body: '{"waited":1500}' });
        expect(await exitOf(server)).toEqual({ code: 0, signal: null });
        expect(server.stderr()).toBe('');
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
    });

    it('drains on SIGTERM: answers for DRAIN_DELAY_MS, each time with Connection: close and /healthz with 503, then stops listening and lets the request in flight finish', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, DRAIN_DELAY_MS: '500' }));
      const port = Number(new URL(server.url).port);
      const idle = await keptAlive(server.url);
      try {
        const login = await send(server.url, '/api/token', { body: JSON.stringify({ username: 'alice', password: 'alice-password' }) });
        const access = login.body.access_token as string;
        const hello = `GET /api/hello HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${access}\r\n\r\n`;
        // A keep-alive connection that was answered once and waits for its next request.
        expect((await idle.request(hello)).headers.get('connection')).toBe('keep-alive');
        const { response: inFlight } = await slowRequest(server.url, access, 2500);
        let finished = false;
        void inFlight.then(() => (finished = true));

        server.child.kill('SIGTERM');
        await vi.waitFor(() =>
          expect(logLines(server.stdout())).toContainEqual(expect.objectContaining({ type: 'shutdown', signal: 'SIGTERM', drainDelayMs: 500 })),
        );
        // Draining: a new connection is still answered; /healthz tells load balancers to go elsewhere.
        const health = await sendRaw(server.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'close');
        expect([health.status, health.body, health.headers.get('connection'), health.closed]).toEqual([503, { status: 'draining' }, 'close', true]);
        // The kept-alive connection's next request is answered too, and the server closes it.
        const last = await idle.request(hello);
        expect([last.status, last.headers.get('connection')]).toEqual([200, 'close']);
        await vi.waitFor(() => expect(idle.closed()).toBe(true));

        // Then the listener closes while the request in flight still runs, which ends normally.
        await vi.waitFor(async () => expect(await refused(port)).toBe(true), { timeout: 3_000, interval: 50 });
        expect(finished).toBe(false);
        expect(await inFlight).toEqual({ status: 200, body: '{"waited":2500}', connection: 'close' });
        expect(await exitOf(server)).toEqual({ code: 0, signal: null });
        expect(server.stderr()).toBe('');
      } finally {
        idle.socket.destroy();
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
    });

    it('exits 0 on SIGTERM although a connection is open that never sent a request', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, SHUTDOWN_TIMEOUT_MS: '5000' }));
      const { port } = new URL(server.url);
      const silent = connect(Number(port), '127.0.0.1');
      const halfSent = connect(Number(port), '127.0.0.1');
      try {
        await Promise.all([silent, halfSent].map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
        halfSent.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        // Let the server accept both before the signal comes: there is no way to ask it.
        await new Promise((resolve) => setTimeout(resolve, 200));
        server.child.kill('SIGTERM');
        expect(await exitOf(server)).toEqual({ code: 0, signal: null });
        expect(server.stderr()).toBe('');
      } finally {
        silent.destroy();
        halfSent.destroy();
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
    });

    it('exits 1 when an in-flight request outlasts SHUTDOWN_TIMEOUT_MS', async () => {
      const server = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, SHUTDOWN_TIMEOUT_MS: '200' }));
      try {
        const res = await send(server.url, '/api/token', { body: JSON.stringify({ username: 'alice', password: 'alice-password' }) });
        const { response: inFlight } = await slowRequest(server.url, res.body.access_token as string, 10_000);
        server.child.kill('SIGTERM');
        expect(await exitOf(server)).toEqual({ code: 1, signal: null });
        await expect(inFlight).rejects.toThrow();
        expect(server.stderr()).toMatch(/still running after 200 ms/);
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
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

  it.each([
    [{ TRUST_PROXY: 'everyone' }, /TRUST_PROXY/],
    // Each worker would keep its own revocations.
    [{ WORKERS: '2' }, /WORKERS=2 needs REDIS_URL/],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ REUSE_INTERVAL: '-1' }, /REUSE_INTERVAL/],
  ])('exits 1 on a configuration it cannot use: %o', async (vars, message) => {
    const child = run(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, ...vars }));
    expect(await exitOf(child)).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toMatch(message);
    expect(child.stdout()).toBe('');
  });

  it('signs with a random secret of its own outside production without JWT_SECRET, says so, and exits 0 on SIGINT', async () => {
    const first = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1' }));
    const second = await start(fw, envWith({ PORT: '0', HOST: '127.0.0.1' }));
    try {
      for (const server of [first, second]) {
        await vi.waitFor(() => expect(server.stderr()).toMatch(/warning: JWT_SECRET is not set; signing tokens with a random secret/));
      }
      const login = await send(first.url, '/api/token', { body: '{"username":"alice","password":"alice-password"}' });
      expect(login.status).toBe(200);
      const access = login.body.access_token as string;
      expect((await send(first.url, '/api/hello', { bearer: access })).status).toBe(200);
      // No secret is shared between processes, or written in the source: neither another
      // process's token nor one signed with the development secret of earlier versions works.
      const elsewhere = await send(second.url, '/api/hello', { bearer: access });
      expect(elsewhere.body).toMatchObject({ code: 'invalid_signature' });
      const admin = await new SignJWT({ scope: 'read admin', token_type: 'access' })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setSubject('admin')
        .setIssuer('urn:jwtauth:example')
        .setAudience('urn:jwtauth:example:api')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('dev-only-secret-do-not-use-in-production'));
      const forgedAdmin = await send(first.url, '/api/admin', { bearer: admin });
      expect(forgedAdmin.status).toBe(401);
      expect(forgedAdmin.body).toMatchObject({ code: 'invalid_signature' });
      for (const server of [first, second]) {
        server.child.kill('SIGINT');
        expect(await exitOf(server)).toEqual({ code: 0, signal: null });
      }
    } finally {
      for (const server of [first, second]) {
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
      }
    }
  });
});

describe('with the default timeouts', () => {
  it('each example cuts off a client that sends a header line a second after HEADERS_TIMEOUT_MS (10 s), not 40 s', async () => {
    const servers = await Promise.all(frameworks.map((fw) => start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET }))));
    try {
      const lines = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: 1\r\n`)];
      const results = await Promise.all(servers.map((server) => exchange(server.url, dribble(lines, 1_000), { until: 'close', within: 15_000 })));
      for (const [i, result] of results.entries()) {
        expect({ fw: frameworks[i], closed: result.closed, status: parseAnswer(result.data)?.status }).toEqual({
          fw: frameworks[i],
          closed: true,
          status: 408,
        });
      }
    } finally {
      for (const server of servers) server.child.kill('SIGKILL');
    }
  }, 30_000);
});

describe('with REDIS_URL', () => {
  it('each example starts while Redis cannot be reached, answers 503 store_unavailable where a token is checked, and serves once Redis is there', async () => {
    const redis = await startRedis();
    await redis.stop();
    const servers = await Promise.all(frameworks.map((fw) => start(fw, envWith({ PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, REDIS_URL: redis.url }))));
    try {
      const sessions = await Promise.all(
        servers.map(async (server) => {
          // It waited (REDIS_STARTUP_WAIT_MS, 5 s) for Redis, then started anyway, and said so.
          expect(logLines(server.stdout())).toContainEqual(
            expect.objectContaining({ level: 50, type: 'store', store: 'redis', msg: expect.stringMatching(/did not answer within 5000 ms/) }),
          );
          expect((await send(server.url, '/healthz', {})).status).toBe(200);
          // Logging in needs no store; checking the token it gave does.
          const login = await send(server.url, '/api/token', { body: '{"username":"alice","password":"alice-password"}' });
          expect(login.status).toBe(200);
          const access = login.body.access_token as string;
          const refresh = login.body.refresh_token as string;
          for (const reply of [
            await send(server.url, '/api/hello', { bearer: access }),
            await send(server.url, '/api/token/refresh', { body: JSON.stringify({ refresh_token: refresh }) }),
            await send(server.url, '/api/token/revoke', { body: JSON.stringify({ token: refresh }) }),
          ]) {
            expect({
              status: reply.status,
              retryAfter: reply.headers.get('retry-after'),
              type: reply.headers.get('content-type'),
              code: reply.body.code,
            }).toEqual({
              status: 503,
              retryAfter: '5',
              type: expect.stringMatching(JSON_TYPE),
              code: 'store_unavailable',
            });
          }
          return { access };
        }),
      );
      await redis.start();
      await Promise.all(
        servers.map(async (server, i) => {
          const { access } = sessions[i]!;
          await vi.waitFor(async () => expect((await send(server.url, '/api/hello', { bearer: access })).status).toBe(200), { timeout: 5_000, interval: 50 });
          expect(logLines(server.stdout())).toContainEqual(expect.objectContaining({ type: 'store.ready', store: 'redis' }));
          expect((await send(server.url, '/api/token/revoke', { body: JSON.stringify({ token: access }) })).status).toBe(200);
          expect((await send(server.url, '/api/hello', { bearer: access })).body).toMatchObject({ code: 'token_revoked' });
          server.child.kill('SIGTERM');
          expect(await exitOf(server)).toEqual({ code: 0, signal: null });
        }),
      );
    } finally {
      for (const server of servers) server.child.kill('SIGKILL');
      await redis.close();
    }
  }, 30_000);
});

describe('all four examples', () => {
  it('answer the same script with the same status, media type, auth and cache headers, cookies and JSON (tokens and times aside)', () => {
    const [first, ...others] = frameworks;
    const reference = transcripts.get(first)!;
    expect(reference.length).toBeGreaterThan(0);
    for (const fw of others) {
      const transcript = transcripts.get(fw)!;
      expect(transcript.map((step) => step.step)).toEqual(reference.map((step) => step.step));
      reference.forEach((step, i) => expect({ fw, ...transcript[i] }).toEqual({ fw, ...step }));
    }
  });
});
