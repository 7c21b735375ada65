import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';
import { cleanUp, frameworks, kill, startApp, type App } from './e2e-support.js';

// Two tabs of one browser share the refresh cookie. When both refresh at the same moment (both
// woke up, both saw an expired access token), both must end with working tokens, and the user
// must stay logged in; logging out in one tab ends the session for both. Real Chromium, each
// example server, cookie mode, one origin (the page and the API behind a small proxy).

/** What a tab's `fetch` answered. */
interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

/** Serves the page at `/` and passes `/api/*` to the app, so that page and API share an origin. */
async function sameOrigin(app: App): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/api/')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>tab</title>');
      return;
    }
    const upstream = request(`${app.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

/** `fetch` in a tab, as the page's own script does it (cookies go along on their own). */
function call(tab: Page, path: string, init: { method?: string; body?: unknown; bearer?: string } = {}): Promise<Answer> {
  return tab.evaluate(
    async ({ path, init }) => {
      const headers: Record<string, string> = {};
      if (init.body !== undefined) headers['Content-Type'] = 'application/json';
      if (init.bearer !== undefined) headers.Authorization = `Bearer ${init.bearer}`;
      const response = await fetch(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
    },
    { path, init },
  );
}

describe.each(frameworks)('examples/%s in two tabs of one browser', (fw) => {
  let app: App;
  let site: { origin: string; server: Server };
  let context: BrowserContext;
  let profile: string;
  let tabs: [Page, Page];

  beforeAll(async () => {
    app = await startApp(fw, { JWT_SECRET: 'two-tabs-test-secret-0123456789-abcdefghij' });
    site = await sameOrigin(app);
    profile = await mkdtemp(join(tmpdir(), 'jwtauth-tabs-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const first = context.pages()[0] ?? (await context.newPage());
    const second = await context.newPage();
    await first.goto(`${site.origin}/`);
    await second.goto(`${site.origin}/`);
    tabs = [first, second];
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    site?.server.closeAllConnections();
    await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()));
    if (app) kill(app.proc);
    await cleanUp();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('keeps both tabs logged in when they refresh at the same moment, and one logout ends both', async () => {
    const [tabA, tabB] = tabs;
    const login = await call(tabA, '/api/token', { method: 'POST', body: { username: 'alice', password: 'alice-password', refresh_in: 'cookie' } });
    expect(login.status).toBe(200);
    // The refresh token is in an HttpOnly cookie: no script of either tab can read it.
    expect(await tabB.evaluate(() => document.cookie)).toBe('');

    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([
        call(tabA, '/api/token/refresh', { method: 'POST', body: {} }),
        call(tabB, '/api/token/refresh', { method: 'POST', body: {} }),
      ]);
      expect([a.status, b.status], `round ${round}: ${JSON.stringify([a.body, b.body])}`).toEqual([200, 200]);
      for (const [tab, answer] of [
        [tabA, a],
        [tabB, b],
      ] as const) {
        expect((await call(tab, '/api/hello', { bearer: answer.body!.access_token as string })).status).toBe(200);
      }
    }

    // Each tab carries on alone with the cookie both share.
    expect((await call(tabA, '/api/token/refresh', { method: 'POST', body: {} })).status).toBe(200);
    const last = await call(tabB, '/api/token/refresh', { method: 'POST', body: {} });
    expect(last.status).toBe(200);

    // Logging out in tab B ends the session in tab A too.
    expect(await call(tabB, '/api/token/revoke', { method: 'POST', body: {} })).toEqual({ status: 200, body: { revoked: true } });
    const after = await call(tabA, '/api/hello', { bearer: last.body!.access_token as string });
    expect(after).toMatchObject({ status: 401, body: { code: 'token_revoked' } });
    expect((await call(tabA, '/api/token/refresh', { method: 'POST', body: {} })).status).toBe(400);
  });
});
