import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { createServer } from 'node:http';
import { SignJWT, type JWTPayload } from 'jose';
import { listen } from '../harness/listen.js';
import type { RunningServer } from '../harness/types.js';

// Small helpers for the ported peer suites: one Express app per case on 127.0.0.1, answering
// `{ auth, user }` so a test sees what the middleware attached.

const running = new Set<RunningServer>();

/** Closes every server `serve` started (call it in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...running].map((server) => server.close()));
  running.clear();
}

/**
 * Serves `middleware` (one or more) in front of `app.all('/*path')`, which answers what was
 * attached; errors that reach Express's error path are answered 418 `{ forwarded: message, code }`
 * so a test can tell them from the adapter's own answers.
 */
export async function serve(...middleware: (RequestHandler | ErrorRequestHandler)[]): Promise<string> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  for (const handler of middleware) app.use(handler);
  app.all('/{*path}', (req, res) => {
    res.json({ auth: req.auth ?? null, user: req.user ?? null });
  });
  const onError: ErrorRequestHandler = (err: Error & { code?: string; status?: number }, _req, res, _next) => {
    res.status(418).json({ forwarded: err.message, code: err.code ?? null, name: err.name, status: err.status ?? null });
  };
  app.use(onError);
  const server = await listen(createServer(app));
  running.add(server);
  return server.url;
}

/** Signs `claims` with HS256 (or `alg`) and `secret`; `iat` now unless given. */
export function signWith(secret: string | Uint8Array, claims: JWTPayload & Record<string, unknown>, alg = 'HS256'): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT({ iat: Math.floor(Date.now() / 1000), ...claims }).setProtectedHeader({ alg }).sign(key);
}

/** Seconds since the epoch, `offset` from now. */
export const at = (offset: number) => Math.floor(Date.now() / 1000) + offset;

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** GET (or `init.method`) `url` with `init.headers`; parses the JSON body (`{}` when empty). */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
