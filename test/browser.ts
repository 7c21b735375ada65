import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; `scripts/ensure-chromium.sh` (run by `pnpm test`) installs it. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Chromium flags for this machine. */
// No sandbox: the tests run as root. No background networking, component updates or sync: the
// machine has no network beyond loopback, and Chromium would otherwise keep dialling out.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What a page's `fetch` saw: the answer it could read, or the error the browser gave instead. */
export type PageFetchResult = { status: number; contentType: string | null; body: unknown } | { failed: string };

/** What a page's `fetch` sends. */
export interface PageFetchInit {
  method: string;
  /** The whole `Authorization` value, if any. */
  authorization?: string;
}

/** A page loaded from its own loopback origin, in a headless Chromium with a fresh profile. */
export interface BrowserPage {
  /** The page's origin, `http://127.0.0.1:<port>`: another origin than any API server's. */
  origin: string;
  /** Calls `fetch(url, init)` inside the page, as the page's own script would. */
  fetch(url: string, init: PageFetchInit): Promise<PageFetchResult>;
  close(): Promise<void>;
}

/** Starts Chromium and opens a blank page served from a loopback origin of its own. */
export async function openBrowserPage(): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: run \`bash scripts/ensure-chromium.sh\` (pnpm test does) and try again.`);
  }
  const site = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>CORS client</title>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  const profile = await mkdtemp(join(tmpdir(), 'jwtauth-chromium-'));
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    site.closeAllConnections();
    await new Promise<void>((resolve) => site.close(() => resolve()));
    await rm(profile, { recursive: true, force: true });
  };
  try {
    // Playwright refuses a --user-data-dir argument: a persistent context is how it takes one.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${origin}/`);
    return {
      origin,
      fetch: (url, init) =>
        page.evaluate(
          async ({ url, init }): Promise<PageFetchResult> => {
            try {
              const headers: Record<string, string> = {};
              if (init.authorization !== undefined) headers.Authorization = init.authorization;
              const response = await fetch(url, { method: init.method, headers });
              const text = await response.text();
              return {
                status: response.status,
                contentType: response.headers.get('content-type'),
                body: text === '' ? null : JSON.parse(text),
              };
            } catch (error) {
              // A CORS refusal: the page learns nothing but this TypeError.
              return { failed: String(error) };
            }
          },
          { url, init },
        ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
