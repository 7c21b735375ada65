import { createAdaptorServer } from '@hono/node-server';
import {
  BODY_LIMIT,
  admin,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
  loadConfigOrExit,
  notFound,
  serve,
  slow,
  type Answer,
  type Config,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes, type JwtAuthEnv } from '@jwtauth/hono';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Server } from 'node:http';

/** Sends a shared answer as it is: `c.json()` would build the body itself. */
function send(c: Context, answer: Answer): Response {
  return c.body(answer.body, answer.status as 200, answer.headers);
}

/**
 * The example API of examples/README.md on Hono. Hono has no trust-proxy setting because it never
 * reads X-Forwarded-* itself, and nothing here does either: TRUST_PROXY has nothing to change.
 */
export function createApp(config: Config): Hono<JwtAuthEnv> {
  const tokens = createTokenEndpoints(config);
  const app = new Hono<JwtAuthEnv>();

  app.notFound((c) => send(c, notFound()));

  app.get('/healthz', (c) => send(c, healthz()));

  // The token endpoints are public: they read the raw body (at most 16 KiB), and the shared code
  // parses and checks it, so every framework answers the same bytes.
  const limit = bodyLimit({ maxSize: BODY_LIMIT, onError: (c) => send(c, bodyTooLarge()) });
  for (const [path, endpoint] of tokens.routes) {
    app.post(path, limit, async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const answer = await endpoint({
        body: body.length > 0 ? body : undefined,
        contentType: c.req.header('content-type'),
        contentEncoding: c.req.header('content-encoding'),
        cookie: c.req.header('cookie'),
      });
      return send(c, answer);
    });
  }

  // Per route rather than app.use('/api/*', …): an unknown /api path is a 404, as in the others.
  const authenticate = jwtAuth({ ...tokens.verifierOptions });

  // Behind jwtAuth (credentials required), c.get('auth') is always set.
  app.get('/api/hello', authenticate, (c) => send(c, hello(c.get('auth')!)));
  app.get('/api/admin', authenticate, requireScopes('admin'), (c) => send(c, admin(c.get('auth')!)));
  app.get('/api/slow', authenticate, async (c) => send(c, await slow(c.req.url)));

  return app;
}

const config = loadConfigOrExit();
serve(createAdaptorServer({ fetch: createApp(config).fetch }) as Server, config);
