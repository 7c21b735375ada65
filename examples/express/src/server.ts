import { createServer } from 'node:http';
import {
  BODY_LIMIT,
  admin,
  bodyTooLarge,
  encodedBody,
  createTokenEndpoints,
  healthz,
  hello,
  loadConfigOrExit,
  notFound,
  serve,
  slow,
  type Answer,
  type Config,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes } from '@jwtauth/express';
import express, { type ErrorRequestHandler, type Response } from 'express';

/** Writes a shared answer as it is: `res.json()` would add a charset and an ETag. */
function send(res: Response, answer: Answer): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

/** The example API of examples/README.md on Express. */
export function createApp(config: Config): express.Express {
  const tokens = createTokenEndpoints(config);
  const app = express();
  app.disable('x-powered-by');
  // Route like the other three frameworks: /API/hello and /api/hello/ are not /api/hello.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // req.ip / req.protocol believe X-Forwarded-* only from a proxy on 127.0.0.0/8 or ::1.
  app.set('trust proxy', config.trustProxy === 'loopback' ? 'loopback' : false);

  app.get('/healthz', (_req, res) => send(res, healthz()));

  // The token endpoints are public: they read the raw body (any type, at most 16 KiB), and the
  // shared code parses and checks it, so every framework answers the same bytes.
  // inflate: false, as the others do not decompress either (body-parser then refuses encoded bodies).
  const rawBody = express.raw({ type: () => true, limit: BODY_LIMIT, inflate: false });
  for (const [path, endpoint] of tokens.routes) {
    app.post(path, rawBody, (req, res, next) => {
      const body: unknown = req.body;
      endpoint({
        body: Buffer.isBuffer(body) && body.length > 0 ? body : undefined,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        cookie: req.headers.cookie,
      }).then((answer) => send(res, answer), next);
    });
  }

  // Per route rather than app.use('/api', …): an unknown /api path is a 404, as in the others.
  const authenticate = jwtAuth({ ...tokens.verifierOptions });

  // Behind jwtAuth (credentials required), req.auth is always set.
  app.get('/api/hello', authenticate, (req, res) => send(res, hello(req.auth!)));
  app.get('/api/admin', authenticate, requireScopes('admin'), (req, res) => send(res, admin(req.auth!)));
  app.get('/api/slow', authenticate, (req, res, next) => {
    slow(req.originalUrl).then((answer) => send(res, answer), next);
  });

  app.use((_req, res) => send(res, notFound()));

  const bodyErrors: ErrorRequestHandler = (error: { type?: unknown }, _req, res, next) => {
    if (error.type === 'entity.too.large') send(res, bodyTooLarge());
    else if (error.type === 'encoding.unsupported') send(res, encodedBody());
    else next(error);
  };
  app.use(bodyErrors);

  return app;
}

const config = loadConfigOrExit();
serve(createServer(createApp(config)), config);
