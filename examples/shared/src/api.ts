import { json, type Answer } from './answer.js';
import { isDraining } from './lifecycle.js';

/** What the servers read from their adapter's `auth`. */
export interface AuthLike {
  payload: { sub?: string | undefined };
  scopes: readonly string[];
}

/** The longest `/api/slow` waits, in milliseconds. */
export const SLOW_MAX_MS = 10_000;

/**
 * `GET /healthz`: 200 `{"status":"ok"}`, or 503 `{"status":"draining"}` once the process is
 * shutting down, so that a load balancer that checks it (a Kubernetes readiness probe, HAProxy, a
 * cloud load balancer) stops sending requests while the last ones are still answered.
 */
export function healthz(draining = isDraining()): Answer {
  if (draining) return json(503, { status: 'draining' }, { 'Retry-After': '1' });
  return json(200, { status: 'ok' });
}

/** `GET /api/hello`. */
export function hello(auth: AuthLike): Answer {
  const { sub } = auth.payload;
  return json(200, { message: `Hello, ${sub}!`, sub, scopes: auth.scopes });
}

/** `GET /api/admin`, behind `requireScopes('admin')`. */
export function admin(auth: AuthLike): Answer {
  return json(200, { message: `Welcome, admin ${auth.payload.sub}.` });
}

/**
 * How long `GET /api/slow?ms=N` waits: N when it is a whole number, at most {@link SLOW_MAX_MS};
 * 0 when it is absent or not a whole number. `url` is the request path with its query string.
 */
export function slowDelay(url: string): number {
  const query = url.indexOf('?');
  const ms = new URLSearchParams(query === -1 ? '' : url.slice(query + 1)).get('ms') ?? '';
  return /^\d+$/.test(ms) ? Math.min(Number(ms), SLOW_MAX_MS) : 0;
}

/** `GET /api/slow?ms=N`: answers after the wait (used to watch graceful shutdown at work). */
export async function slow(url: string): Promise<Answer> {
  const waited = slowDelay(url);
  await new Promise((resolve) => setTimeout(resolve, waited));
  return json(200, { waited });
}
