import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { loadConfigOrExit, logAuthEvents, orExit, serve, serverOptions } from '@jwtauth/example-shared';
import { jwtAuth, protectedResourceMetadata, type JwtAuthEnv } from '@jwtauth/hono';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { pino } from 'pino';
import { createMcpServer, toMcpAuthInfo } from './mcp-server.js';
import { loadMcpSettings, type McpSettings } from './settings.js';

/** An MCP server on Hono (any runtime with Web Requests): `POST /mcp` behind jwtAuth, its RFC 9728 metadata public. */
export function createApp(settings: McpSettings, logger: pino.Logger): Hono<JwtAuthEnv> {
  const options = {
    issuer: settings.authIssuer,
    discovery: true,
    typ: 'at+jwt',
    resource: { resource: settings.resource, authorizationServers: [settings.authIssuer] },
    onEvent: logAuthEvents(logger),
  } as const;
  const app = new Hono<JwtAuthEnv>();
  app.route('/', protectedResourceMetadata(options));
  app.post('/mcp', jwtAuth(options), async (c) => {
    const server = createMcpServer();
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo: toMcpAuthInfo(c.get('auth')!, settings.resource) });
  });
  app.on(['GET', 'DELETE'], '/mcp', (c) =>
    c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }, 405, { Allow: 'POST' }),
  );
  return app;
}

const config = loadConfigOrExit({ secret: false });
const logger = pino({ level: config.logLevel });
const settings = orExit(() => loadMcpSettings(config));
const listener = getRequestListener(createApp(settings, logger).fetch, { hostname: 'localhost' });
serve(
  createServer(serverOptions(config), (request, response) => void listener(request, response)),
  config,
  logger,
);
