import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverOAuthProtectedResourceMetadata, extractResourceMetadataUrl, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, freePort, root, send, startScript, stop, type App } from './e2e-support.js';
import { MCP_REDIRECT, MemoryClientProvider } from './mcp-client-provider.js';

// examples/mcp, run as a user runs it: an MCP server (the official SDK, Streamable HTTP) behind
// @jwtauth on Express and on Hono, and behind the SDK's own requireBearerAuth with a @jwtauth
// verifier; the authorization server is the auth service of examples/two-services, issuing tokens
// for the MCP server's resource. An MCP client of the same SDK finds the authorization server from
// the 401 (RFC 9728), logs in there and calls a tool; and the SDK client's own OAuth flow
// (authorization code with PKCE, the auth service's OAUTH_CLIENTS) does the same by itself.

const REDIRECT = MCP_REDIRECT;
const OAUTH_CLIENTS = JSON.stringify([{ clientId: 'mcp-inspector', redirectUris: [REDIRECT], name: 'MCP test client' }]);

/** The user at the sign-in page the SDK sent them to: the form, their credentials, and the code of the redirect. */
async function signIn(authorizationUrl: URL): Promise<string> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const request = /name="request" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(request).toBeDefined();
  const signedIn = await fetch(new URL('/authorize', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: request!, username: 'alice', password: 'alice-password' }).toString(),
  });
  expect(signedIn.status).toBe(302);
  const location = new URL(signedIn.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return location.searchParams.get('code')!;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1.0.0' } },
};

const started: App[] = [];
afterAll(async () => {
  await Promise.all(started.map((app) => stop(app.proc, 'SIGTERM')));
  await cleanUp();
});

/** An auth service issuing tokens for `resource`, and the MCP server `script` on a port chosen first (its URL is its resource). */
async function startPair(script: string): Promise<{ auth: App; mcp: App; resource: string }> {
  const [authPort, mcpPort] = [await freePort(), await freePort()];
  const resource = `http://127.0.0.1:${mcpPort}/mcp`;
  const auth = await startScript(
    join(root, 'examples', 'two-services', 'dist', 'auth-service.js'),
    { PORT: String(authPort), AUDIENCE: resource, OAUTH_CLIENTS, LOG_LEVEL: 'warn' },
    `${script}: auth service`,
  );
  started.push(auth);
  const mcp = await startScript(
    join(root, 'examples', 'mcp', 'dist', `${script}.js`),
    { PORT: String(mcpPort), AUTH_ISSUER: auth.url, LOG_LEVEL: 'warn' },
    script,
  );
  started.push(mcp);
  return { auth, mcp, resource };
}

describe.each(['express-server', 'hono-server', 'sdk-bearer-server'])('examples/mcp %s', (script) => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  beforeAll(async () => {
    pair = await startPair(script);
  }, 30_000);

  it('answers an MCP request without a token 401, pointing at its RFC 9728 metadata, which names the authorization server', async () => {
    const refused = await fetch(pair.resource, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(refused.status).toBe(401);
    const metadataUrl = extractResourceMetadataUrl(refused);
    expect(metadataUrl?.href).toBe(`${new URL(pair.resource).origin}/.well-known/oauth-protected-resource/mcp`);
    const metadata = await discoverOAuthProtectedResourceMetadata(pair.resource, { resourceMetadataUrl: metadataUrl });
    expect(metadata).toMatchObject({ resource: pair.resource, authorization_servers: [pair.auth.url], bearer_methods_supported: ['header'] });
  }, 30_000);

  it("lets the SDK's MCP client, with a token from that authorization server, list and call a tool that sees who called", async () => {
    const metadata = await discoverOAuthProtectedResourceMetadata(pair.resource);
    const server = metadata.authorization_servers![0]!;
    const login = await send(`${server}/token`, { json: { username: 'alice', password: 'alice-password' } });
    expect(login.status).toBe(200);
    const client = new Client({ name: 'jwtauth-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(pair.resource), {
      requestInit: { headers: { Authorization: `Bearer ${String(login.body.access_token)}` } },
    });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['whoami']);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ sub: 'alice', clientId: 'alice', scopes: ['read'] }) }]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it("lets the SDK's MCP client get its token by itself: the 401, the metadata, the authorization code with PKCE, then the tool", async () => {
    const provider = new MemoryClientProvider('mcp-inspector');
    const first = new StreamableHTTPClientTransport(new URL(pair.resource), { authProvider: provider });
    // No token yet: the SDK reads the 401's resource_metadata, the auth service's RFC 8414
    // metadata, and sends the user to its authorization endpoint.
    await expect(new Client({ name: 'jwtauth-test', version: '1.0.0' }).connect(first)).rejects.toThrow(UnauthorizedError);
    const authorizationUrl = provider.authorizationUrl!;
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${pair.auth.url}/authorize`);
    expect(Object.fromEntries(authorizationUrl.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'mcp-inspector',
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT,
      resource: pair.resource,
    });
    await first.finishAuth(await signIn(authorizationUrl));
    expect(provider.saved).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });

    const client = new Client({ name: 'jwtauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(pair.resource), { authProvider: provider }));
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: expect.stringContaining('"sub":"alice"') as string }]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('refuses a refresh token, pointing at the metadata, and a token issued for another MCP server', async () => {
    const login = await send(`${pair.auth.url}/token`, { json: { username: 'alice', password: 'alice-password' } });
    const call = (token: string) =>
      fetch(pair.resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INITIALIZE),
      });
    const refresh = await call(String(login.body.refresh_token));
    expect(refresh.status).toBe(401);
    expect(refresh.headers.get('www-authenticate')).toMatch(
      /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/,
    );

    // Issued for another MCP server (by its own authorization server).
    const other = await startPair('hono-server');
    const foreign = await send(`${other.auth.url}/token`, { json: { username: 'alice', password: 'alice-password' } });
    expect((await call(String(foreign.body.access_token))).status).toBe(401);
  }, 30_000);
});
