import { jwtAuth, requireScopes, type AuthInfo } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, urlFor, type Config } from './config.js';

/** The application: public `/healthz`, everything under `/api` behind a bearer token. */
export function createApp(secret: string): FastifyInstance {
  const app = Fastify();

  app.get('/healthz', async () => ({ status: 'ok' }));

  // jwtAuth's onRequest hook only applies to the scope it is registered in: this child scope,
  // prefixed /api, so the routes above stay public.
  app.register(
    async (api) => {
      await api.register(jwtAuth, { secret, algorithms: ['HS256'], requiredClaims: ['sub'] });

      // Behind jwtAuth (credentials required), request.auth is always set.
      api.get('/hello', async (request) => hello(request.auth!));

      api.get('/admin', { preHandler: requireScopes('admin') }, async (request) => ({
        message: `Welcome, admin ${request.auth!.payload.sub}.`,
      }));
    },
    { prefix: '/api' },
  );

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
const app = createApp(config.secret);

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  console.error(`error: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  process.exit(1);
}
const { port } = app.server.address() as AddressInfo;
console.log(`listening on ${urlFor(config.host, port)}`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  app.close().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`error: ${error.message}`);
      process.exit(1);
    },
  );
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
