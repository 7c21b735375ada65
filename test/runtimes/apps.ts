/**
 * The Hono apps the runtime conformance run serves, the same code in every runtime: in Node (from
 * the sources, through vitest's aliases) and in Bun, Deno and workerd (from packages/*\/dist,
 * through node_modules). Only Web-standard APIs and Hono here, so that each runtime serves them
 * its own way (Bun.serve, Deno.serve, a workerd `fetch` export).
 */
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import { jwtAuth, requireClaims, requireScopes, tokenApp, type JwtAuthEnv } from '@jwtauth/hono';
import type { JWK } from 'jose';
import { Hono, type Context } from 'hono';
import type { AnyOptions } from '../harness/types.js';
import { attached, COOKIE_SECRET, escalate, forwardedBody, readsSignedCookie, rejectWithNothing } from '../harness/types.js';

/**
 * The header each socket of the workerd config adds (worker.ts), naming the app that answers: a
 * scenario name (URI-encoded), or `issuer`. Here because a worker module may export handlers only.
 */
export const SCENARIO_HEADER = 'x-jwtauth-scenario';

/** A Fetch handler, what every runtime serves. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * The conformance app for one scenario's options: the routes of test/harness/types.ts's `Harness`
 * contract. test/harness/hono.ts serves it in Node for the conformance suite.
 */
export function conformanceApp(options: AnyOptions): FetchHandler {
  // Chained, so the app's type carries the auth variables. Hono verifies signed cookies with a
  // secret given to the adapter (cookieSecret), refused when no signed cookie is read.
  const cookieSecret = readsSignedCookie(options) ? { cookieSecret: COOKIE_SECRET } : {};
  const app = new Hono().use('*', jwtAuth({ ...(options as Parameters<typeof jwtAuth>[0]), ...cookieSecret }));
  app.on(['GET', 'HEAD', 'OPTIONS', 'POST'], '/protected', (c) => c.json(attached(c.get('auth'), c.get('user'), c.get('authError'))));
  app.get('/admin', requireScopes('admin'), (c) => c.json({ ok: true }));
  app.get('/admin-read', requireScopes('admin', 'read'), (c) => c.json({ ok: true }));
  app.get(
    '/claims',
    requireClaims((payload) => payload.role === 'admin'),
    (c) => c.json({ ok: true }),
  );
  app.get('/claims-reject', requireClaims(rejectWithNothing), (c) => c.json({ ok: true }));
  app.get(
    '/claims-throw',
    requireClaims(() => {
      throw new Error('guard exploded');
    }),
    (c) => c.json({ ok: true }),
  );
  app.get('/escalate', (c) => {
    escalate(c.get('auth'), c.get('user'));
    return c.json({ ok: true });
  });
  app.onError((error, c) => {
    const { status, headers, body } = forwardedBody(error);
    return c.json(body, status as 500, headers);
  });
  return app.fetch;
}

/**
 * @jwtauth/issuer inside the runtime: login and refresh at `/auth/token[/refresh]` (tokenApp),
 * tokens signed with `signingKey` (an Ed25519 private JWK: EdDSA), and `GET /api/hello` behind
 * `jwtAuth(issuer.verifierOptions)` answering `{ sub }`.
 */
export function issuerApp(signingKey: JWK): FetchHandler {
  // reuseInterval 0: the replayed refresh token is refused at once, observable in one run.
  const issuer = createTokenIssuer({ key: signingKey, issuer: 'urn:runtime-test', audience: 'urn:api', reuseInterval: 0 });
  const endpoints = createTokenEndpoints<Context>({
    issuer,
    verifyCredentials: (username, password) => (username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'read' } } : null),
  });
  const app = new Hono<JwtAuthEnv>();
  app.route('/auth', tokenApp(endpoints));
  app.use('/api/*', jwtAuth({ ...issuer.verifierOptions }));
  app.get('/api/hello', (c) => c.json({ sub: c.get('user')?.sub ?? null }));
  return app.fetch;
}

/** One line a runtime prints for each `jwks.fetch` event and each forwarded AuthError's cause. */
export interface PermissionLine {
  event?: { type: string; outcome?: string; cause?: string; reason?: string };
  authError?: { code: string; cause: string };
}

/**
 * A remote JWK Set the runtime may not be allowed to fetch (Deno without `--allow-net` for its
 * host): `/protected` answers as jwtAuth does, `/forwarded` sends the AuthError to `onError`,
 * which prints its cause. Every `jwks.fetch` event is printed. Lines go to `print`.
 */
export function permissionApp(jwksUri: string, print: (line: PermissionLine) => void): FetchHandler {
  const onEvent: AnyOptions['onEvent'] = (event) => {
    if (event.type !== 'jwks.fetch') return;
    print({ event: { type: event.type, outcome: event.outcome, cause: event.cause, reason: event.reason } });
  };
  const jwks = { uri: jwksUri, timeoutDuration: 2000 };
  const app = new Hono();
  app.use('/protected', jwtAuth({ jwks, onEvent }));
  app.use('/forwarded', jwtAuth({ jwks, onEvent, forwardErrors: true }));
  app.get('/protected', (c) => c.json({ ok: true }));
  app.get('/forwarded', (c) => c.json({ ok: true }));
  app.onError((error, c) => {
    const err = error as Error & { code?: string };
    print({ authError: { code: String(err.code), cause: err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : String(err.cause) } });
    const { status, headers, body } = forwardedBody(error);
    return c.json(body, status as 500, headers);
  });
  return app.fetch;
}
