import { createAdaptorServer } from '@hono/node-server';
import { jwtAuth, requireScopes, type AuthInfo, type JwtAuthEnv } from '@jwtauth/hono';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, urlFor, type Config } from './config.js';

/** The application: public `/healthz`, everything under `/api` behind a bearer token. */
export function createApp(secret: string): Hono<JwtAuthEnv> {
  const app = new Hono<JwtAuthEnv>();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Mounted on /api/* only, so the routes above stay public.
  app.use('/api/*', jwtAuth({ secret, algorithms: ['HS256'], requiredClaims: ['sub'] }));

  // Behind jwtAuth (credentials required), c.get('auth') is always set.
  app.get('/api/hello', (c) => c.json(hello(c.get('auth')!)));

  app.get('/api/admin', requireScopes('admin'), (c) =>
    c.json({ message: `Welcome, admin ${c.get('auth')!.payload.sub}.` }),
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
const server = createAdaptorServer({ fetch: createApp(config.secret).fetch });

server.on('error', (error: Error) => {
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
