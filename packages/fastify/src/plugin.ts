import {
  createAuthenticator,
  createClaimGuard,
  createScopeGuard,
  recordAuth,
  recordedAuth,
  toErrorResponse,
  type AuthError,
  type AuthInfo,
  type AuthResult,
  type ClaimCheck,
  type Guard,
  type JwtAuthOptions,
  type JWTPayload,
} from '@jwtauth/core';
import type { FastifyJwtAuthUser, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, RegisterOptions } from 'fastify';
import fp from 'fastify-plugin';
import { onDemandDecorators } from './on-demand.js';
import { refusePeerOptions } from './peer-options.js';
import { authenticationHook, requestLike } from './token-sources.js';

/**
 * `request.jwtVerify()` (registered with `hook: false`): verifies the request's token, sets
 * `request.auth`, `request.user` and `request.authError` as the hook does, and resolves to the
 * verified `AuthInfo`; `null` when the request goes on unauthenticated (`credentialsRequired:
 * false` without a token, `unless`, `passthrough`). Rejects with the `AuthError` on failure.
 */
export type JwtVerify = () => Promise<AuthInfo | null>;

/**
 * `fastify.jwtAuthenticate` (registered with `hook: false`): a hook for the routes that need a
 * token (`{ onRequest: fastify.jwtAuthenticate }`), answering a failure exactly as the plugin's own
 * hook does (or forwarding it, with `forwardErrors: true`).
 */
export type JwtAuthenticate = preHandlerAsyncHookHandler;

/**
 * What `jwtAuth` adds to every request. `FastifyRequest` extends it instead of declaring the
 * fields itself, so that a plugin declaring one of these names with a narrower type (as
 * @fastify/jwt does with `user` and `jwtVerify`) overrides it rather than clashing (TS2717).
 */
export interface JwtAuthRequestFields {
  /** Set by `jwtAuth`: the verified token; `null` when the request passed unauthenticated. */
  auth: AuthInfo | null;
  /** Set by `jwtAuth`: what `resolveUser` returned, or the token payload. */
  user: FastifyJwtAuthUser | null;
  /** Set by `jwtAuth` with `passthrough: true`: why the request goes on unauthenticated; else `null`. */
  authError: AuthError | null;
  /** Present when `jwtAuth` is registered with `hook: false`: see {@link JwtVerify}. */
  jwtVerify: JwtVerify;
}

/** What `jwtAuth` adds to the Fastify instance (extended for the same reason as the request's). */
export interface JwtAuthInstanceFields {
  /** Present when `jwtAuth` is registered with `hook: false`: see {@link JwtAuthenticate}. */
  jwtAuthenticate: JwtAuthenticate;
}

declare module 'fastify' {
  /** The authenticated user: augment it with your user's fields. */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyJwtAuthUser {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyRequest extends JwtAuthRequestFields {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyInstance extends JwtAuthInstanceFields {}
}

/** The plugin's own options, next to those of `@jwtauth/core`. */
export interface FastifyJwtAuthPluginOptions {
  /**
   * `false` adds no hook: nothing is verified until a route asks, with `fastify.jwtAuthenticate`
   * (`{ onRequest: fastify.jwtAuthenticate }`) or `await request.jwtVerify()`, which the plugin
   * then decorates. Default `true`: every request of the scope is authenticated in `onRequest`
   * (`preValidation` with `tokenFrom.body`), and nothing is decorated but `auth`, `user` and
   * `authError`.
   */
  hook?: boolean;
  /**
   * With `hook: false`, names the decorators of this registration as @fastify/jwt does:
   * `namespace: 'partner'` gives `request.partnerJwtVerify()` and `fastify.partnerJwtAuthenticate`,
   * so that several configurations (two issuers, another kind of token) live on one app. A
   * JavaScript identifier. Default: `jwtVerify` and `jwtAuthenticate`.
   */
  namespace?: string;
}

/** `jwtAuth` plugin options: `getToken` and `resolveUser` receive the Fastify request. */
export type FastifyJwtAuthOptions<Payload extends JWTPayload = JWTPayload, User = Payload> = JwtAuthOptions<Payload, User, FastifyRequest> &
  FastifyJwtAuthPluginOptions;

/**
 * Answers an `AuthError` exactly as `jwtAuth` does (status, `WWW-Authenticate` or `Retry-After`,
 * the JSON body, no body for `HEAD`): for your `setErrorHandler` when failures are forwarded or
 * thrown by `request.jwtVerify()`.
 */
export function sendAuthError(reply: FastifyReply, error: AuthError): FastifyReply {
  const { status, headers, body } = toErrorResponse(error, reply.request.method);
  // The body is already JSON text: a serializer that keeps it stops Fastify from appending a
  // charset to the contract's Content-Type, and a string (unlike bytes) leaves Node's http in
  // one write with the headers instead of two.
  return reply
    .code(status)
    .headers(headers)
    .serializer(asIs)
    .send(body ?? '');
}

const asIs = (payload: unknown) => payload as string;

// The user type is the augmentable FastifyJwtAuthUser, so resolveUser's result is checked against it.
const plugin: FastifyPluginAsync<FastifyJwtAuthOptions<JWTPayload, FastifyJwtAuthUser>> = async (fastify, options) => {
  refusePeerOptions(options);
  // Fastify's own register options reach the plugin too; they are Fastify's, not ours.
  const {
    hook,
    namespace,
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...coreOptions
  } = options as typeof options & RegisterOptions;
  const onDemand = onDemandDecorators(fastify, hook, namespace);
  const authenticator = createAuthenticator(coreOptions);
  const phase = authenticationHook(fastify, coreOptions.tokenFrom);
  // Object decorators start as null (Fastify's guidance for reference types).
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null);
  if (!fastify.hasRequestDecorator('authError')) fastify.decorateRequest('authError', null);

  async function verify(request: FastifyRequest): Promise<AuthResult<JWTPayload, FastifyJwtAuthUser>> {
    const result = await authenticator.authenticate(requestLike(fastify, request), request);
    if (result.ok) {
      request.auth = result.auth ?? null;
      request.user = result.user ?? null;
      request.authError = result.error ?? null;
    }
    // What the guards read: not request.auth, which other plugins, namespaces and handlers write.
    recordAuth(request, result.ok ? result.auth : undefined, result.error);
    return result;
  }
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await verify(request);
    if (result.ok) return;
    if (authenticator.forwardErrors) throw result.error;
    return sendAuthError(reply, result.error);
  };

  if (onDemand === undefined) {
    fastify.addHook(phase, authenticate);
    return;
  }
  fastify.decorateRequest(onDemand.verify, async function (this: FastifyRequest): Promise<AuthInfo | null> {
    const result = await verify(this);
    if (!result.ok) throw result.error;
    return this.auth;
  });
  fastify.decorate(onDemand.authenticate, authenticate);
};

/**
 * Verifies the bearer token of every request in the scope it is registered in and sets
 * `request.auth` and `request.user`. Register it inside a child scope to protect only some routes,
 * or with `hook: false` to verify on demand (`fastify.jwtAuthenticate`, `request.jwtVerify()`).
 */
export const jwtAuth = fp(plugin, { name: '@jwtauth/fastify', fastify: '4.x || 5.x' });

function hookFor(guard: Guard): preHandlerAsyncHookHandler {
  return async function (request, reply) {
    const { auth, authError } = recordedAuth(request);
    const result = await guard(auth, authError);
    if (result.ok) return;
    if (result.forward) throw result.error;
    return sendAuthError(reply, result.error);
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
