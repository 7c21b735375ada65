import { createServer } from 'node:http';
import { createAuthenticator, createProtectedResource, type Authenticator } from '@jwtauth/core';
import { loadConfigOrExit, logAuthEvents, orExit, serve, serverOptions } from '@jwtauth/example-shared';
import { InvalidTokenError, InsufficientScopeError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import express from 'express';
import { pino } from 'pino';
import { handleNodeRequest, toMcpAuthInfo } from './mcp-server.js';
import { loadMcpSettings, type McpSettings } from './settings.js';

/**
 * @jwtauth's verification behind the MCP SDK's own `requireBearerAuth`, through its
 * `OAuthTokenVerifier` interface: every check of `jwtAuth` (algorithms, `iss`, `aud` = the
 * resource, `typ`, `exp`, revocation), answered in the SDK's terms. The SDK has no 503: keys that
 * cannot be fetched become its `ServerError` (500), where @jwtauth's adapters answer `503
 * key_unavailable` with `Retry-After`.
 */
export function jwtauthVerifier(authenticator: Authenticator, resource: string): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token) {
      const request = { headers: { authorization: `Bearer ${token}` } };
      const result = await authenticator.authenticate(request, request);
      if (result.ok && result.auth !== undefined) return toMcpAuthInfo(result.auth, resource);
      const error = result.ok ? undefined : result.error;
      if (error?.status === 403) throw new InsufficientScopeError(error.description);
      if (error === undefined || error.status === 503) throw new ServerError(error?.description ?? 'The token could not be checked');
      // The contract's fixed description, never jose's message.
      throw new InvalidTokenError(error.description);
    },
  };
}

/** An MCP server on Express with the SDK's bearer middleware and a @jwtauth verifier. */
export function createApp(settings: McpSettings, logger: pino.Logger): express.Express {
  const authenticator = createAuthenticator({
    issuer: settings.authIssuer,
    discovery: true,
    typ: 'at+jwt',
    resource: { resource: settings.resource, authorizationServers: [settings.authIssuer] },
    onEvent: logAuthEvents(logger),
  });
  // The same document and URL as jwtAuth's resource option, from core.
  const resource = createProtectedResource({ resource: { resource: settings.resource, authorizationServers: [settings.authIssuer] } });
  const app = express();
  app.disable('x-powered-by');
  app.get(new URL(resource.metadataUrl).pathname, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').json(resource.metadata);
  });
  const bearer = requireBearerAuth({ verifier: jwtauthVerifier(authenticator, settings.resource), resourceMetadataUrl: resource.metadataUrl });
  app.post('/mcp', bearer, express.json(), (req, res, next) => {
    handleNodeRequest(req, res, req.body).catch(next);
  });
  return app;
}

const config = loadConfigOrExit({ secret: false });
const logger = pino({ level: config.logLevel });
const settings = orExit(() => loadMcpSettings(config));
serve(createServer(serverOptions(config), createApp(settings, logger)), config, logger);
