import type { RequestLike, TokenFrom } from '@jwtauth/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** What @fastify/cookie decorates, typed here so the adapter does not depend on it. */
interface CookieInstance {
  parseCookie(header: string): Record<string, string | undefined>;
}
interface CookieRequest {
  unsignCookie(value: string): { valid: boolean; value: string | null };
}

/**
 * The hook `jwtAuth` runs in: `onRequest`, before anything else; `preValidation` when it reads
 * `tokenFrom.body`, the first hook after Fastify parsed the body. Checks at registration that the
 * plugins the configured sources need were registered before it.
 */
export function authenticationHook(fastify: FastifyInstance, tokenFrom: TokenFrom | undefined): 'onRequest' | 'preValidation' {
  const cookie = tokenFrom?.cookie;
  if (typeof cookie === 'object' && cookie.signed === true && !fastify.hasRequestDecorator('unsignCookie')) {
    throw new TypeError('jwtAuth: tokenFrom.cookie is signed: register @fastify/cookie with a secret before jwtAuth.');
  }
  if (tokenFrom?.body === undefined) return 'onRequest';
  if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
    throw new TypeError('jwtAuth: tokenFrom.body is set: register @fastify/formbody before jwtAuth.');
  }
  return 'preValidation';
}

/**
 * The request as core reads it, with @fastify/cookie's `request.unsignCookie` (`tokenFrom.cookie`
 * with `signed: true`) and the body @fastify/formbody parsed (`tokenFrom.body`). Core only asks
 * for them when configured.
 */
export function requestLike(fastify: FastifyInstance, request: FastifyRequest): RequestLike {
  const { raw } = request;
  return {
    method: raw.method,
    url: raw.url,
    // For a DPoP proof's htu: the scheme and host as Fastify trusts its proxy (`trustProxy`).
    // Fastify 5's `host` keeps the port; Fastify 4 has only `hostname`, which then kept it.
    get origin() {
      const host = (request as { host?: string }).host ?? request.hostname;
      return `${request.protocol}://${host}`;
    },
    headers: raw.headers,
    rawHeaders: raw.rawHeaders,
    signedCookie(name) {
      // Parsed here rather than read from request.cookies, which @fastify/cookie fills in a
      // hook of its own that may not have run yet (its `hook` option).
      const value = (fastify as unknown as CookieInstance).parseCookie(raw.headers.cookie ?? '')[name];
      if (value === undefined) return undefined;
      const unsigned = (request as unknown as CookieRequest).unsignCookie(value);
      return unsigned.valid && unsigned.value !== null ? unsigned.value : false;
    },
    formBody() {
      // @fastify/formbody gives a form body an object (`{}` when empty); `undefined` means it has
      // not been parsed yet: `fastify.jwtAuthenticate` asked for in `onRequest`.
      if (request.body === undefined) {
        throw new TypeError(
          'jwtAuth: tokenFrom.body is set, but the body is not parsed yet: ask for the token in preValidation ({ preValidation: fastify.jwtAuthenticate }), not onRequest.',
        );
      }
      return request.body;
    },
  };
}
