import cluster from 'node:cluster';
import { createServer } from 'node:http';
import {
  BODY_LIMIT,
  FORWARDED_HEADERS,
  admin,
  answerClientError,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
  isLoopback,
  loadConfigOrExit,
  logAuthEvents,
  notFound,
  openStore,
  readBody,
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
import { jwtAuth, requireScopes, type JwtAuthState } from '@jwtauth/koa';
import Koa, { type ParameterizedContext } from 'koa';
import { pino } from 'pino';

type Ctx = ParameterizedContext<JwtAuthState>;

/** Sets a shared answer as it is: an object body would be serialised by Koa with a charset. */
function send(ctx: Ctx, answer: Answer): void {
  ctx.status = answer.status;
  ctx.set(answer.headers);
  ctx.body = answer.body;
}

/** The example API of examples/README.md on Koa. */
export function createApp(config: Config, logger: Logger, store: RevocationStore): Koa<JwtAuthState> {
  const tokens = createTokenEndpoints(config, store);
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...tokens.verifierOptions, onEvent: logAuthEvents(logger) });
  const adminOnly = requireScopes('admin');
  // ctx.ip / ctx.protocol read X-Forwarded-* when app.proxy is set; the middleware below makes
  // sure such headers only ever come from a proxy on the loopback interface.
  const app = new Koa<JwtAuthState>({ proxy: config.trustProxy === 'loopback' });

  // Before anything else: a malformed URL or Host header gets the same JSON answer on all four servers.
  app.use(async (ctx, next) => {
    const problem = requestProblem(ctx.req);
    if (problem === undefined) await next();
    else send(ctx, problem);
  });

  app.use(async (ctx, next) => {
    if (!app.proxy || !isLoopback(ctx.req.socket.remoteAddress)) {
      for (const name of FORWARDED_HEADERS) delete ctx.req.headers[name];
    }
    await next();
  });

  /** GET routes (HEAD too), behind jwtAuth when `authenticated`; `ctx.state.auth` is then set. */
  const reads = new Map<string, { authenticated: boolean; handle: (ctx: Ctx) => Promise<void> }>([
    ['/healthz', { authenticated: false, handle: async (ctx) => send(ctx, healthz()) }],
    ['/api/hello', { authenticated: true, handle: async (ctx) => send(ctx, hello(ctx.state.auth!)) }],
    ['/api/admin', { authenticated: true, handle: (ctx) => adminOnly(ctx, async () => send(ctx, admin(ctx.state.auth!))) }],
    ['/api/slow', { authenticated: true, handle: async (ctx) => send(ctx, await slow(ctx.url)) }],
  ]);

  app.use(async (ctx, next) => {
    const read = ctx.method === 'GET' || ctx.method === 'HEAD' ? reads.get(ctx.path) : undefined;
    if (read === undefined) return next();
    if (read.authenticated) await authenticate(ctx, () => read.handle(ctx));
    else await read.handle(ctx);
  });

  // The token endpoints are public: they read the raw body (at most 16 KiB), and the shared code
  // parses and checks it, so every framework answers the same bytes. What the headers already
  // decide (a Content-Length over 16 KiB, a Content-Encoding, a type other than JSON) is answered
  // before reading.
  app.use(async (ctx, next) => {
    const endpoint = ctx.method === 'POST' ? tokens.routes.get(ctx.path) : undefined;
    if (endpoint === undefined) return next();
    const header = (name: string) => ctx.get(name) || undefined;
    const contentType = header('Content-Type');
    const contentEncoding = header('Content-Encoding');
    const refused = refuseBeforeReading({ contentLength: header('Content-Length'), contentEncoding, contentType });
    if (refused !== undefined) return send(ctx, refused);
    const read = await readBody(ctx.req, BODY_LIMIT);
    if (!read.ok) {
      // A client that went away (or timed out) mid-body has no one left to answer.
      if (read.reason === 'aborted') ctx.respond = false;
      else send(ctx, bodyTooLarge());
      return;
    }
    send(ctx, await endpoint({ body: read.body, contentType, contentEncoding, cookie: header('Cookie') }));
  });

  app.use(async (ctx) => send(ctx, notFound()));

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
  const server = createServer(serverOptions(config), createApp(config, logger, store.store).callback());
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, store.close);
}
