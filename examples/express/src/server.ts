import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import {
  BODY_LIMIT,
  admin,
  answerClientError,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
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
import { jwtAuth, requireScopes } from '@jwtauth/express';
import express, { type Response } from 'express';
import { pino } from 'pino';

/** Writes a shared answer as it is: `res.json()` would add a charset and an ETag. */
function send(res: Response, answer: Answer): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

/** The example API of examples/README.md on Express. */
export function createApp(config: Config, logger: Logger, store: RevocationStore): express.Express {
  const tokens = createTokenEndpoints(config, store);
  const app = express();
  app.disable('x-powered-by');
  // Route like the other three frameworks: /API/hello and /api/hello/ are not /api/hello.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // req.ip / req.protocol believe X-Forwarded-* only from a proxy on 127.0.0.0/8 or ::1.
  app.set('trust proxy', config.trustProxy === 'loopback' ? 'loopback' : false);

  // Before any route: a malformed URL or Host header gets the same JSON answer on all four servers.
  app.use((req, res, next) => {
    const problem = requestProblem(req);
    if (problem === undefined) next();
    else send(res, problem);
  });

  // The browser login page (public/: index.html, app.js), under a CSP that runs no inline script.
  app.use(express.static(fileURLToPath(new URL('../public', import.meta.url)), {
    setHeaders: (res) => res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
  }));

  app.get('/healthz', (_req, res) => send(res, healthz()));

  // The token endpoints are public: they read the raw body (at most 16 KiB), and the shared code
  // parses and checks it, so every framework answers the same bytes. What the headers already
  // decide (a Content-Length over 16 KiB, a Content-Encoding, a type other than JSON) is answered
  // before reading. The body is read with the shared reader rather than express.raw(): body-parser
  // reads a body over its limit to the very end before it reports it, which lets a client stream
  // megabytes at the server; this reader stops at the limit and the 413 closes the connection.
  for (const [path, endpoint] of tokens.routes) {
    app.post(path, (req, res, next) => {
      const { 'content-length': contentLength, 'content-encoding': contentEncoding, 'content-type': contentType, cookie } = req.headers;
      const refused = refuseBeforeReading({ contentLength, contentEncoding, contentType });
      if (refused !== undefined) return send(res, refused);
      readBody(req, BODY_LIMIT)
        .then(async (read) => {
          if (!read.ok) {
            // A client that went away (or timed out) mid-body has no one left to answer.
            if (read.reason === 'too_large') send(res, bodyTooLarge());
            return;
          }
          send(res, await endpoint({ body: read.body, contentType, contentEncoding, cookie }));
        })
        .catch(next);
    });
  }

  // Per route rather than app.use('/api', …): an unknown /api path is a 404, as in the others.
  // Every refused request becomes one JSON log line (never the token).
  const authenticate = jwtAuth({ ...tokens.verifierOptions, onEvent: logAuthEvents(logger) });

  // Behind jwtAuth (credentials required), req.auth is always set.
  app.get('/api/hello', authenticate, (req, res) => send(res, hello(req.auth!)));
  app.get('/api/admin', authenticate, requireScopes('admin'), (req, res) => send(res, admin(req.auth!)));
  app.get('/api/slow', authenticate, (req, res, next) => {
    slow(req.originalUrl).then((answer) => send(res, answer), next);
  });

  app.use((_req, res) => send(res, notFound()));

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
  const server = createServer(serverOptions(config), createApp(config, logger, store.store));
  // Malformed HTTP, headers over the size limit and timeouts: JSON answers instead of Node's empty ones.
  server.on('clientError', answerClientError);
  serve(server, config, logger, store.close);
}
