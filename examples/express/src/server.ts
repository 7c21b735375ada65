import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtAuth, requireScopes, type AuthInfo } from '@jwtauth/express';
import express from 'express';
import { ConfigError, loadConfig, urlFor, type Config } from './config.js';

/** The application: public `/healthz`, everything under `/api` behind a bearer token. */
export function createApp(secret: string): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Mounted on /api only, so the routes above stay public.
  app.use('/api', jwtAuth({ secret, algorithms: ['HS256'], requiredClaims: ['sub'] }));

  // Behind jwtAuth (credentials required), req.auth is always set.
  app.get('/api/hello', (req, res) => {
    res.json(hello(req.auth!));
  });

  app.get('/api/admin', requireScopes('admin'), (req, res) => {
    res.json({ message: `Welcome, admin ${req.auth!.payload.sub}.` });
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
const server = createServer(createApp(config.secret));

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
