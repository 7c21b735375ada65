import type { AuthInfo } from '@jwtauth/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo as McpAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/**
 * What the MCP SDK hands tool handlers as `extra.authInfo`, from what `jwtAuth` verified: the
 * token, the client (`client_id`, RFC 9068 §2.2, else `azp`, else the subject), the scopes, the
 * expiry and the resource (the `aud` this server required), and the subject in `extra`.
 */
export function toMcpAuthInfo(auth: AuthInfo, resource: string): McpAuthInfo {
  const { payload } = auth;
  const client = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : String(payload.sub);
  return {
    token: auth.token,
    clientId: client,
    scopes: auth.scopes,
    ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
    resource: new URL(resource),
    extra: { sub: payload.sub },
  };
}

/**
 * The MCP server: one tool, `whoami`, that answers who called it, from the verified token.
 * Stateless (a server and a transport per request), as the SDK's Streamable HTTP examples are.
 */
export function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'jwtauth-example', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who is calling: the subject and scopes of the access token' }, (extra) => {
    const auth = extra.authInfo;
    const caller = { sub: auth?.extra?.sub, clientId: auth?.clientId, scopes: auth?.scopes ?? [] };
    return { content: [{ type: 'text', text: JSON.stringify(caller) }] };
  });
  return server;
}

/**
 * Answers one MCP request on Node's Streamable HTTP transport, stateless: a server and a transport
 * for this request alone, closed with it. `request.auth` reaches the tools as `extra.authInfo`;
 * `body` is the JSON the framework parsed.
 */
export async function handleNodeRequest(request: IncomingMessage & { auth?: McpAuthInfo }, response: ServerResponse, body: unknown): Promise<void> {
  const server = createMcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, body);
}
