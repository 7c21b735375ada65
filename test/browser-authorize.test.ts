import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { tokenRouter } from '@jwtauth/express';
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './browser.js';
import { listen } from './harness/listen.js';
import type { RunningServer } from './harness/types.js';

// The authorization code grant's sign-in page in a real browser (Debian's Chromium through
// playwright-core): the user fills in the form @jwtauth/issuer serves at /authorize, and the
// browser follows the 302 to the client's redirect URI on another origin. Chromium checks the
// page's CSP `form-action` against that redirect too, so this is what proves the CSP lets the
// sign-in finish (fetch-based tests cannot see it).

let browser: Browser;
let issuerServer: RunningServer;
let clientServer: RunningServer;
/** What the client's redirect URI received. */
const callbacks: URL[] = [];

beforeAll(async () => {
  clientServer = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', clientServer.url);
      // Only the redirect URI: Chromium asks for /favicon.ico too.
      if (url.pathname === '/callback') callbacks.push(url);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>signed in</title><p>back at the client</p>');
    }),
  );
  const holder: { app?: express.Express } = {};
  issuerServer = await listen(
    createServer((req, res) => {
      holder.app!(req, res);
    }),
  );
  const issuer = createTokenIssuer({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, issuer: issuerServer.url });
  const endpoints = createTokenEndpoints<express.Request>({
    issuer,
    verifyCredentials: (username, password) => (username === 'alice' && password === 'alice-password' ? { subject: 'alice' } : null),
    authorization: { clients: [{ clientId: 'browser-app', redirectUris: [`${clientServer.url}/callback`], name: 'Browser app' }] },
  });
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(tokenRouter(endpoints));
  holder.app = app;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await issuerServer?.close();
  await clientServer?.close();
});

describe('the sign-in page of /authorize in Chromium', () => {
  it('signs the user in and follows the redirect to the client on another origin, with the code, state and iss', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'browser-app',
      redirect_uri: `${clientServer.url}/callback`,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 'tab-1',
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    try {
      await page.goto(`${issuerServer.url}/authorize?${query}`, { timeout: 5_000 });
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'alice-password');
      await Promise.all([page.waitForURL(`${clientServer.url}/callback?**`, { timeout: 5_000 }), page.click('button[type="submit"], input[type="submit"]')]);
      expect(violations).toEqual([]);
      expect(await page.textContent('p')).toBe('back at the client');
      const landed = callbacks.at(-1)!;
      expect(landed.searchParams.get('state')).toBe('tab-1');
      expect(landed.searchParams.get('iss')).toBe(issuerServer.url);
      // The code the browser carried back is good for tokens, with the verifier only the client has.
      const exchanged = await fetch(`${issuerServer.url}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: landed.searchParams.get('code')!,
          code_verifier: verifier,
          redirect_uri: `${clientServer.url}/callback`,
          client_id: 'browser-app',
        }),
      });
      expect(exchanged.status).toBe(200);
      expect(await exchanged.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) as string });
    } finally {
      await context.close();
    }
  }, 30_000);

  it('shows the form again, with no redirect, for a wrong password', async () => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'browser-app',
      redirect_uri: `${clientServer.url}/callback`,
      code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${issuerServer.url}/authorize?${query}`, { timeout: 5_000 });
      const before = callbacks.length;
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'wrong');
      const [answer] = await Promise.all([
        page.waitForResponse(`${issuerServer.url}/authorize`, { timeout: 5_000 }),
        page.click('button[type="submit"], input[type="submit"]'),
      ]);
      expect(answer.status()).toBe(401);
      expect(await page.content()).toContain('The username or password is incorrect.');
      expect(callbacks.length).toBe(before);
    } finally {
      await context.close();
    }
  }, 30_000);
});
