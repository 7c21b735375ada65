import type { JwtAuthOptions, JWTPayload } from '@jwtauth/core';
import type { Send } from '../cases.js';

/**
 * The secret every harness signs cookies with, the framework's own way: cookie-parser's secret
 * (Express), `app.keys` (Koa), @fastify/cookie's `secret`, the Hono adapter's `cookieSecret`.
 */
export const COOKIE_SECRET = 'conformance-cookie-secret';

/** Whether the options read a signed token cookie (the Hono adapter then needs `cookieSecret`). */
export function readsSignedCookie(options: AnyOptions): boolean {
  const cookie = options.tokenFrom?.cookie;
  return typeof cookie === 'object' && cookie.signed === true;
}

/** Options of the framework under test; `getToken`/`resolveUser` receive that framework's request. */
// The request type differs per framework; the suite only passes hooks that ignore it.
export type AnyOptions = JwtAuthOptions<JWTPayload, unknown, never>;

/** A running test server on 127.0.0.1. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts one framework's server with `jwtAuth(options)` in front of these routes, identical in
 * every harness, behind the framework's own cookie parsing (signing with {@link COOKIE_SECRET})
 * and `application/x-www-form-urlencoded` body parsing, mounted before `jwtAuth`:
 * - `GET|HEAD|OPTIONS|POST /protected` → 200 `{ auth, user }` (`auth`/`user` as attached, `null` if unset),
 *   plus `authError` (`{ status, error, error_description, code }`) when `passthrough` attached one
 * - `GET /admin` → `requireScopes('admin')` → 200 `{ ok: true }`
 * - `GET /admin-read` → `requireScopes('admin', 'read')` → 200 `{ ok: true }`
 * - `GET /claims` → `requireClaims(p => p.role === 'admin')` → 200 `{ ok: true }`
 * - `GET /claims-throw` → `requireClaims(() => { throw new Error('guard exploded') })`
 * - `GET /claims-reject` → `requireClaims(() => Promise.reject())`: a rejection that is not an Error
 * - `GET /escalate` → a handler that tries to grant itself `admin` by changing what was attached
 *   ({@link escalate}), then 200 `{ ok: true }`
 * Errors reaching the framework's own error path answer `{ forwarded: true, name, code, message }`
 * with `err.status` (or 500).
 */
export interface Harness {
  name: 'express' | 'express4' | 'koa' | 'koa2' | 'fastify' | 'fastify4' | 'hono';
  start(options: AnyOptions): Promise<RunningServer>;
  /**
   * The `Cookie` header part that sends cookie `name` with `value`, signed with `secret` the way
   * this framework signs cookies (Koa adds a `<name>.sig` cookie).
   */
  signCookie(name: string, value: string, secret: string): Promise<string>;
}

/** What every harness answers for a forwarded error: its status, its ready headers, and a marker body. */
export function forwardedBody(error: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const err = (error ?? {}) as { status?: unknown; name?: unknown; code?: unknown; message?: unknown; headers?: unknown };
  const status = typeof err.status === 'number' ? err.status : 500;
  return {
    status,
    headers: typeof err.headers === 'object' && err.headers !== null ? (err.headers as Record<string, string>) : {},
    body: { forwarded: true, name: err.name ?? null, code: err.code ?? null, message: err.message ?? null },
  };
}

/** The check behind `/claims-reject`: rejects with `undefined`, which Express would read as "carry on". */
export const rejectWithNothing = (): Promise<boolean> => Promise.reject(undefined);

/** The JSON every harness answers on a protected route; `authError` only when one was attached. */
export function attached(auth: unknown, user: unknown, authError?: unknown): { auth: unknown; user: unknown; authError?: unknown } {
  const body = { auth: auth ?? null, user: user ?? null };
  if (authError === undefined || authError === null) return body;
  const error = authError as { status: number; toJSON(): Record<string, unknown> };
  return { ...body, authError: { status: error.status, ...error.toJSON() } };
}

/**
 * What a careless (or hostile) handler does to the request's auth: widen the scope, add a role,
 * rename the user. It must change nothing for the next request with the same token.
 */
export function escalate(auth: unknown, user: unknown): void {
  const info = auth as { payload: Record<string, unknown>; scopes: string[]; header: Record<string, unknown> };
  info.payload.scope = `${typeof info.payload.scope === 'string' ? info.payload.scope : ''} admin`;
  info.payload.role = 'admin';
  info.scopes.push('admin');
  info.header.alg = 'none';
  if (typeof user === 'object' && user !== null) (user as Record<string, unknown>).sub = 'admin';
}

/** A case's request headers, with its signed cookies signed the harness's way. */
export async function headersOf(harness: Harness, sent: Send): Promise<Record<string, string | string[]>> {
  const headers = { ...sent.headers };
  const cookies = [];
  for (const { name, value, secret = COOKIE_SECRET, swap } of sent.signedCookies ?? []) {
    const cookie = await harness.signCookie(name, value, secret);
    cookies.push(swap === undefined ? cookie : cookie.replace(value, swap));
  }
  if (cookies.length > 0) headers.Cookie = [headers.Cookie, ...cookies].filter((part) => part !== undefined).join('; ');
  return headers;
}
