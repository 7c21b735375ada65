import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowserPage, type BrowserPage } from './browser.js';
import { failure } from './cases.js';
import { agnosticVariants, corsVariants, type AgnosticServer, type ApiServer } from './cors-apps.js';
import { sign } from './fixtures.js';

// A CORS preflight is authenticated like any other request (the contract, §2). These tests prove
// that a browser still gets through when each framework's own CORS middleware is mounted before
// jwtAuth, as the adapter READMEs say, and that nothing behind jwtAuth runs for a preflight that
// no CORS middleware answered.

/** The contract's JSON body for a failure with this code. */
const errorBody = (code: Parameters<typeof failure>[0]) => failure(code).body;
/** A token signed with another secret than the API's: its signature does not verify. */
const forged = () => sign({ sub: 'mallory' }, { key: new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256!!') });

describe('in Chromium, with each framework’s CORS middleware mounted before jwtAuth', () => {
  let browser: BrowserPage;
  beforeAll(async () => {
    browser = await openBrowserPage();
  }, 60_000);
  afterAll(() => browser?.close());

  // Each call has its own path, so Chromium's preflight cache never answers for the server.
  let next = 0;
  const newItem = () => {
    const id = String(++next);
    return { id, path: `/api/items/${id}` };
  };

  describe.each(corsVariants)('$name', (variant) => {
    let api: ApiServer;
    beforeAll(async () => {
      api = await variant.start(browser.origin, { order: 'cors-first' });
    });
    afterAll(() => api?.close());

    const requestsTo = (path: string) => api.seen.filter((request) => request.path === path);

    it('runs a cross-origin PUT with a valid token, after a preflight the CORS middleware answered without credentials', async () => {
      const { id, path } = newItem();
      const before = api.runs.length;
      const token = await sign({ sub: 'alice' });
      const answer = await browser.fetch(`${api.url}${path}`, { method: 'PUT', authorization: `Bearer ${token}` });

      expect(answer).toEqual({
        status: 200,
        contentType: expect.stringMatching(/^application\/json/),
        body: { ran: `item ${id}`, method: 'PUT', sub: 'alice' },
      });
      expect(api.runs.slice(before)).toEqual([`PUT item ${id} alice`]);
      // The browser sent a real preflight, without the token, and only then the PUT with it.
      expect(requestsTo(path)).toEqual([
        { method: 'OPTIONS', path, authorization: null, requestMethod: 'PUT', requestHeaders: 'authorization' },
        { method: 'PUT', path, authorization: `Bearer ${token}`, requestMethod: null, requestHeaders: null },
      ]);
    });

    it('lets the preflight of a DELETE without a token through, then answers the DELETE 401 missing_token, readable by the page', async () => {
      const { path } = newItem();
      const before = api.runs.length;
      const answer = await browser.fetch(`${api.url}${path}`, { method: 'DELETE' });

      // Readable at all means the CORS headers are on jwtAuth's 401 too: otherwise fetch rejects.
      expect(answer).toEqual({ status: 401, contentType: 'application/json', body: errorBody('missing_token') });
      expect(api.runs.slice(before)).toEqual([]);
      expect(requestsTo(path)).toEqual([
        { method: 'OPTIONS', path, authorization: null, requestMethod: 'DELETE', requestHeaders: null },
        { method: 'DELETE', path, authorization: null, requestMethod: null, requestHeaders: null },
      ]);
    });

    it('answers a PUT with a forged token 401 invalid_signature, readable by the page, and never runs the handler', async () => {
      const { path } = newItem();
      const before = api.runs.length;
      const token = await forged();
      const answer = await browser.fetch(`${api.url}${path}`, { method: 'PUT', authorization: `Bearer ${token}` });

      expect(answer).toEqual({ status: 401, contentType: 'application/json', body: errorBody('invalid_signature') });
      expect(api.runs.slice(before)).toEqual([]);
      expect(requestsTo(path).map((request) => [request.method, request.authorization])).toEqual([
        ['OPTIONS', null],
        ['PUT', `Bearer ${token}`],
      ]);
    });
  });

  describe.each(corsVariants)('$name with jwtAuth mounted before its CORS middleware (the wrong order)', (variant) => {
    let api: ApiServer;
    beforeAll(async () => {
      api = await variant.start(browser.origin, { order: 'auth-first' });
    });
    afterAll(() => api?.close());

    it('answers the preflight 401 itself, so the browser refuses even a call with a valid token', async () => {
      const { path } = newItem();
      const answer = await browser.fetch(`${api.url}${path}`, { method: 'PUT', authorization: `Bearer ${await sign({ sub: 'alice' })}` });

      expect(answer).toEqual({ failed: expect.stringContaining('TypeError') });
      // The browser stopped at the preflight: the PUT was never sent.
      expect(api.seen.filter((request) => request.path === path).map((request) => request.method)).toEqual(['OPTIONS']);
      expect(api.runs).toEqual([]);

      // What the browser got: jwtAuth's 401, and no CORS header that would have allowed the call.
      const preflight = await fetch(`${api.url}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: browser.origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization' },
      });
      expect(preflight.status).toBe(401);
      expect(await preflight.json()).toEqual(errorBody('missing_token'));
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe.each(corsVariants)('$name with forwardErrors, answered by the framework’s default error handler', (variant) => {
  const origin = 'http://127.0.0.1:1';
  let api: ApiServer;
  beforeAll(async () => {
    api = await variant.start(origin, { order: 'cors-first', forwardErrors: true });
  });
  afterAll(() => api?.close());

  it('keeps the CORS headers on the forwarded 401, so a page can still read it', async () => {
    const answer = await fetch(`${api.url}/api/items/1`, { method: 'PUT', headers: { Origin: origin } });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(answer.headers.get('www-authenticate')).toBe(failure('missing_token').challenge);
    expect(api.runs).toEqual([]);
  });
});

describe('a method-agnostic handler behind jwtAuth, with no CORS middleware', () => {
  /** A browser's preflight for a cross-origin PUT with an Authorization header. */
  const preflight = (url: string, authorization?: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:1',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'authorization',
        ...(authorization === undefined ? {} : { Authorization: authorization }),
      },
    });

  describe.each(agnosticVariants)('$name', (variant) => {
    let server: AgnosticServer;
    beforeAll(async () => {
      server = await variant.start();
    });
    afterAll(() => server?.close());

    it('does not run for a preflight without a token, which gets 401 missing_token', async () => {
      const before = server.runs.length;
      for (const { mount, path } of server.handlers) {
        const answer = await preflight(`${server.url}${path}`);
        expect.soft(answer.status, mount).toBe(401);
        expect.soft(answer.headers.get('www-authenticate'), mount).toBe(failure('missing_token').challenge);
        expect.soft(await answer.json(), mount).toEqual(errorBody('missing_token'));
      }
      expect(server.runs.slice(before)).toEqual([]);
    });

    it('does not run for a preflight with a forged token, which gets 401 invalid_signature', async () => {
      const before = server.runs.length;
      const token = await forged();
      for (const { mount, path } of server.handlers) {
        const answer = await preflight(`${server.url}${path}`, `Bearer ${token}`);
        expect.soft(answer.status, mount).toBe(401);
        expect.soft(await answer.json(), mount).toEqual(errorBody('invalid_signature'));
      }
      expect(server.runs.slice(before)).toEqual([]);
    });

    it('runs for an OPTIONS with a valid token (so the two tests above can see a run)', async () => {
      const before = server.runs.length;
      const token = await sign({ sub: 'alice' });
      for (const { mount, path } of server.handlers) {
        const answer = await preflight(`${server.url}${path}`, `Bearer ${token}`);
        expect.soft(answer.status, mount).toBe(200);
        expect.soft(await answer.json(), mount).toEqual({ ran: mount, method: 'OPTIONS', sub: 'alice' });
      }
      expect(server.runs.slice(before)).toEqual(server.handlers.map(({ mount }) => `OPTIONS ${mount} alice`));
    });
  });
});
