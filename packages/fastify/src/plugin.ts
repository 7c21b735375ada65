import {
  createAuthenticator,
  createClaimGuard,
  createScopeGuard,
  toErrorResponse,
  type AuthError,
  type AuthInfo,
  type ClaimCheck,
  type Guard,
  type JwtAuthOptions,
  type JWTPayload,
} from '@jwtauth/core';
import type { FastifyJwtAuthUser, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { authenticationHook, requestLike } from './token-sources.js';

declare module 'fastify' {
  /** The authenticated user: augment it with your user's fields. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyJwtAuthUser {}
  interface FastifyRequest {
    /** Set by `jwtAuth`: the verified token; `null` when the request passed unauthenticated. */
    auth: AuthInfo | null;
    /** Set by `jwtAuth`: what `resolveUser` returned, or the token payload. */
    user: FastifyJwtAuthUser | null;
    /** Set by `jwtAuth` with `passthrough: true`: why the request goes on unauthenticated; else `null`. */
    authError: AuthError | null;
  }
}

/** `jwtAuth` plugin options: `getToken` and `resolveUser` receive the Fastify request. */
export type FastifyJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<
  Payload,
  User,
  FastifyRequest
>;

function answer(request: FastifyRequest, reply: FastifyReply, error: AuthError): FastifyReply {
  const { status, headers, body } = toErrorResponse(error, request.method);
  // Bytes, not a string: Fastify would append a charset to a JSON Content-Type.
  return reply.code(status).headers(headers).send(Buffer.from(body ?? ''));
}

// The user type is the augmentable FastifyJwtAuthUser, so resolveUser's result is checked against it.
const plugin: FastifyPluginAsync<FastifyJwtAuthOptions<JWTPayload, FastifyJwtAuthUser>> = async (fastify, options) => {
  const authenticator = createAuthenticator(options);
  // Object decorators start as null (Fastify's guidance for reference types).
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null);
  if (!fastify.hasRequestDecorator('authError')) fastify.decorateRequest('authError', null);
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await authenticator.authenticate(requestLike(fastify, request), request);
    if (result.ok) {
      request.auth = (result.auth as AuthInfo | undefined) ?? null;
      request.user = (result.user as FastifyJwtAuthUser | undefined) ?? null;
      request.authError = result.error ?? null;
      return;
    }
    if (authenticator.forwardErrors) throw result.error;
    return answer(request, reply, result.error);
  };
  if (authenticationHook(fastify, options.tokenFrom) === 'preValidation') fastify.addHook('preValidation', authenticate);
  else fastify.addHook('onRequest', authenticate);
};

/**
 * Verifies the bearer token of every request in the scope it is registered in and sets
 * `request.auth` and `request.user`. Register it inside a child scope to protect only some routes.
 */
export const jwtAuth = fp(plugin, { name: '@jwtauth/fastify', fastify: '4.x || 5.x' });

function hookFor(guard: Guard): preHandlerAsyncHookHandler {
  return async function (request, reply) {
    const result = await guard(request.auth ?? undefined, request.authError ?? undefined);
    if (result.ok) return;
    if (result.forward) throw result.error;
    return answer(request, reply, result.error);
  };
}

/** A `preHandler` hook: only a token granting every one of `scopes` passes; 403 otherwise. */
export function requireScopes(scope: string, ...more: string[]): preHandlerAsyncHookHandler {
  return hookFor(createScopeGuard([scope, ...more]));
}

/** A `preHandler` hook: only a token for which `check(payload, auth)` returns true passes; 403 otherwise. */
export function requireClaims<Payload extends JWTPayload = JWTPayload>(check: ClaimCheck<Payload>): preHandlerAsyncHookHandler {
  return hookFor(createClaimGuard(check));
}
