import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KEEP_ALIVE_TIMEOUT_MS,
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
  type Logger,
  type OpenedStore,
} from '@jwtauth/example-shared';
import { jwtAuth, requireScopes, tokenEndpoints } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino } from 'pino';

/** The largest request body, in bytes: the token endpoints' JSON is far smaller. */
const BODY_LIMIT = 16 * 1024;
/** The longest `/api/slow` waits, in milliseconds. */
const SLOW_MAX_MS = 10_000;

/** Sends an error in the examples' JSON shape, `{"error","error_description","code"}`. */
function fail(reply: FastifyReply, status: number, error: string, code: string, description: string): FastifyReply {
  return reply.code(status).send({ error, error_description: description, code });
}

/** The example API of examples/README.md on Fastify. */
export function createApp(config: Config, logger: Logger, opened: OpenedStore): FastifyInstance {
  const { issuer, endpoints } = createExampleAuth<FastifyRequest>(config, opened.store, opened.redis);
  const app = Fastify({
    // request.ip, which the login throttle counts, believes X-Forwarded-For only from a proxy on
    // 127.0.0.0/8 or ::1 (nginx on the same host).
    trustProxy: config.trustProxy === 'loopback' ? 'loopback' : false,
    // Over 16 KiB, declared or counted as it arrives: FST_ERR_CTP_BODY_TOO_LARGE (413), which
    // tokenEndpoints leaves to the error handler below.
    bodyLimit: BODY_LIMIT,
    // The Node server's timeouts, connection checks and head size; Fastify then sets its own
    // requestTimeout (0: none) and keepAliveTimeout on the server, so give it the same values.
    http: serverOptions(config),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Malformed HTTP, a head over the size limit, a client too slow: JSON, not an empty answer.
    clientErrorHandler: answerClientError,
    // A URL the router cannot decode (`GET /%`): Fastify's default answer repeats it.
    frameworkErrors: (_error, _request, reply) => {
      // The answer is sent; nothing waits on the reply (a FastifyReply is thenable).
      void fail(reply, 400, 'invalid_request', 'bad_request', 'The request URL is malformed');
    },
  });

  const notFound = (reply: FastifyReply) => fail(reply, 404, 'not_found', 'not_found', 'There is nothing at this address');
  app.setNotFoundHandler((_request, reply) => notFound(reply));
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    // A body Fastify cannot parse (`Content-Type: json`) on a path no route serves: still a 404.
    if (request.is404) return notFound(reply);
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return fail(reply.header('Cache-Control', 'no-store'), 413, 'invalid_request', 'body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`);
    }
    // Fixed texts: Fastify's own messages may repeat the request.
    if (status < 500) return fail(reply, status, 'invalid_request', 'bad_request', 'The request is malformed');
    logger.error({ type: 'error', err: error }, 'request failed');
    return fail(reply, 500, 'server_error', 'internal_error', 'The server could not answer this request');
  });

  // What Fastify lets through but RFC 9112 §3.2 refuses (no Host, two, or a malformed one), and
  // paths Fastify decodes where the other examples do not (`/api/%68ello` is not `/api/hello`).
  app.addHook('onRequest', async (request, reply) => {
    const problem = requestProblem(request.raw);
    if (problem !== undefined) return reply.code(problem.status).headers(problem.headers).send(problem.body);
  });

  // The API takes JSON only: without a text/plain parser such a body is refused before it is read.
  app.removeContentTypeParser('text/plain');
  // A declared body over 16 KiB is 413 whatever its type, as in the other examples: Fastify's
  // bodyLimit applies only to the types it parses (the chunked ones it counts as they arrive).
  app.addHook('onRequest', async (request) => {
    if (Number(request.headers['content-length']) > BODY_LIMIT) {
      throw Object.assign(new Error(`The request body is larger than ${BODY_LIMIT} bytes`), { statusCode: 413 });
    }
  });
  // An answer sent before the request body arrived in full (refused by its headers, or too large)
  // closes the connection: Node would otherwise read the rest, and throw it away, to reuse it.
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('Connection', 'close');
  });
  app.get('/healthz', async (_request, reply) => {
    // 503 while draining, so that a load balancer stops sending requests here.
    if (isDraining()) return reply.code(503).header('Retry-After', '1').send({ status: 'draining' });
    return { status: 'ok' };
  });

  // POST /api/token, /api/token/refresh, /api/token/verify, /api/token/revoke: public.
  app.register(tokenEndpoints, { endpoints, prefix: TOKEN_PATH });

  // jwtAuth's onRequest hook applies to the scope it is registered in: this one.
  app.register(async (api) => {
    // Every refused request becomes one JSON log line (never the token).
    await api.register(jwtAuth, { ...issuer.verifierOptions, onEvent: logAuthEvents(logger) });

    // Behind jwtAuth (credentials required), request.auth is always set.
    api.get('/api/hello', async (request) => {
      const { payload, scopes } = request.auth!;
      return { message: `Hello, ${payload.sub}!`, sub: payload.sub, scopes };
    });
    api.get('/api/admin', { preHandler: requireScopes('admin') }, async (request) => ({ message: `Welcome, admin ${request.auth!.payload.sub}.` }));
    api.get<{ Querystring: { ms?: unknown } }>('/api/slow', async (request) => {
      const { ms } = request.query;
      const waited = typeof ms === 'string' && /^\d+$/.test(ms) ? Math.min(Number(ms), SLOW_MAX_MS) : 0;
      await sleep(waited);
      return { waited };
    });
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
  const opened = await openStore(config, logger);
  const app = createApp(config, logger, opened);
  await app.ready();
  serve(app.server, config, logger, opened.close);
}
