import { createServer } from 'node:http';
import { ConfigError, loadConfigOrExit, logAuthEvents, serve, serverOptions } from '@jwtauth/example-shared';
import { jwtAuth, protectedResourceMetadata } from '@jwtauth/express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { pino } from 'pino';
import { createMcpServer, toMcpAuthInfo } from './mcp-server.js';
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
  app.post('/mcp', jwtAuth(options), express.json(), async (req, res, next) => {
    try {
      const server = createMcpServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      // The transport hands req.auth to the tools as extra.authInfo.
      await transport.handleRequest(Object.assign(req, { auth: toMcpAuthInfo(req.jwt!, settings.resource) }), res, req.body);
    } catch (error) {
      next(error);
    }
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
let settings: McpSettings;
try {
  settings = loadMcpSettings(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}
serve(createServer(serverOptions(config), createApp(settings, logger)), config, logger);
