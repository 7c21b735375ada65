import { getRequestListener } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  TOKEN_PATH,
  answerClientError,
  createExampleAuth,
  isDraining,
  isLoopback,
  loadConfigOrExit,
  logAuthEvents,
  openStore,
  requestProblem,
  serve,
  serverOptions,
  superviseWorkers,
  type Config,
  type Logger,
  type OpenedStore,
} from '@jwtauth/example-shared';
import { isAuthError, jwtAuth, requireScopes, tokenApp, type JwtAuthEnv } from '@jwtauth/hono';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { pino } from 'pino';

/** The largest token-endpoint body, in bytes. */
const BODY_LIMIT = 16 * 1024;
/** The longest `/api/slow` waits, in milliseconds. */
const SLOW_MAX_MS = 10_000;

/** An error in the API's JSON shape, `{"error","error_description","code"}` (examples/README.md). */
function problem(c: Context, status: ContentfulStatusCode, error: string, code: string, description: string, headers?: Record<string, string>) {
  return c.json({ error, error_description: description, code }, status, headers);
}

// Token-endpoint answers must not be cached (RFC 6749 §5.1). `Connection: close` where the body is
// refused unread: Node would otherwise read the rest of it, for as long as the client sends it.
const REFUSED_UNREAD = { 'Cache-Control': 'no-store', Connection: 'close' };
const tooLarge = (c: Context) => problem(c, 413, 'invalid_request', 'body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`, REFUSED_UNREAD);
const notFound = (c: Context) => problem(c, 404, 'not_found', 'not_found', 'There is nothing at this address');

/**
 * The client address the login throttle counts. Hono never reads `X-Forwarded-For` itself, so this
 * does what Express's `trust proxy: 'loopback'` does: from a loopback peer (nginx), it believes the
 * header hop by hop from the right, and stops at the first address that is not a loopback proxy.
 */
function clientAddress(c: Context, trustProxy: Config['trustProxy']): string | undefined {
  let address = getConnInfo(c).remote.address;
  const hops = trustProxy === 'loopback' ? (c.req.header('x-forwarded-for')?.split(',') ?? []) : [];
  while (isLoopback(address) && hops.length > 0) address = hops.pop()!.trim();
  return address;
}

/** The example API of examples/README.md on Hono. */
export function createApp(config: Config, logger: Logger, opened: OpenedStore): Hono<JwtAuthEnv> {
  const { issuer, endpoints } = createExampleAuth<Context>(config, opened.store, opened.redis);
  const app = new Hono<JwtAuthEnv>();

  app.notFound(notFound);
  app.onError((error, c) => {
    // A client that went away mid-body (Node's `aborted` ECONNRESET): there is no one to answer.
    if ((error as { code?: unknown }).code === 'ECONNRESET') return c.body(null, 400);
    // A ready answer (an HTTPException, or an AuthError when errors are forwarded) is sent as it is.
    if (error instanceof HTTPException || isAuthError(error)) return error.getResponse();
    logger.error({ type: 'error', err: error }, 'request failed');
    return problem(c, 500, 'server_error', 'internal_error', 'The server could not answer this request');
  });

  app.get('/healthz', (c) => (isDraining() ? c.json({ status: 'draining' }, 503, { 'Retry-After': '1' }) : c.json({ status: 'ok' })));

  // The token endpoints take JSON only: a form of another site cannot send it without a CORS
  // preflight, which is what keeps the refresh cookie safe from CSRF. What the headers decide is
  // answered before the body is read (a declared size first); bodyLimit then counts a streamed one.
  app.post(
    `${TOKEN_PATH}/token/*`,
    async (c, next) => {
      if (Number(c.req.header('content-length')) > BODY_LIMIT) return tooLarge(c);
      if ((c.req.header('content-encoding') ?? 'identity').trim().toLowerCase() !== 'identity') {
        return problem(c, 400, 'invalid_request', 'invalid_json', 'The request body must be plain JSON, without a Content-Encoding', REFUSED_UNREAD);
      }
      if (c.req.header('content-type')?.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
        return problem(c, 400, 'invalid_request', 'invalid_json', 'The request body must be a JSON object or a urlencoded form', REFUSED_UNREAD);
      }
      await next();
    },
    bodyLimit({ maxSize: BODY_LIMIT, onError: tooLarge }),
  );
  // POST /api/token, /api/token/refresh, /api/token/verify and /api/token/revoke.
  app.route(TOKEN_PATH, tokenApp(endpoints, { address: (c) => clientAddress(c, config.trustProxy) }));

  // Per route rather than app.use('/api/*', …), so that an unknown /api path is a 404, not a 401.
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...issuer.verifierOptions, onEvent: logAuthEvents(logger) });

  // Behind jwtAuth (credentials required), c.get('auth') is always set.
  app.get('/api/hello', authenticate, (c) => {
    const { payload, scopes } = c.get('auth')!;
    return c.json({ message: `Hello, ${payload.sub}!`, sub: payload.sub, scopes });
  });
  app.get('/api/admin', authenticate, requireScopes('admin'), (c) => c.json({ message: `Welcome, admin ${c.get('auth')!.payload.sub}.` }));
  app.get('/api/slow', authenticate, async (c) => {
    const ms = c.req.query('ms') ?? '';
    const waited = /^\d+$/.test(ms) ? Math.min(Number(ms), SLOW_MAX_MS) : 0;
    await new Promise((resolve) => setTimeout(resolve, waited));
    return c.json({ waited });
  });

  return app;
}

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel });
if (config.workers > 1 && cluster.isPrimary) {
  // WORKERS=N: this process forks N workers that run the branch below and share its port.
  superviseWorkers(config, logger);
} else {
  // Redis when REDIS_URL is set (shared by every process), else this process's memory.
  const opened = await openStore(config, logger);
  const listener = getRequestListener(createApp(config, logger, opened).fetch, {
    // The URL of an HTTP/1.0 request without a Host header.
    hostname: 'localhost',
    // A request the adapter cannot turn into a Request (requestProblem() below refuses those it knows).
    errorHandler: () => Response.json({ error: 'invalid_request', error_description: 'The request is malformed', code: 'bad_request' }, { status: 400 }),
  });
  const server = createServer(serverOptions(config), (request, response) => {
    // In front of the adapter, which answers an odd Host or request target with an empty 400, and
    // resolves `/./`, `/../` and `%68` before Hono routes the path: JSON 400s and 404s instead.
    const problem = requestProblem(request);
    if (problem === undefined) void listener(request, response);
    else response.writeHead(problem.status, problem.headers).end(problem.body);
  });
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, opened.close);
}
