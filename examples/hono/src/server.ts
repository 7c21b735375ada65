import { getRequestListener } from '@hono/node-server';
import {
  BODY_LIMIT,
  admin,
  answerClientError,
  badRequest,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
  loadConfigOrExit,
  logAuthEvents,
  notFound,
  openStore,
  refuseBeforeReading,
  requestProblem,
  serve,
  serverOptions,
  slow,
  superviseWorkers,
  type Answer,
  type Config,
  type Logger,
  type RevocationStore,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes, type JwtAuthEnv } from '@jwtauth/hono';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HTTPException } from 'hono/http-exception';
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { pino } from 'pino';

/** Sends a shared answer as it is: `c.json()` would build the body itself. */
function send(c: Context, answer: Answer): Response {
  return c.body(answer.body, answer.status as 200, answer.headers);
}

/**
 * The example API of examples/README.md on Hono. Hono has no trust-proxy setting because it never
 * reads X-Forwarded-* itself, and nothing here does either: TRUST_PROXY has nothing to change.
 */
export function createApp(config: Config, logger: Logger, store: RevocationStore): Hono<JwtAuthEnv> {
  const tokens = createTokenEndpoints(config, store);
  const app = new Hono<JwtAuthEnv>();

  app.notFound((c) => send(c, notFound()));
  app.onError((error, c) => {
    // A client that went away (or timed out) mid-body: Node reports an `aborted` ECONNRESET error,
    // and there is no one left to answer. Everything else as Hono's default handler does it
    // (an error with a ready response, such as an HTTPException or a forwarded AuthError, sends it).
    if ((error as { code?: unknown }).code === 'ECONNRESET') return c.body(null, 400);
    if ('getResponse' in error && typeof error.getResponse === 'function') {
      const response = (error as HTTPException).getResponse();
      return c.newResponse(response.body, response);
    }
    console.error(error);
    return c.text('Internal Server Error', 500);
  });

  app.get('/healthz', (c) => send(c, healthz()));

  // The token endpoints are public: they read the raw body (at most 16 KiB), and the shared code
  // parses and checks it, so every framework answers the same bytes. What the headers already
  // decide (a Content-Length over 16 KiB, a Content-Encoding, a type other than JSON) is answered
  // before the body is read.
  const checkHeaders: MiddlewareHandler = async (c, next) => {
    const refused = refuseBeforeReading({
      contentLength: c.req.header('content-length'),
      contentEncoding: c.req.header('content-encoding'),
      contentType: c.req.header('content-type'),
    });
    if (refused !== undefined) return send(c, refused);
    await next();
  };
  const limit = bodyLimit({ maxSize: BODY_LIMIT, onError: (c) => send(c, bodyTooLarge()) });
  for (const [path, endpoint] of tokens.routes) {
    app.post(path, checkHeaders, limit, async (c) => {
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
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...tokens.verifierOptions, onEvent: logAuthEvents(logger) });

  // Behind jwtAuth (credentials required), c.get('auth') is always set.
  app.get('/api/hello', authenticate, (c) => send(c, hello(c.get('auth')!)));
  app.get('/api/admin', authenticate, requireScopes('admin'), (c) => send(c, admin(c.get('auth')!)));
  app.get('/api/slow', authenticate, async (c) => send(c, await slow(c.req.url)));

  return app;
}

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel });
if (config.workers > 1 && cluster.isPrimary) {
  // WORKERS=N: this process forks N workers that run the branch below and share its port.
  superviseWorkers(config, logger);
} else {
  // Redis when REDIS_URL is set (shared by every process), else this process's memory.
  const store = await openStore(config, logger);
  const listener = getRequestListener(createApp(config, logger, store.store).fetch, {
    // The URL of an HTTP/1.0 request without a Host header.
    hostname: 'localhost',
    // A request the adapter cannot turn into a Request (requestProblem() below refuses those it knows).
    errorHandler: () => toResponse(badRequest()),
  });
  const server = createServer(serverOptions(config), (request, response) => {
    // In front of the adapter, which refuses an odd Host or request target itself with an empty 400,
    // and resolves `/./` and `/../` before Hono sees the path: the answer the other servers give.
    const problem = requestProblem(request);
    if (problem === undefined) void listener(request, response);
    else response.writeHead(problem.status, problem.headers).end(problem.body);
  });
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, store.close);
}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
