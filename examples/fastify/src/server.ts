import cluster from 'node:cluster';
import {
  BODY_LIMIT,
  KEEP_ALIVE_TIMEOUT_MS,
  admin,
  answerClientError,
  badRequest,
  bodyTooLarge,
  createTokenEndpoints,
  healthz,
  hello,
  loadConfigOrExit,
  logAuthEvents,
  notFound,
  openStore,
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
import { jwtAuth, requireScopes } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { pino } from 'pino';

/** Sends a shared answer as it is: bytes, as Fastify would append a charset to a JSON string's Content-Type. */
function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
}

/** The example API of examples/README.md on Fastify. */
export function createApp(config: Config, logger: Logger, store: RevocationStore): FastifyInstance {
  const tokens = createTokenEndpoints(config, store);
  const app = Fastify({
    // request.ip / request.protocol believe X-Forwarded-* only from a proxy on 127.0.0.0/8 or ::1.
    trustProxy: config.trustProxy === 'loopback' ? 'loopback' : false,
    // The Node server's options (timeouts, connection checks, header size); Fastify then sets its
    // own requestTimeout (0: none) and keepAliveTimeout on the server, so give it the same values.
    http: serverOptions(config),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Malformed HTTP, headers over the size limit and timeouts: the examples' JSON, not Fastify's.
    clientErrorHandler: answerClientError,
    // A URL Fastify's router cannot decode (`GET /%`): the answer the other servers give it.
    frameworkErrors: (_error, request, reply) => {
      send(reply, requestProblem(request.raw) ?? badRequest('The request URL is malformed'));
    },
  });

  // Before routing goes on: a malformed URL or Host header gets the same JSON answer on all four servers.
  app.addHook('onRequest', async (request, reply) => {
    const problem = requestProblem(request.raw);
    if (problem !== undefined) return send(reply, problem);
  });

  app.setNotFoundHandler((_request, reply) => send(reply, notFound()));
  app.setErrorHandler((error: { code?: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, bodyTooLarge());
    // A Content-Type Fastify cannot parse, on a path no route serves (the token endpoints refuse
    // it before Fastify looks at it): the 404 the other servers answer.
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && request.is404) return send(reply, notFound());
    return reply.send(error);
  });
  // No body is parsed outside the token endpoints (a 404 stays a 404 whatever the body).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.get('/healthz', (_request, reply) => send(reply, healthz()));

  // The token endpoints are public: they take the raw body (any type, at most 16 KiB), and the
  // shared code parses and checks it, so every framework answers the same bytes.
  app.register(async (scope) => {
    // What the headers already decide (a Content-Length over 16 KiB, a Content-Encoding, a type
    // other than JSON, including one Fastify cannot parse) is answered before the body is read.
    scope.addHook('onRequest', async (request, reply) => {
      const { 'content-length': contentLength, 'content-encoding': contentEncoding, 'content-type': contentType } = request.headers;
      const refused = refuseBeforeReading({ contentLength, contentEncoding, contentType });
      if (refused !== undefined) return send(reply, refused);
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
    for (const [path, endpoint] of tokens.routes) {
      scope.post(path, async (request, reply) => {
        const body = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : undefined;
        const { 'content-type': contentType, 'content-encoding': contentEncoding, cookie } = request.headers;
        return send(reply, await endpoint({ body, contentType, contentEncoding, cookie }));
      });
    }
  });

  // jwtAuth's onRequest hook only applies to the scope it is registered in: this one.
  app.register(async (api) => {
    // Every refused request becomes one JSON log line (never the token).
    await api.register(jwtAuth, { ...tokens.verifierOptions, onEvent: logAuthEvents(logger) });

    // Behind jwtAuth (credentials required), request.auth is always set.
    api.get('/api/hello', (request, reply) => send(reply, hello(request.auth!)));
    api.get('/api/admin', { preHandler: requireScopes('admin') }, (request, reply) => send(reply, admin(request.auth!)));
    api.get('/api/slow', async (request, reply) => send(reply, await slow(request.url)));
  });

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
  const app = createApp(config, logger, store.store);
  await app.ready();
  serve(app.server, config, logger, store.close);
}
