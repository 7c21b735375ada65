import { generateSignedCookie } from 'hono/cookie';
import { conformanceApp } from '../runtimes/apps.js';
import type { Harness } from './types.js';
import { serveFetch } from './listen.js';

export const honoHarness: Harness = {
  name: 'hono',
  // The same app the runtime conformance run serves in Bun, Deno and workerd. Async, so that a
  // TypeError of jwtAuth() rejects start() as with every other harness.
  async start(options) {
    return serveFetch(conformanceApp(options));
  },
  // hono/cookie's own setSignedCookie format: `value.` + padded base64 HMAC-SHA256, URL-encoded.
  async signCookie(name, value, secret) {
    return (await generateSignedCookie(name, value, secret)).split(';', 1)[0]!;
  },
};
