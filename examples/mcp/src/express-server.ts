import { createServer } from 'node:http';
import { loadConfigOrExit, logAuthEvents, orExit, serve, serverOptions } from '@jwtauth/example-shared';
import { jwtAuth, protectedResourceMetadata } from '@jwtauth/express';
import express from 'express';
import { pino } from 'pino';
import { handleNodeRequest, toMcpAuthInfo } from './mcp-server.js';
import { loadMcpSettings, type McpSettings } from './settings.js';

// The token under req.jwt: the MCP transport reads req.auth, in the SDK's own shape, below.
declare module '@jwtauth/express' {
  interface JwtAuthProperties {
    requestProperty: 'jwt';
  }
}

/** An MCP server on Express: `POST /mcp` behind jwtAuth, its RFC 9728 metadata public. */
export function createApp(settings: McpSettings, logger: pino.Logger): express.Express {
  const options = {
    issuer: settings.authIssuer,
    discovery: true,
    typ: 'at+jwt',
    // The audience: only tokens issued for this MCP server (RFC 8707), and the 401 challenge's
    // resource_metadata, from which MCP clients find the authorization server.
    resource: { resource: settings.resource, authorizationServers: [settings.authIssuer] },
    requestProperty: 'jwt',
    onEvent: logAuthEvents(logger),
  } as const;
  const app = express();
  app.disable('x-powered-by');
  app.use(protectedResourceMetadata(options));
  app.post('/mcp', jwtAuth(options), express.json(), (req, res, next) => {
    // The transport hands req.auth, in the SDK's shape, to the tools as extra.authInfo.
    handleNodeRequest(Object.assign(req, { auth: toMcpAuthInfo(req.jwt!, settings.resource) }), res, req.body).catch(next);
  });
  // Stateless: no session to resume (GET) or end (DELETE).
  app.all('/mcp', (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });
  return app;
}

const config = loadConfigOrExit({ secret: false });
const logger = pino({ level: config.logLevel });
const settings = orExit(() => loadMcpSettings(config));
serve(createServer(serverOptions(config), createApp(settings, logger)), config, logger);
