import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  REQUEST_TIMEOUT,
  cleanUp,
  exitOf,
  findNginx,
  frameworks,
  productionSite,
  running,
  send,
  startApp,
  startNginx,
  within,
  type App,
  type CallInit,
  type Framework,
  type Reply,
} from './e2e-support.js';

// End to end, the production way: each built example (examples/<fw>/dist/server.js: `pnpm build`
// first) runs as a real process on loopback with NODE_ENV=production, behind a real nginx that
// uses the directives of examples/nginx (the upstream block of jwtauth.conf, with this one
// instance instead of two, and all of proxy-params.conf; only the TLS listener is replaced by a
// plain HTTP one on 127.0.0.1, as there is no certificate here). The same script runs through
// nginx against all four, ends with a SIGTERM during a slow request, and the four transcripts must
// be identical. Two instances, Redis and rolling restarts: test/e2e-cluster.test.ts.
//
// nginx must be installed (`apt-get install nginx-light`; .ci/run does it): without it this test
// fails, it is never skipped.

const SECRET = 'e2e-nginx-test-secret-0123456789-abcdefghijklmnop';

/** How long the slow request has been running when the app gets SIGTERM (it waits 1500 ms). */
const SIGTERM_AFTER = 500;
/** The app's drain delay here: shorter than the production default (5 s), to keep the test short. */
const DRAIN_DELAY_MS = 500;

/** One example in production mode, on a free loopback port. */
function startProductionApp(fw: Framework): Promise<App> {
  return startApp(fw, { JWT_SECRET: SECRET, NODE_ENV: 'production', SHUTDOWN_TIMEOUT_MS: '5000', DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) });
}

// ---------------------------------------------------------------------------------------------
// The script

const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** One answer, as compared across frameworks: token strings and times replaced. */
interface Step {
  step: string;
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  setCookie: string[];
  body: string;
}

/** A GET with `rawHeaders` (and Host) sent as they are (node:http), for headers `fetch` would merge. */
function sendRaw(url: string, rawHeaders: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // Given an array, node:http sends exactly these headers: Host too must be in it.
    const headers = ['Host', new URL(url).host, ...rawHeaders];
    const req = request(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('error', reject).on('end', () => {
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // asserted on below
        }
        resolve({ status: res.statusCode ?? 0, headers, text, body });
      });
    });
    req.on('error', reject).end();
  });
}

/**
 * Sends `request` as it is on a new connection (bytes `fetch` and node:http refuse to send) and
 * parses the answer: for what nginx answers itself.
 */
function sendSocket(url: string, request: string): Promise<Reply> {
  const { port } = new URL(url);
  return within(
    REQUEST_TIMEOUT,
    `an answer to ${JSON.stringify(request.slice(0, 60))}`,
    new Promise<Reply>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      const parse = (): Reply | undefined => {
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) return undefined;
        const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
        const headers = new Headers();
        for (const line of lines) headers.append(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim());
        const length = Number(headers.get('content-length') ?? 0);
        if (data.length < end + 4 + length) return undefined;
        const text = data.slice(end + 4, end + 4 + length);
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // asserted on by the caller
        }
        return { status: Number(statusLine!.split(' ')[1]), headers, text, body };
      };
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        data += chunk;
        const reply = parse();
        if (reply !== undefined) {
          socket.destroy();
          resolve(reply);
        }
      });
      socket.on('close', () => reject(new Error(`connection closed without a complete answer: ${JSON.stringify(data)}`)));
      socket.on('error', () => undefined);
      socket.once('connect', () => socket.write(request));
    }),
  );
}

/** A token of about 16 KiB (the most @jwtauth/core reads), signed with a key the app does not have. */
async function largeForgedToken(): Promise<string> {
  const sign = (padding: string) =>
    new SignJWT({ scope: 'admin', padding })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-app-secret-0123456789-abcdefghijkl'));
  const empty = await sign('');
  return sign('p'.repeat(Math.floor(((16 * 1024 - empty.length) * 3) / 4) - 8));
}

function record(step: string, reply: Reply): Step {
  return {
    step,
    status: reply.status,
    contentType: reply.headers.get('content-type')?.split(';')[0] ?? null,
    wwwAuthenticate: reply.headers.get('www-authenticate'),
    setCookie: reply.headers.getSetCookie().map((cookie) => cookie.replace(JWT, '<token>')),
    body: reply.text.replace(JWT, '<token>').replace(/"exp":\d+/g, '"exp":<time>'),
  };
}

const TOKEN_RESPONSE = '{"access_token":"<token>","token_type":"Bearer","expires_in":300,"refresh_token":"<token>","refresh_expires_in":86400}';
const COOKIE_TOKEN_RESPONSE = '{"access_token":"<token>","token_type":"Bearer","expires_in":300}';
const REFRESH_COOKIE = 'refresh_token=<token>; Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict';
const OVERSIZED = { username: 'alice', password: 'alice-password', padding: 'x'.repeat(20 * 1024) };

/** The transcript per framework, compared at the end. */
const transcripts = new Map<Framework, Step[]>();

// Left running only by a failure.
afterAll(cleanUp);

describe.each(frameworks)('examples/%s behind nginx', (fw) => {
  it('serves the API through nginx, then finishes the request in flight on SIGTERM and exits 0', async () => {
    findNginx();
    const app = await startProductionApp(fw);
    const nginx = await startNginx(fw, [app.port], () => running(app.proc));
    const steps: Step[] = [];
    const call = async (step: string, path: string, init?: CallInit) => {
      const reply = await send(`${nginx.url}${path}`, init);
      steps.push(record(step, reply));
      return reply;
    };
    const alice = { username: 'alice', password: 'alice-password' };
    const admin = { username: 'admin', password: 'admin-password' };

    const health = await call('healthz', '/healthz');
    expect(health.status).toBe(200);
    expect(health.text).toBe('{"status":"ok"}');

    const anonymous = await call('hello without a token', '/api/hello');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(anonymous.body).toMatchObject({ error: 'unauthorized', code: 'missing_token' });

    // alice: read only.
    const aliceLogin = await call('login alice', '/api/token', { json: alice });
    expect(aliceLogin.status).toBe(200);
    expect(aliceLogin.headers.get('content-type')).toMatch(/^application\/json(; ?charset=utf-8)?$/i);
    expect(aliceLogin.text.replace(JWT, '<token>')).toBe(TOKEN_RESPONSE);
    const aliceAccess = aliceLogin.body.access_token as string;
    const aliceRefresh = aliceLogin.body.refresh_token as string;
    expect(decodeJwt(aliceAccess)).toMatchObject({ sub: 'alice', scope: 'read' });

    const hello = await call('hello alice', '/api/hello', { bearer: aliceAccess });
    expect(hello.status).toBe(200);
    expect(hello.text).toBe('{"message":"Hello, alice!","sub":"alice","scopes":["read"]}');

    const forbidden = await call('admin as alice', '/api/admin', { bearer: aliceAccess });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="admin"/);
    expect(forbidden.body).toMatchObject({ error: 'insufficient_scope', code: 'insufficient_scope' });

    // admin, then a refresh and the rotated refresh token used again.
    const adminLogin = await call('login admin', '/api/token', { json: admin });
    expect(adminLogin.status).toBe(200);
    const adminAccess = adminLogin.body.access_token as string;
    const adminRefresh = adminLogin.body.refresh_token as string;

    const welcome = await call('admin as admin', '/api/admin', { bearer: adminAccess });
    expect(welcome.status).toBe(200);
    expect(welcome.text).toBe('{"message":"Welcome, admin admin."}');

    const refreshed = await call('refresh admin', '/api/token/refresh', { json: { refresh_token: adminRefresh } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.text.replace(JWT, '<token>')).toBe(TOKEN_RESPONSE);
    expect(refreshed.body.refresh_token).not.toBe(adminRefresh);

    // The previous refresh token again at once, as a second browser tab would: within the reuse
    // interval (REUSE_INTERVAL, 10 s by default) it gets working tokens, not a logout.
    // test/e2e-cluster.test.ts shows reuse after the interval, and strict rotation, ending the session.
    const reused = await call('old refresh token again, within the reuse interval', '/api/token/refresh', { json: { refresh_token: adminRefresh } });
    expect(reused.status).toBe(200);
    expect(reused.text.replace(JWT, '<token>')).toBe(TOKEN_RESPONSE);
    for (const tokens of [refreshed, reused]) {
      const stillAdmin = await call('admin with a token of either refresh', '/api/admin', { bearer: tokens.body.access_token as string });
      expect(stillAdmin.status).toBe(200);
    }
    expect(decodeJwt(reused.body.refresh_token as string).gen).toBe(decodeJwt(refreshed.body.refresh_token as string).gen);

    // alice logs out: her access token is refused from then on.
    const verified = await call('verify alice', '/api/token/verify', { json: { token: aliceAccess } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, token_type: 'access', sub: 'alice' });

    const logout = await call('revoke alice (logout)', '/api/token/revoke', { json: { token: aliceRefresh } });
    expect(logout.status).toBe(200);
    expect(logout.text).toBe('{"revoked":true}');

    const revoked = await call('hello with the revoked access token', '/api/hello', { bearer: aliceAccess });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(revoked.body).toMatchObject({ error: 'invalid_token', code: 'token_revoked' });

    // Cookie mode: nginx passes Set-Cookie and Cookie through unchanged.
    const cookieLogin = await call('login alice, cookie mode', '/api/token', { json: { ...alice, refresh_in: 'cookie' } });
    expect(cookieLogin.status).toBe(200);
    expect(cookieLogin.text.replace(JWT, '<token>')).toBe(COOKIE_TOKEN_RESPONSE);
    expect(cookieLogin.headers.getSetCookie().map((cookie) => cookie.replace(JWT, '<token>'))).toEqual([REFRESH_COOKIE]);
    const cookie = cookieLogin.headers.getSetCookie()[0]!.split(';')[0]!;
    const cookieRefresh = await call('refresh by cookie', '/api/token/refresh', { json: {}, cookie });
    expect(cookieRefresh.status).toBe(200);
    expect(cookieRefresh.text.replace(JWT, '<token>')).toBe(COOKIE_TOKEN_RESPONSE);

    // Over 16 KiB: nginx refuses it itself, with the very answer the app gives.
    const tooLarge = await call('body over 16 KiB', '/api/token', { json: OVERSIZED });
    const direct = await send(`${app.url}/api/token`, { json: OVERSIZED });
    expect(direct.status).toBe(413);
    expect(direct.body).toMatchObject({ error: 'invalid_request', code: 'body_too_large' });
    expect({ status: tooLarge.status, type: tooLarge.headers.get('content-type')?.split(';')[0], body: tooLarge.text }).toEqual({
      status: direct.status,
      type: direct.headers.get('content-type')?.split(';')[0],
      body: direct.text,
    });

    const unknown = await call('unknown route', '/api/nothing-here', { bearer: cookieRefresh.body.access_token as string });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found', code: 'not_found' });

    // Two Authorization headers: nginx refuses the request itself (directly, the app answers
    // 400 multiple_tokens); the answer is JSON in the contract's shape all the same.
    const bearer = `Bearer ${cookieRefresh.body.access_token as string}`;
    const twice = await sendRaw(`${nginx.url}/api/hello`, ['Authorization', bearer, 'Authorization', bearer]);
    steps.push(record('two Authorization headers', twice));
    expect(twice.status).toBe(400);
    expect(twice.headers.get('content-type')).toBe('application/json');
    expect(twice.body).toMatchObject({ error: 'invalid_request', code: 'bad_request' });
    const twiceDirect = await sendRaw(`${app.url}/api/hello`, ['Authorization', bearer, 'Authorization', bearer]);
    expect(twiceDirect.status).toBe(400);
    expect(twiceDirect.body).toMatchObject({ error: 'invalid_request', code: 'multiple_tokens' });

    // A real token of nearly 16 KiB (an RS256 token with many claims can be that large) reaches
    // the app: nginx's default 8 KiB header buffers refused it with an HTML 400.
    const bigToken = await largeForgedToken();
    expect(bigToken.length).toBeGreaterThan(16 * 1024 - 16);
    const big = await call('16 KiB token', '/api/hello', { bearer: bigToken });
    expect(big.status).toBe(401);
    expect(big.body).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });

    // What nginx refuses itself is answered in the API's JSON shape, as the app answers it.
    const head = (line: string, headers = 'Host: 127.0.0.1\r\n') => `${line}\r\n${headers}\r\n`;
    const refusals: [string, string, number, string, string | undefined][] = [
      // [step, request, status, code, the same request sent to the app directly (same answer)]
      ['malformed escape', head('GET /% HTTP/1.1'), 400, 'bad_request', undefined],
      ['not HTTP', 'GARBAGE\r\n\r\n', 400, 'bad_request', undefined],
      ['two Host headers', head('GET /healthz HTTP/1.1', 'Host: 127.0.0.1\r\nHost: example.com\r\n'), 400, 'bad_request', undefined],
      ['unknown HTTP version', head('GET /healthz HTTP/2.0'), 400, 'bad_request', undefined],
      [
        'header line over 32 KiB',
        head('GET /healthz HTTP/1.1', `Host: 127.0.0.1\r\nX-Padding: ${'p'.repeat(33 * 1024)}\r\n`),
        431,
        'headers_too_large',
        head('GET /healthz HTTP/1.1', `Host: 127.0.0.1\r\nX-Padding: ${'p'.repeat(70 * 1024)}\r\n`),
      ],
      [
        'request line over 32 KiB',
        head(`GET /healthz?${'q'.repeat(33 * 1024)} HTTP/1.1`),
        431,
        'headers_too_large',
        head(`GET /healthz?${'q'.repeat(70 * 1024)} HTTP/1.1`),
      ],
      ['TRACE', head('TRACE /healthz HTTP/1.1'), 404, 'not_found', head('TRACE /healthz HTTP/1.1')],
      ['an internal error page', head('GET /_jwtauth/error/bad_request HTTP/1.1'), 404, 'not_found', head('GET /_jwtauth/error/bad_request HTTP/1.1')],
    ];
    for (const [step, request, status, code, direct] of refusals) {
      const reply = await sendSocket(nginx.url, request);
      steps.push(record(step, reply));
      expect({ step, status: reply.status, type: reply.headers.get('content-type'), keys: Object.keys(reply.body), code: reply.body.code }).toEqual({
        step,
        status,
        type: 'application/json',
        keys: ['error', 'error_description', 'code'],
        code,
      });
      if (direct !== undefined) {
        const fromApp = await sendSocket(app.url, direct);
        expect({ step, status: fromApp.status, body: fromApp.text }).toEqual({ step, status: reply.status, body: reply.text });
      }
    }

    // Graceful shutdown: SIGTERM while a slow request is in flight through nginx.
    const fresh = await call('login alice for the slow request', '/api/token', { json: alice });
    expect(fresh.status).toBe(200);
    const slow = send(`${nginx.url}/api/slow?ms=1500`, { bearer: fresh.body.access_token as string });
    slow.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    await new Promise((resolve) => setTimeout(resolve, SIGTERM_AFTER));
    expect(running(app.proc), `${app.proc.name} died before SIGTERM:\n${app.proc.output()}`).toBe(true);
    app.proc.child.kill('SIGTERM');
    // For DRAIN_DELAY_MS the app goes on answering: /healthz says it is draining (there is no
    // other instance here for nginx to try), the API still answers.
    await within(
      5_000,
      'the "draining" log line',
      (async () => {
        while (!app.proc.output().includes('"type":"shutdown"')) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
    );
    const draining = await call('healthz while draining', '/healthz');
    expect([draining.status, draining.text, draining.headers.get('retry-after')]).toEqual([503, '{"status":"draining"}', '1']);
    const servedWhileDraining = await call('hello while draining', '/api/hello', { bearer: fresh.body.access_token as string });
    expect(servedWhileDraining.status).toBe(200);
    const slowReply = await within(REQUEST_TIMEOUT, 'the slow request', slow);
    steps.push(record('slow request during SIGTERM', slowReply));
    expect(slowReply.status).toBe(200);
    expect(slowReply.text).toBe('{"waited":1500}');
    const exit = await exitOf(app.proc);
    expect(exit, `${app.proc.name} output:\n${app.proc.output()}`).toEqual({ code: 0, signal: null });

    // Nothing went wrong between nginx and the app until now (the oversized body aside).
    const errors = readFileSync(join(nginx.dir, 'error.log'), 'utf8')
      .split('\n')
      .filter((line) => /\[(error|crit|alert|emerg)\]/.test(line) && !line.includes('client intended to send too large body'));
    expect(errors).toEqual([]);

    // The app is gone: nginx answers for it, in JSON.
    const down = await call('healthz with the app stopped', '/healthz');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body).toMatchObject({ error: 'temporarily_unavailable', code: 'service_unavailable' });

    // nginx stops cleanly too (SIGQUIT: graceful).
    nginx.proc.child.kill('SIGQUIT');
    expect(await exitOf(nginx.proc)).toEqual({ code: 0, signal: null });

    transcripts.set(fw, steps);
  }, 60_000);
});

describe('behind nginx, all four frameworks', () => {
  it('answer the script identically', () => {
    const missing = frameworks.filter((fw) => !transcripts.has(fw));
    expect(missing, 'frameworks whose run did not complete (see their failures above)').toEqual([]);
    const [first, ...others] = frameworks;
    for (const fw of others) expect({ fw, steps: transcripts.get(fw) }).toEqual({ fw, steps: transcripts.get(first) });
  });

  it('uses the same directives in production: jwtauth.conf includes proxy-params.conf in its TLS server', () => {
    const tls = /server \{[^{}]*listen 443 ssl;[\s\S]*?\n\}/.exec(productionSite)?.[0] ?? '';
    expect(tls).toContain('include snippets/jwtauth-proxy-params.conf;');
    expect(productionSite).toMatch(/listen 80;[\s\S]*return 301 https:\/\/\$host\$request_uri;/);
  });
});
