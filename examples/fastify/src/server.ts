import {
  BODY_LIMIT,
  admin,
  bodyTooLarge,
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
import { jwtAuth, requireScopes } from '@jwtauth/fastify';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

/** Sends a shared answer as it is: bytes, as Fastify would append a charset to a JSON string's Content-Type. */
function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
}

/** The example API of examples/README.md on Fastify. */
export function createApp(config: Config): FastifyInstance {
  const tokens = createTokenEndpoints(config);
  // request.ip / request.protocol believe X-Forwarded-* only from a proxy on 127.0.0.0/8 or ::1.
  const app = Fastify({ trustProxy: config.trustProxy === 'loopback' ? 'loopback' : false });

  app.setNotFoundHandler((_request, reply) => send(reply, notFound()));
  app.setErrorHandler((error: { code?: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, bodyTooLarge());
    return reply.send(error);
  });
  // No body is parsed outside the token endpoints (a 404 stays a 404 whatever the body).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.get('/healthz', (_request, reply) => send(reply, healthz()));

  // The token endpoints are public: they take the raw body (any type, at most 16 KiB), and the
  // shared code parses and checks it, so every framework answers the same bytes.
  app.register(async (scope) => {
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
    await api.register(jwtAuth, { ...tokens.verifierOptions });

    // Behind jwtAuth (credentials required), request.auth is always set.
    api.get('/api/hello', (request, reply) => send(reply, hello(request.auth!)));
    api.get('/api/admin', { preHandler: requireScopes('admin') }, (request, reply) => send(reply, admin(request.auth!)));
    api.get('/api/slow', async (request, reply) => send(reply, await slow(request.url)));
  });

  return app;
}

const config = loadConfigOrExit();
const app = createApp(config);
await app.ready();
serve(app.server, config);
