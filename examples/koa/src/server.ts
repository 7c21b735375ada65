import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtAuth, requireScopes, type AuthInfo, type JwtAuthState } from '@jwtauth/koa';
import Koa from 'koa';
import { ConfigError, loadConfig, urlFor, type Config } from './config.js';

const isRead = (method: string) => method === 'GET' || method === 'HEAD';
const isApi = (path: string) => path === '/api' || path.startsWith('/api/');

/** The application: public `/healthz`, everything under `/api` behind a bearer token. */
export function createApp(secret: string): Koa<JwtAuthState> {
  const app = new Koa<JwtAuthState>();
  const authenticate = jwtAuth({ secret, algorithms: ['HS256'], requiredClaims: ['sub'] });
  const adminOnly = requireScopes('admin');

  app.use(async (ctx, next) => {
    if (isRead(ctx.method) && ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    await next();
  });

  // Only /api requires a token, so the routes above stay public.
  app.use(async (ctx, next) => (isApi(ctx.path) ? authenticate(ctx, next) : next()));

  // Behind jwtAuth (credentials required), ctx.state.auth is always set.
  app.use(async (ctx, next) => {
    if (isRead(ctx.method) && ctx.path === '/api/hello') {
      ctx.body = hello(ctx.state.auth!);
      return;
    }
    if (isRead(ctx.method) && ctx.path === '/api/admin') {
      await adminOnly(ctx, async () => {
        ctx.body = { message: `Welcome, admin ${ctx.state.auth!.payload.sub}.` };
      });
      return;
    }
    await next();
  });

  return app;
}

function hello(auth: AuthInfo) {
  const { sub } = auth.payload;
  return { message: `Hello, ${sub}!`, sub, scopes: auth.scopes };
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
}

const config = configOrExit();
const server = createServer(createApp(config.secret).callback());

server.on('error', (error) => {
  console.error(`error: cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});

server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on ${urlFor(config.host, port)}`);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close((error) => {
    if (error) console.error(`error: ${error.message}`);
    process.exit(error ? 1 : 0);
  });
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
