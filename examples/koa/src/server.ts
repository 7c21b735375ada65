import cluster from 'node:cluster';
import { createServer } from 'node:http';
import {
  FORWARDED_HEADERS,
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
import { jwtAuth, requireScopes, tokenRoutes, type JwtAuthState } from '@jwtauth/koa';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { HttpError, type Context } from 'koa';
import { pino } from 'pino';

/** The largest request body read, in bytes: a token request is a few hundred. */
const BODY_LIMIT = 16 * 1024;
/** The longest `GET /api/slow?ms=N` waits, in milliseconds. */
const SLOW_MAX_MS = 10_000;

/** Sets the JSON error shape of examples/README.md: `{"error","error_description","code"}`. */
function fail(ctx: Context, status: number, error: string, code: string, description: string, headers: Record<string, string> = {}): void {
  ctx.status = status;
  // Set first, or Koa adds `; charset=utf-8`, which JSON does not define (RFC 8259 §11): the same
  // type as jwtAuth's, the token endpoints' and nginx's own error answers.
  ctx.set({ 'Content-Type': 'application/json', ...headers });
  ctx.body = { error, error_description: description, code };
}

/** The example API of examples/README.md on Koa. */
export function createApp(config: Config, logger: Logger, opened: OpenedStore): Koa<JwtAuthState> {
  const { issuer, endpoints } = createExampleAuth<Context>(config, opened.store, opened.redis);
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...issuer.verifierOptions, onEvent: logAuthEvents(logger) });

  // ctx.ip is then the right-most X-Forwarded-For entry, the address nginx saw (the per-address
  // login limit counts it): the entries left of it are whatever the client sent.
  const app = new Koa<JwtAuthState>({ proxy: config.trustProxy === 'loopback', maxIpsCount: 1 });
  app.on('error', (err: unknown) => logger.error({ type: 'error', err }, 'request failed'));

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) {
        // Closed even when the body did arrive whole (a small gzip body that inflates past the limit).
        const headers = { 'Cache-Control': 'no-store', Connection: 'close' };
        fail(ctx, 413, 'invalid_request', 'body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`, headers);
      } else if (err instanceof HttpError && err.status === 404) {
        fail(ctx, 404, 'not_found', 'not_found', 'There is nothing at this address');
      } else {
        // A bug or a failing dependency, never the client's input: logged, and no detail leaves.
        ctx.app.emit('error', err, ctx);
        fail(ctx, 500, 'server_error', 'internal_error', 'The server could not answer this request');
      }
    }
    // A body left unread (refused for its size or type, or sent where none is taken): close the
    // connection, or Node would read the rest to reuse it, for as long as the client sends it.
    if (!ctx.req.complete) ctx.set('Connection', 'close');
  });

  // Koa routes on the path as sent and believes any Host: a malformed URL or Host header, and a
  // path that only decoding would make a route, get the same answer on all four example servers.
  app.use(async (ctx, next) => {
    const problem = requestProblem(ctx.req);
    if (problem === undefined) {
      await next();
      return;
    }
    ctx.status = problem.status;
    ctx.set(problem.headers);
    ctx.body = problem.body;
  });

  // app.proxy trusts X-Forwarded-* from any peer: let them through only from nginx on this host.
  app.use(async (ctx, next) => {
    if (!app.proxy || !isLoopback(ctx.req.socket.remoteAddress)) {
      for (const name of FORWARDED_HEADERS) delete ctx.req.headers[name];
    }
    await next();
  });

  // Size first: a declared body over the limit is refused before a byte of it is read, whatever
  // its type. (Content-Length is compared as a number: Koa's ctx.request.length wraps at 2^32.)
  app.use(async (ctx, next) => {
    if (Number(ctx.get('Content-Length')) > BODY_LIMIT) ctx.throw(413);
    await next();
  });

  // Bodies are read for the token endpoints only (no other route takes one), and only JSON: a
  // cross-site form cannot send it without a CORS preflight, which is what keeps the refresh
  // cookie CSRF-safe. Any other body (a form, text, none) stays unread, and null for the
  // endpoints, which answer it 400 invalid_json, as they answer JSON that does not parse.
  const parseJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: BODY_LIMIT,
    // Not strict: an empty body parses to '', refused as invalid_json; strict mode makes it {},
    // which would be refused as a login without a username (missing_field).
    jsonStrict: false,
    onError(error, ctx) {
      if (error instanceof HttpError && error.status === 413) throw error;
      ctx.request.body = null;
    },
  });
  app.use((ctx, next) => {
    if (!ctx.path.startsWith(`${TOKEN_PATH}/token`)) return next();
    if (ctx.is('application/json')) return parseJson(ctx, next);
    ctx.request.body = null;
    return next();
  });

  // POST /api/token, /api/token/refresh, /api/token/verify, /api/token/revoke.
  app.use(tokenRoutes(endpoints, { prefix: TOKEN_PATH }));

  // Exact paths: /API/hello and /api/hello/ are not /api/hello. GET routes answer HEAD too.
  const router = new Router<JwtAuthState>({ sensitive: true, strict: true });
  router.get('/healthz', (ctx) => {
    // 503 once SIGTERM came, so a load balancer that checks it sends requests elsewhere.
    if (isDraining()) {
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.body = { status: 'draining' };
    } else {
      ctx.body = { status: 'ok' };
    }
  });
  router.get('/api/hello', authenticate, (ctx) => {
    const { payload, scopes } = ctx.state.auth!;
    ctx.body = { message: `Hello, ${payload.sub}!`, sub: payload.sub, scopes };
  });
  router.get('/api/admin', authenticate, requireScopes('admin'), (ctx) => {
    ctx.body = { message: `Welcome, admin ${ctx.state.auth!.payload.sub}.` };
  });
  router.get('/api/slow', authenticate, async (ctx) => {
    const { ms } = ctx.query;
    const waited = typeof ms === 'string' && /^\d+$/.test(ms) ? Math.min(Number(ms), SLOW_MAX_MS) : 0;
    await new Promise((resolve) => setTimeout(resolve, waited));
    ctx.body = { waited };
  });
  app.use(router.routes());

  // Whatever no route answered, other methods included (404, not 405: nothing is there to list).
  app.use((ctx) => ctx.throw(404));

  return app;
}

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel });
if (config.workers > 1 && cluster.isPrimary) {
  // WORKERS=N: this process forks N workers that run the branch below and share its port.
  superviseWorkers(config, logger);
} else {
  // Redis when REDIS_URL is set (shared by every process, login throttling included), else this process's memory.
  const opened = await openStore(config, logger);
  // Koa's callback catches its own errors (ctx.onerror answers them); Node ignores the listener's promise.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const server = createServer(serverOptions(config), createApp(config, logger, opened).callback());
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, opened.close);
}
