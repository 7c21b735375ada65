import { createServer } from 'node:http';
import {
  BODY_LIMIT,
  FORWARDED_HEADERS,
  admin,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
  isLoopback,
  loadConfigOrExit,
  notFound,
  readBody,
  serve,
  slow,
  type Answer,
  type Config,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes, type JwtAuthState } from '@jwtauth/koa';
import Koa, { type ParameterizedContext } from 'koa';

type Ctx = ParameterizedContext<JwtAuthState>;

/** Sets a shared answer as it is: an object body would be serialised by Koa with a charset. */
function send(ctx: Ctx, answer: Answer): void {
  ctx.status = answer.status;
  ctx.set(answer.headers);
  ctx.body = answer.body;
}

/** The example API of examples/README.md on Koa. */
export function createApp(config: Config): Koa<JwtAuthState> {
  const tokens = createTokenEndpoints(config);
  const authenticate = jwtAuth({ ...tokens.verifierOptions });
  const adminOnly = requireScopes('admin');
  // ctx.ip / ctx.protocol read X-Forwarded-* when app.proxy is set; the middleware below makes
  // sure such headers only ever come from a proxy on the loopback interface.
  const app = new Koa<JwtAuthState>({ proxy: config.trustProxy === 'loopback' });

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
  // parses and checks it, so every framework answers the same bytes.
  app.use(async (ctx, next) => {
    const endpoint = ctx.method === 'POST' ? tokens.routes.get(ctx.path) : undefined;
    if (endpoint === undefined) return next();
    const read = await readBody(ctx.req, BODY_LIMIT);
    if (!read.ok) return send(ctx, bodyTooLarge());
    const header = (name: string) => ctx.get(name) || undefined;
    send(ctx, await endpoint({ body: read.body, contentType: header('Content-Type'), contentEncoding: header('Content-Encoding'), cookie: header('Cookie') }));
  });

  app.use(async (ctx) => send(ctx, notFound()));

  return app;
}

const config = loadConfigOrExit();
serve(createServer(createApp(config).callback()), config);
