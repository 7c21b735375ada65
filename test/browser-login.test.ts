import { existsSync } from 'node:fs';
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';
import { cleanUp, send, startApp, type App } from './e2e-support.js';

// The browser login page of examples/express (public/index.html, public/app.js), driven in headless
// Chromium against the built example (`pnpm build` first): the cookie mode of examples/README.md in
// a real browser, with its real cookie jar. Chromium keeps `Secure` cookies that http://localhost
// sets (localhost is a secure context), so the page is opened on http://localhost:<port>.
//
// Between Chromium and each example sits a pass-through proxy that only records what the browser
// sent (Cookie, Authorization, Origin) and what the example answered: the server's view of every
// request, CORS preflights included, which the page itself cannot see.

/** One request that reached the example, and its answer. */
interface Seen {
  method: string;
  path: string;
  cookie: string | null;
  authorization: string | null;
  origin: string | null;
  contentType: string | null;
  /** `Sec-Fetch-Site`: what Chromium thought of the request (`same-origin`, `cross-site`, …). */
  fetchSite: string | null;
  /** Set once the answer has ended. */
  status?: number;
  setCookie?: string[];
  body?: unknown;
}

/** An example behind its recording proxy, on http://localhost:<port>. */
interface Front {
  app: App;
  /** `http://localhost:<port>`: the page's origin and the cookie's domain. */
  origin: string;
  seen: Seen[];
  close(): Promise<void>;
}

const SECRET = 'browser-login-test-secret-0123456789-abcdef';
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const SET_REFRESH_COOKIE =
  /^refresh_token=(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+); Path=\/api\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/;
const CLEAR_REFRESH_COOKIE = /^refresh_token=; Path=\/api\/token; Max-Age=0; HttpOnly; Secure; SameSite=Strict$/;
/** Every wait on the browser or the servers is bounded by this. */
const WAIT = 5_000;

function header(value: string | string[] | undefined): string | null {
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the built Express example with `vars`, behind a recording proxy. */
async function startFront(vars: Record<string, string> = {}): Promise<Front> {
  const app = await startApp('express', { JWT_SECRET: SECRET, LOG_LEVEL: 'silent', ...vars }, `examples/express ${JSON.stringify(vars)}`);
  const seen: Seen[] = [];
  const proxy = createServer((req, res) => {
    const record: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      cookie: header(req.headers.cookie),
      authorization: header(req.headers.authorization),
      origin: header(req.headers.origin),
      contentType: header(req.headers['content-type']),
      fetchSite: header(req.headers['sec-fetch-site']),
    };
    seen.push(record);
    const upstream = forward({ host: '127.0.0.1', port: app.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (the page, its script): kept as text
        }
        Object.assign(record, { status: answer.statusCode, setCookie: answer.headers['set-cookie'] ?? [], body });
      });
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listen(proxy);
  return { app, origin: `http://localhost:${port}`, seen, close: () => closeServer(proxy) };
}

/** `check()`'s first non-undefined result, polled until `WAIT` has passed. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = WAIT): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits for the page's status area to read `text`. Polled from here, not with waitForFunction,
 * which polls on the page's own timers (frozen in the test that pauses the page's clock).
 */
async function statusIs(page: Page, text: string): Promise<void> {
  let shown: string | null = null;
  try {
    await until(`status "${text}"`, async () => ((shown = await page.textContent('#status')) === text ? true : undefined));
  } catch {
    throw new Error(`the page's status is ${JSON.stringify(shown)}, not ${JSON.stringify(text)}`);
  }
}

/** The answered requests to /api/… from `mark` on (the page's script and favicon left out). */
async function apiCalls(front: Front, mark: number, count: number): Promise<Seen[]> {
  return until(`${count} answered API requests`, () => {
    const calls = front.seen.slice(mark).filter((seen) => seen.path.startsWith('/api/'));
    return calls.length >= count && calls.slice(0, count).every((seen) => seen.status !== undefined) ? calls : undefined;
  });
}

/** The access token of a token response the proxy recorded. */
function accessTokenOf(seen: Seen): string {
  const token = (seen.body as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') throw new Error(`no access token in ${JSON.stringify(seen.body)}`);
  return token;
}

/** The refresh token a `Set-Cookie` of the proxy's record sets. */
function cookieSetBy(seen: Seen): string {
  const match = SET_REFRESH_COOKIE.exec(seen.setCookie?.[0] ?? '');
  if (match === null) throw new Error(`no refresh cookie set: ${JSON.stringify(seen.setCookie)}`);
  return match[1]!;
}

async function refreshCookie(context: BrowserContext, front: Front): Promise<Cookie | undefined> {
  return (await context.cookies(`${front.origin}/api/token/refresh`)).find((cookie) => cookie.name === 'refresh_token');
}

describe('the browser login page of examples/express, in Chromium', () => {
  let browser: Browser;
  let main: Front;
  /** ACCESS_TOKEN_TTL=2s: for the automatic refresh and the 401 token_expired. */
  let short: Front;
  /** A page on another site (http://127.0.0.1:<port> is not http://localhost). */
  let otherSite: Server;
  let otherOrigin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: run \`bash scripts/ensure-chromium.sh\` (pnpm test does) and try again.`);
    }
    [main, short] = await Promise.all([startFront(), startFront({ ACCESS_TOKEN_TTL: '2s' })]);
    otherSite = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>another site</title><body></body>');
    });
    otherOrigin = `http://127.0.0.1:${await listen(otherSite)}`;
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);

  // Each test's pages go with it: a page left open would go on refreshing on its timer.
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => undefined)));
    await browser?.close();
    await Promise.all([main?.close(), short?.close(), otherSite && closeServer(otherSite)]);
    await cleanUp();
  });

  /** A fresh browser profile (empty cookie jar) with the page opened: not logged in. */
  async function open(front: Front, before?: (page: Page) => Promise<void>): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await before?.(page);
    await page.goto(`${front.origin}/`);
    await statusIs(page, 'Not logged in.');
    return { context, page };
  }

  async function logIn(page: Page, password = 'alice-password'): Promise<void> {
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  }

  it('serves the page under a Content-Security-Policy that refuses inline script, and tries the cookie on load', async () => {
    const mark = main.seen.length;
    const { page } = await open(main);
    const csp = (await send(`${main.app.url}/`)).headers.get('content-security-policy');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");

    // With no cookie yet, the refresh on load fails as "no refresh token", which the page shows
    // as not logged in (the login form), not as an error.
    expect(await apiCalls(main, mark, 1)).toMatchObject([
      { method: 'POST', path: '/api/token/refresh', cookie: null, status: 400, body: { code: 'missing_field' } },
    ]);
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.isVisible('#session')).toBe(false);

    // A script injected into the page (as an XSS would) does not run; Chromium reports the violation.
    const injected = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (event) => resolve(event.effectiveDirective), { once: true });
      });
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.injected = "ran"';
      document.body.append(script); // an allowed inline script would have run synchronously here
      return { ran: document.body.dataset.injected === 'ran', directive: await violation };
    });
    expect(injected).toEqual({ ran: false, directive: 'script-src-elem' });
  });

  it('logs in: the refresh token goes only into an HttpOnly, Secure, SameSite=Strict cookie on /api/token, which no script reads, and the page greets alice', async () => {
    const { context, page } = await open(main);
    const mark = main.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');

    const [login, hello] = await apiCalls(main, mark, 2);
    expect(login).toMatchObject({ method: 'POST', path: '/api/token', cookie: null, contentType: 'application/json', status: 200 });
    // Cookie mode: the body has the access token only.
    expect(login!.body).toEqual({ access_token: expect.stringMatching(JWT), token_type: 'Bearer', expires_in: 300 });
    const refreshToken = cookieSetBy(login!);

    // Chromium kept the Secure cookie over http://localhost, with every attribute.
    const cookie = await refreshCookie(context, main);
    expect(cookie).toMatchObject({ value: refreshToken, domain: 'localhost', path: '/api/token', httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 86_000_000);

    // /api/hello carries the access token, and not the cookie (its Path is /api/token).
    expect(hello).toMatchObject({ method: 'GET', path: '/api/hello', authorization: `Bearer ${accessTokenOf(login!)}`, cookie: null, status: 200 });

    // Nothing the page's scripts can reach holds the refresh token: not document.cookie, not web
    // storage (the access token is not there either), not the document.
    expect(await page.evaluate(() => ({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length }))).toEqual({
      cookie: '',
      local: 0,
      session: 0,
    });
    expect(await page.content()).not.toContain(refreshToken);
    // Not even a script running at a path the cookie is sent to: HttpOnly, not only the Path, hides it.
    const underTokenPath = await context.newPage();
    const before = main.seen.length;
    await underTokenPath.goto(`${main.origin}/api/token/refresh`); // a GET: 404, but the cookie went along
    expect((await apiCalls(main, before, 1))[0]).toMatchObject({
      method: 'GET',
      path: '/api/token/refresh',
      cookie: `refresh_token=${refreshToken}`,
      status: 404,
    });
    expect(await underTokenPath.evaluate(() => document.cookie)).toBe('');
  });

  it('shows a failed login’s error_description, and sets no cookie', async () => {
    const { context, page } = await open(main);
    const mark = main.seen.length;
    await logIn(page, 'wrong-password');
    const [login] = await apiCalls(main, mark, 1);
    expect(login).toMatchObject({ path: '/api/token', status: 401, setCookie: [], body: { code: 'invalid_credentials' } });
    await statusIs(page, 'The username or password is incorrect');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await refreshCookie(context, main)).toBeUndefined();
  });

  it('refreshes through the cookie: a new access token, and the cookie rotates', async () => {
    const { context, page } = await open(main);
    let mark = main.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const [login] = await apiCalls(main, mark, 2);
    const firstCookie = cookieSetBy(login!);

    mark = main.seen.length;
    await page.click('#refresh');
    await statusIs(page, 'Hello, alice!');
    const [refresh, hello] = await apiCalls(main, mark, 2);
    // The page names no token: the browser sent the cookie, and no Authorization.
    expect(refresh).toMatchObject({ method: 'POST', path: '/api/token/refresh', cookie: `refresh_token=${firstCookie}`, authorization: null, status: 200 });
    expect(refresh!.body).toEqual({ access_token: expect.stringMatching(JWT), token_type: 'Bearer', expires_in: 300 });
    const secondCookie = cookieSetBy(refresh!);
    expect(secondCookie).not.toBe(firstCookie);
    expect((await refreshCookie(context, main))?.value).toBe(secondCookie);

    expect(accessTokenOf(refresh!)).not.toBe(accessTokenOf(login!));
    expect(hello).toMatchObject({ path: '/api/hello', authorization: `Bearer ${accessTokenOf(refresh!)}`, cookie: null, status: 200 });
  });

  it('loses the access token on a reload, and gets a new one through the cookie', async () => {
    const { page } = await open(main);
    let mark = main.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const [login] = await apiCalls(main, mark, 2);

    mark = main.seen.length;
    await page.reload();
    await statusIs(page, 'Hello, alice!');
    const [refresh, hello] = await apiCalls(main, mark, 2);
    // The first thing the reloaded page does is a refresh: it has no access token left to use.
    expect(refresh).toMatchObject({
      method: 'POST',
      path: '/api/token/refresh',
      authorization: null,
      cookie: `refresh_token=${cookieSetBy(login!)}`,
      status: 200,
    });
    expect(accessTokenOf(refresh!)).not.toBe(accessTokenOf(login!));
    expect(hello).toMatchObject({ path: '/api/hello', authorization: `Bearer ${accessTokenOf(refresh!)}`, status: 200 });
  });

  it('logs out: the session is revoked and the cookie cleared; the old cookie, put back, is refused token_revoked', async () => {
    const { context, page } = await open(main);
    let mark = main.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const [login] = await apiCalls(main, mark, 2);
    const oldCookie = (await refreshCookie(context, main))!;

    mark = main.seen.length;
    await page.click('#logout');
    await statusIs(page, 'Logged out.');
    const [revoke] = await apiCalls(main, mark, 1);
    expect(revoke).toMatchObject({
      method: 'POST',
      path: '/api/token/revoke',
      cookie: `refresh_token=${oldCookie.value}`,
      status: 200,
      body: { revoked: true },
    });
    expect(revoke!.setCookie).toEqual([expect.stringMatching(CLEAR_REFRESH_COOKIE)]);
    expect(await refreshCookie(context, main)).toBeUndefined();
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.isVisible('#session')).toBe(false);

    // Revoking the refresh token ended the whole session: its access token is refused too.
    const hello = await send(`${main.app.url}/api/hello`, { bearer: accessTokenOf(login!) });
    expect([hello.status, hello.body.code]).toEqual([401, 'token_revoked']);

    // The cookie, put back into the jar (as a thief who copied it would), no longer refreshes.
    await context.addCookies([oldCookie]);
    mark = main.seen.length;
    await page.reload();
    const [refresh] = await apiCalls(main, mark, 1);
    expect(refresh).toMatchObject({
      path: '/api/token/refresh',
      cookie: `refresh_token=${oldCookie.value}`,
      status: 401,
      setCookie: [],
      body: { code: 'token_revoked' },
    });
    await statusIs(page, (refresh!.body as { error_description: string }).error_description);
    expect(await page.isVisible('#login')).toBe(true);
  });

  it('does not send the cookie for a page on another site: no tokens by fetch, by no-cors fetch, or by a form', async () => {
    const { context, page } = await open(main);
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const cookie = (await refreshCookie(context, main))!;

    const attacker = await context.newPage();
    await attacker.goto(`${otherOrigin}/`);
    const mark = main.seen.length;
    const fetched = await attacker.evaluate(async (api) => {
      const results: string[] = [];
      try {
        // JSON, as the endpoint wants it: needs a CORS preflight, which the example does not grant.
        const response = await fetch(`${api}/api/token/refresh`, {
          method: 'POST',
          credentials: 'include',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        });
        results.push(`answered ${response.status}`);
      } catch (error) {
        results.push(String(error));
      }
      // A "simple" request is sent without a preflight, but its answer is opaque to the page.
      const opaque = await fetch(`${api}/api/token/refresh`, {
        method: 'POST',
        mode: 'no-cors',
        credentials: 'include',
        headers: { 'Content-Type': 'text/plain' },
        body: '{}',
      });
      results.push(`${opaque.type} ${opaque.status}`);
      return results;
    }, main.origin);
    expect(fetched).toEqual(['TypeError: Failed to fetch', 'opaque 0']);

    // A form posted by the other site: a top-level navigation, which SameSite=Strict covers too.
    await Promise.all([
      attacker.waitForURL(`${main.origin}/api/token/refresh`, { timeout: WAIT }),
      attacker.evaluate((api) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = `${api}/api/token/refresh`;
        form.enctype = 'text/plain';
        const input = document.createElement('input');
        input.name = '{"refresh_token":"';
        input.value = '"}';
        form.append(input);
        document.body.append(form);
        form.submit();
      }, main.origin),
    ]);
    expect(await attacker.textContent('body')).not.toContain('access_token');

    // What reached the server: a preflight (refused: no CORS), then two POSTs, none with the cookie.
    const calls = await apiCalls(main, mark, 3);
    expect(calls.map(({ method, cookie, origin, fetchSite, status }) => ({ method, cookie, origin, fetchSite, status }))).toEqual([
      { method: 'OPTIONS', cookie: null, origin: otherOrigin, fetchSite: 'cross-site', status: 404 },
      { method: 'POST', cookie: null, origin: otherOrigin, fetchSite: 'cross-site', status: 400 },
      { method: 'POST', cookie: null, origin: otherOrigin, fetchSite: 'cross-site', status: 400 },
    ]);
    expect(calls.flatMap((call) => call.setCookie ?? [])).toEqual([]);

    // The cookie was live all along: the page of its own site still refreshes with it.
    expect((await refreshCookie(context, main))?.value).toBe(cookie.value);
    const before = main.seen.length;
    await page.click('#refresh');
    await statusIs(page, 'Hello, alice!');
    expect((await apiCalls(main, before, 1))[0]).toMatchObject({
      path: '/api/token/refresh',
      cookie: `refresh_token=${cookie.value}`,
      fetchSite: 'same-origin',
      status: 200,
    });
  });

  it('refreshes by itself shortly before the access token expires (ACCESS_TOKEN_TTL=2s)', async () => {
    const { context, page } = await open(short);
    const mark = short.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const [login] = await apiCalls(short, mark, 2);
    expect(login!.body).toMatchObject({ expires_in: 2 });

    // Nobody clicks: the page's timer refreshes through the cookie (at 1.5 s).
    const refresh = await until('an automatic refresh', () =>
      short.seen.slice(mark).find((seen) => seen.path === '/api/token/refresh' && seen.status !== undefined),
    );
    expect(refresh).toMatchObject({ method: 'POST', cookie: `refresh_token=${cookieSetBy(login!)}`, status: 200 });
    await until('the rotated cookie in the jar', async () => ((await refreshCookie(context, short))?.value === cookieSetBy(refresh) ? true : undefined));

    // And the page calls the API with a token it got from a refresh.
    const before = short.seen.length;
    await page.click('#hello');
    await statusIs(page, 'Hello, alice!');
    const hello = (await apiCalls(short, before, 1)).find((seen) => seen.path === '/api/hello')!;
    const refreshed = short.seen.filter((seen) => seen.path === '/api/token/refresh' && seen.status === 200).map((seen) => `Bearer ${accessTokenOf(seen)}`);
    expect(refreshed).toContain(hello.authorization);
    expect(hello).toMatchObject({ status: 200 });
  });

  it('answers a 401 token_expired by refreshing through the cookie and trying again, when its timer did not run', { timeout: 40_000 }, async () => {
    // The page's clock is paused (as in a sleeping laptop or a throttled tab): its refresh timer never fires.
    const { page } = await open(short);
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
    let mark = short.seen.length;
    await logIn(page);
    await statusIs(page, 'Hello, alice!');
    const [login] = await apiCalls(short, mark, 2);

    // Real time passes on the server until it refuses the access token: 2 s, plus the verifier's
    // clock tolerance (core's default, 5 s).
    const token = accessTokenOf(login!);
    await until(
      'the access token to expire',
      async () => ((await send(`${short.app.url}/api/hello`, { bearer: token })).body.code === 'token_expired' ? true : undefined),
      15_000,
    );
    expect(short.seen.slice(mark).filter((seen) => seen.path === '/api/token/refresh')).toEqual([]);

    mark = short.seen.length;
    await page.click('#hello');
    await statusIs(page, 'Hello, alice!');
    const [expired, refresh, hello] = await apiCalls(short, mark, 3);
    expect(expired).toMatchObject({ path: '/api/hello', authorization: `Bearer ${accessTokenOf(login!)}`, status: 401, body: { code: 'token_expired' } });
    expect(refresh).toMatchObject({ path: '/api/token/refresh', cookie: `refresh_token=${cookieSetBy(login!)}`, status: 200 });
    expect(hello).toMatchObject({ path: '/api/hello', authorization: `Bearer ${accessTokenOf(refresh!)}`, status: 200 });
  });
});
