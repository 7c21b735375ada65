import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import {
  answerClientError,
  isDraining,
  loadConfigOrExit,
  logAuthEvents,
  orExit,
  requestProblem,
  serve,
  serverOptions,
  type Logger,
} from '@jwtauth/example-shared';
import { isAuthError, jwtAuth, requireScopes, type JwtAuthEnv } from '@jwtauth/hono';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { pino } from 'pino';
import { loadApiServiceSettings, type ApiServiceSettings } from './settings.js';

/**
 * The API service: it issues nothing and holds no key. It verifies the auth service's access
 * tokens with the keys that service publishes, found through its RFC 8414 metadata
 * (`discovery`), fetched once and again only when a token names a key it has not seen (a rotation).
 */
export function createApiService(settings: ApiServiceSettings, logger: Logger): Hono<JwtAuthEnv> {
  const app = new Hono<JwtAuthEnv>();
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'There is nothing at this address', code: 'not_found' }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException || isAuthError(error)) return error.getResponse();
    logger.error({ type: 'error', err: error }, 'request failed');
    return c.json({ error: 'server_error', error_description: 'The server could not answer this request', code: 'internal_error' }, 500);
  });

  app.get('/healthz', (c) => (isDraining() ? c.json({ status: 'draining' }, 503, { 'Retry-After': '1' }) : c.json({ status: 'ok' })));

  const authenticate = jwtAuth({
    issuer: settings.authIssuer,
    discovery: true,
    audience: settings.audience,
    // Access tokens only (RFC 9068): the auth service's refresh tokens are signed with the same key.
    typ: 'at+jwt',
    onEvent: logAuthEvents(logger),
  });
  app.get('/api/hello', authenticate, (c) => {
    const { payload, scopes } = c.get('auth')!;
    return c.json({ message: `Hello, ${payload.sub}!`, sub: payload.sub, scopes });
  });
  app.get('/api/admin', authenticate, requireScopes('admin'), (c) => c.json({ message: `Welcome, admin ${c.get('auth')!.payload.sub}.` }));
  return app;
}

const config = loadConfigOrExit({ secret: false });
const logger = pino({ level: config.logLevel });
const settings = orExit(() => loadApiServiceSettings());
const listener = getRequestListener(createApiService(settings, logger).fetch, { hostname: 'localhost' });
const server = createServer(serverOptions(config), (request, response) => {
  // A missing or doubled Host, an odd request target: JSON 400s before Hono's adapter sees them.
  const problem = requestProblem(request);
  if (problem === undefined) void listener(request, response);
  else response.writeHead(problem.status, problem.headers).end(problem.body);
});
server.on('clientError', answerClientError);
serve(server, config, logger);
