import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  TOKEN_PATH,
  answerClientError,
  createExampleAuth,
  isDraining,
  loadConfigOrExit,
  logAuthEvents,
  openStore,
  requestProblem,
  serve,
  serverOptions,
  superviseWorkers,
  type Config,
  type OpenedStore,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes, tokenRouter } from '@jwtauth/express';
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { pino, type Logger } from 'pino';

/** The largest request body the token endpoints read: 16 KiB. */
const BODY_LIMIT = 16 * 1024;
/** The longest `/api/slow` waits, in milliseconds. */
const SLOW_MAX_MS = 10_000;

/** An error in the JSON shape of examples/README.md. */
function errorBody(error: string, code: string, description: string) {
  return { error, error_description: description, code };
}

/** 413 for a token-endpoint body over the limit; the rest of it is never read, so the connection closes. */
function bodyTooLarge(res: Response): void {
  res
    .status(413)
    .set({ 'Cache-Control': 'no-store', Connection: 'close' })
    .json(errorBody('invalid_request', 'body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`));
}

const parseJson = express.json({ limit: BODY_LIMIT });

/**
 * express.json() for the token endpoints, with what a public endpoint needs on top. body-parser
 * reads a body it refuses to the very end before it reports it (so that the connection can be
 * reused), which lets a client stream megabytes, or a body that never ends, at the server. So a
 * body declared or arriving over 16 KiB is answered 413 at once, and a body that is not a
 * UTF-8 JSON document (another type, a Content-Encoding) is not read at all: the endpoints answer
 * it 400 invalid_json, and the connection closes instead of waiting for the rest of it.
 */
const readJsonBody: RequestHandler = (req, res, next) => {
  const length = req.headers['content-length'];
  if (Number(length) > BODY_LIMIT) return bodyTooLarge(res);
  const encoded = (req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
  // body-parser would read an empty body as {}: left unparsed, it is "not a JSON object" as in the other examples.
  if (length !== '0' && !encoded && req.is('application/json')) {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > BODY_LIMIT && !res.headersSent) bodyTooLarge(res);
    });
    return parseJson(req, res, next);
  }
  if (req.headers['transfer-encoding'] !== undefined || Number(length) > 0) res.set('Connection', 'close');
  next();
};

/** The example API of examples/README.md on Express. */
export function createApp(config: Config, logger: Logger, opened: OpenedStore): express.Express {
  const { issuer, endpoints } = createExampleAuth<express.Request>(config, opened.store, opened.redis);
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...issuer.verifierOptions, onEvent: logAuthEvents(logger) });

  const app = express();
  app.disable('x-powered-by');
  // Like the other three examples: /API/hello and /api/hello/ are not /api/hello.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // req.ip (the address the login throttle counts) believes X-Forwarded-For only from a proxy on
  // 127.0.0.0/8 or ::1, such as the nginx of examples/nginx.
  app.set('trust proxy', config.trustProxy === 'loopback' ? 'loopback' : false);

  // Express routes what Node hands it: a request without a Host (which RFC 9112 §3.2 says to refuse
  // with 400), with two, or with a malformed URL would reach the routes or their 404.
  app.use((req, res, next) => {
    const problem = requestProblem(req);
    if (problem === undefined) return next();
    res.status(problem.status).set(problem.headers).send(problem.body);
  });

  // The browser login page (public/: index.html, app.js), under a CSP that runs no inline script.
  app.use(
    express.static(fileURLToPath(new URL('../public', import.meta.url)), {
      setHeaders: (res) =>
        res.setHeader(
          'Content-Security-Policy',
          "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    }),
  );

  app.get('/healthz', (_req, res) => {
    // 503 while draining: a load balancer checking it stops sending requests here.
    if (isDraining()) res.status(503).set('Retry-After', '1').json({ status: 'draining' });
    else res.json({ status: 'ok' });
  });

  // POST /api/token, /api/token/refresh, /api/token/verify and /api/token/revoke. Bodies are parsed
  // where they are read, so a bad body sent to an unknown path is still a 404.
  app.use(`${TOKEN_PATH}/token`, readJsonBody);
  app.use(TOKEN_PATH, tokenRouter(endpoints));

  // Per route rather than app.use('/api', authenticate): an unknown /api path is a 404, not a 401.
  // Behind jwtAuth (credentials required), req.auth is always set.
  app.get('/api/hello', authenticate, (req, res) => {
    const { payload, scopes } = req.auth!;
    res.json({ message: `Hello, ${payload.sub}!`, sub: payload.sub, scopes });
  });
  app.get('/api/admin', authenticate, requireScopes('admin'), (req, res) => {
    res.json({ message: `Welcome, admin ${req.auth!.payload.sub}.` });
  });
  // Waits ?ms=N milliseconds (to watch graceful shutdown at work).
  app.get('/api/slow', authenticate, async (req, res) => {
    const { ms } = req.query;
    const waited = typeof ms === 'string' && /^\d+$/.test(ms) ? Math.min(Number(ms), SLOW_MAX_MS) : 0;
    await sleep(waited);
    res.json({ waited });
  });

  app.use((_req, res) => {
    res.status(404).json(errorBody('not_found', 'not_found', 'There is nothing at this address'));
  });

  // Express's own handler answers HTML, with the stack outside production.
  const onError: ErrorRequestHandler = (error: { type?: unknown; status?: unknown }, req, res, _next) => {
    // The 413 of readJsonBody went out while body-parser still read; it reports the same body once the connection is gone.
    if (res.headersSent) return;
    // body-parser's other refusals (a charset other than UTF-8, a body cut short): a body the endpoints cannot read.
    if (typeof error.type === 'string' && typeof error.status === 'number' && error.status < 500) {
      if (error.status === 413) return bodyTooLarge(res);
      res
        .status(400)
        .set('Cache-Control', 'no-store')
        .json(errorBody('invalid_request', 'invalid_json', 'The request body must be a JSON object in UTF-8'));
      return;
    }
    logger.error({ type: 'request.failed', err: error, method: req.method, path: req.path }, 'request failed');
    res.status(500).json(errorBody('server_error', 'internal_error', 'The server could not answer this request'));
  };
  app.use(onError);

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
  const server = createServer(serverOptions(config), createApp(config, logger, opened));
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, opened.close);
}
