import cluster from 'node:cluster';
import {
  KEEP_ALIVE_TIMEOUT_MS,
  answerClientError,
  isDraining,
  loadConfigOrExit,
  loginOptions,
  openStore,
  orExit,
  serve,
  serverOptions,
  superviseWorkers,
  type Config,
  type Logger,
  type OpenedStore,
} from '@jwtauth/example-shared';
import formbody from '@fastify/formbody';
import { tokenEndpoints } from '@jwtauth/fastify';
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { loadAuthServiceSettings, type AuthServiceSettings } from './settings.js';

/** The largest request body, in bytes: a login's JSON is far smaller. */
const BODY_LIMIT = 16 * 1024;

/** AUDIENCE as the one resource clients may ask tokens for, when it is a URL (RFC 8707 resources are). */
function resourcesOf(audience: string): string[] | undefined {
  return /^https?:\/\//.test(audience) ? [audience] : undefined;
}

/** Sends an error in the examples' JSON shape, `{"error","error_description","code"}`. */
function fail(reply: FastifyReply, status: number, error: string, code: string, description: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').send({ error, error_description: description, code });
}

/**
 * The auth service: logs the demo users in with `POST /token`, refreshes, verifies and revokes
 * their tokens, and publishes what other services need to verify them on their own: its JWK Set
 * (`/.well-known/jwks.json`) and its RFC 8414 metadata (`/.well-known/oauth-authorization-server`),
 * both served by the mount, which sits at the root of `PUBLIC_URL`.
 */
export function createAuthService(config: Config, settings: AuthServiceSettings, logger: Logger, opened: OpenedStore): FastifyInstance {
  const issuer = createTokenIssuer({
    key: settings.keys.key, // Ed25519: EdDSA; an RSA key: RS256; a P-256 key: ES256
    previousKeys: settings.keys.previousKeys,
    issuer: settings.publicUrl,
    audience: settings.audience,
    accessTokenTtl: config.accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl,
    reuseInterval: config.reuseInterval,
    // Refresh rotation and logouts, shared by every worker through Redis when REDIS_URL is set.
    store: opened.store,
  });
  const endpoints = createTokenEndpoints<FastifyRequest>({
    issuer,
    ...loginOptions(config, opened.redis),
    refreshCookie: { path: '/token' },
    publicUrl: settings.publicUrl,
    // OAUTH_CLIENTS: the authorization code grant with PKCE, which MCP clients use: GET/POST
    // /authorize, and tokens for the resource (RFC 8707) a client asks for, when it is AUDIENCE.
    ...(settings.oauthClients.length === 0 ? {} : { authorization: { clients: settings.oauthClients, resources: resourcesOf(settings.audience) } }),
  });

  const app = Fastify({
    // request.ip, which the login throttle counts, believes X-Forwarded-For only from a proxy on loopback.
    trustProxy: config.trustProxy === 'loopback' ? 'loopback' : false,
    bodyLimit: BODY_LIMIT,
    http: serverOptions(config),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    clientErrorHandler: answerClientError,
    frameworkErrors: (_error, _request, reply) => {
      // The answer is sent; nothing waits on the reply (a FastifyReply is thenable).
      void fail(reply, 400, 'invalid_request', 'bad_request', 'The request URL is malformed');
    },
  });
  app.setNotFoundHandler((_request, reply) => fail(reply, 404, 'not_found', 'not_found', 'There is nothing at this address'));
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return fail(reply, 413, 'invalid_request', 'body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`);
    // Fixed texts: Fastify's own messages may repeat the request.
    if (status < 500) return fail(reply, status, 'invalid_request', 'bad_request', 'The request is malformed');
    logger.error({ type: 'error', err: error }, 'request failed');
    return fail(reply, 500, 'server_error', 'internal_error', 'The server could not answer this request');
  });

  app.get('/healthz', async (_request, reply) => {
    if (isDraining()) return reply.code(503).header('Retry-After', '1').send({ status: 'draining' });
    return { status: 'ok' };
  });
  // POST /token, /token/refresh, /token/verify, /token/revoke; GET /.well-known/jwks.json and,
  // because PUBLIC_URL is this mount's root, /.well-known/oauth-authorization-server.
  // The sign-in form of /authorize posts application/x-www-form-urlencoded.
  if (settings.oauthClients.length > 0) app.register(formbody);
  app.register(tokenEndpoints, { endpoints });
  return app;
}

const config = loadConfigOrExit({ secret: false });
const logger = pino({ level: config.logLevel });

/** The settings of this service, or exit 1 with the reason on stderr. */
const settingsOrExit = (): AuthServiceSettings => orExit(() => loadAuthServiceSettings(config, process.env, (message) => logger.warn(message)));

if (config.workers > 1 && cluster.isPrimary) {
  // Checked here too, so that a bad KEYS_FILE stops the start rather than every worker.
  settingsOrExit();
  // WORKERS=N: N workers share the port; SIGHUP restarts them one at a time, each reading KEYS_FILE
  // again: how the keys are rotated without a failed request (README.md).
  superviseWorkers(config, logger);
} else {
  const settings = settingsOrExit();
  const opened = await openStore(config, logger);
  const app = createAuthService(config, settings, logger, opened);
  await app.ready();
  serve(app.server, config, logger, opened.close);
}
