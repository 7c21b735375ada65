import { internals, type EndpointAnswer, type TokenEndpoints } from '@jwtauth/core';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** Options of the {@link tokenEndpoints} plugin, next to Fastify's own (`prefix`). */
export interface TokenEndpointsPluginOptions {
  /** The endpoints to serve: `createTokenEndpoints({ issuer, verifyCredentials })` of `@jwtauth/issuer`. */
  endpoints: TokenEndpoints<FastifyRequest>;
}

/**
 * A body Fastify could not parse: bad or empty JSON, a media type with no parser, a wrong
 * `Content-Length`. Fastify gives them `FST_ERR_CTP_*` codes; Fastify 4's JSON parser passes
 * secure-json-parse's `SyntaxError` on with `statusCode` 400 and no code. A body over the app's
 * `bodyLimit` (`FST_ERR_CTP_BODY_TOO_LARGE`, 413) is not one: the limit is the app's policy, and
 * its answer the app's error handler's (Fastify's default: 413), as express.json()'s 413 is left
 * to an Express app.
 */
function isBodyParseError(error: FastifyError): boolean {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return false;
  if (typeof error.code === 'string' && error.code.startsWith('FST_ERR_CTP_')) return true;
  return error instanceof SyntaxError && error.statusCode === 400;
}

/**
 * The answer as the endpoints made it: their `Content-Type: application/json` exactly, as
 * `sendAuthError` sends the contract's errors. A serializer of its own stops Fastify from
 * appending `; charset=utf-8` to it, and still runs the `preSerialization` and `onSend` hooks.
 */
function send(reply: FastifyReply, answer: EndpointAnswer): FastifyReply {
  // A string body (HTML) is sent as is, with the answer's Content-Type; an object is serialised as JSON.
  if (typeof answer.body === 'string') return reply.code(answer.status).headers(answer.headers).send(answer.body);
  return reply.code(answer.status).headers(answer.headers).serializer(JSON.stringify).send(answer.body);
}

const plugin: FastifyPluginAsync<TokenEndpointsPluginOptions> = async (fastify, options) => {
  const { endpoints } = options;
  if (typeof endpoints !== 'object' || endpoints === null || typeof endpoints.handle !== 'function') {
    throw new TypeError(
      'tokenEndpoints: pass the token endpoints as an option, app.register(tokenEndpoints, { endpoints: createTokenEndpoints({ issuer, verifyCredentials }), prefix: "/auth" }).',
    );
  }
  // The full prefix of this scope ('/v1/auth' when registered inside '/v1'), without a trailing
  // slash so that the endpoints' paths ('/token') keep theirs.
  const prefix = fastify.prefix.replace(/\/$/, '');

  /** Translates the request for `handle()` and sends its answer; Fastify's 404 for none of the endpoints. */
  async function serve(request: FastifyRequest, reply: FastifyReply, body: unknown): Promise<FastifyReply> {
    const answer = await endpoints.handle({
      method: request.method,
      // Below the prefix, as the client wrote it: find-my-way's '*' parameter is percent-decoded.
      path: request.url.split('?', 1)[0]!.slice(prefix.length),
      query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      body,
      contentType: request.headers['content-type'],
      cookie: request.headers.cookie,
      // The address Fastify trusts: the socket's, or X-Forwarded-For's as `trustProxy` allows.
      address: request.ip,
      // For a DPoP proof (RFC 9449): every DPoP line, and the URL as the client addressed it (scheme
      // and host as Fastify trusts its proxy, `trustProxy`; Fastify 4 has only `hostname`, with the port).
      dpop: internals.headerValues(request.raw, 'dpop'),
      url: `${request.protocol}://${(request as { host?: string }).host ?? request.hostname}${request.raw.url ?? request.url}`,
      request,
    });
    if (answer === undefined) {
      // The scope's not-found handler (the app's own setNotFoundHandler, if any), as for an unrouted path.
      reply.callNotFound();
      return reply;
    }
    return send(reply, answer);
  }

  // One GET and POST route for every path below the prefix (Fastify adds HEAD to GET): the
  // endpoints, not the adapter, know which paths they serve. Static routes the app adds under the
  // same prefix still win in find-my-way. A form body of @fastify/formbody (a null-prototype
  // object) is taken as it is.
  fastify.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: (request, reply) => serve(request, reply, request.body),
    // A body Fastify's parser refused never reaches the handler. Answered as a body that is not an
    // object (the endpoints' 400 invalid_json), the wire is the same as in every adapter. Any
    // other error (a body over `bodyLimit`, `verifyCredentials`'s) is rethrown to the app's own
    // error handler.
    // Fastify awaits the promise an error handler returns (async error handlers are supported).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    errorHandler(error, request, reply) {
      if (!isBodyParseError(error)) throw error;
      return serve(request, reply, undefined);
    },
  });
};

/**
 * Token endpoints (`createTokenEndpoints()` of `@jwtauth/issuer`, or any {@link TokenEndpoints})
 * as a Fastify plugin: `app.register(tokenEndpoints, { endpoints, prefix: '/auth' })` serves
 * `POST /auth/token`, `/auth/token/refresh`, `/auth/token/verify` and `/auth/token/revoke`, and
 * `GET` (and `HEAD`) `/auth/.well-known/jwks.json` for an issuer that signs with a private key.
 *
 * Bodies are parsed by Fastify's own JSON parser (and `@fastify/formbody`, when registered, for
 * form logins); a body it cannot parse is answered `400 invalid_json` like every other body that
 * is not an object, and one over `bodyLimit` goes to the app's error handler (Fastify's 413). The client address is `request.ip` (Fastify's `trustProxy`). Other paths and
 * methods get Fastify's 404; an error thrown by `verifyCredentials` goes to the app's error
 * handler unchanged. The plugin is encapsulated (not `fastify-plugin`), so `prefix` applies and
 * nothing leaks into the rest of the app; a missing `endpoints` rejects `app.ready()` with a
 * `TypeError`.
 */
export const tokenEndpoints = plugin;
