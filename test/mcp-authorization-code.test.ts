import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { jwtAuth, tokenRouter } from '@jwtauth/express';
import { createTokenEndpoints, createTokenIssuer } from '@jwtauth/issuer';
import express from 'express';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './harness/listen.js';
import { MCP_REDIRECT, MemoryClientProvider } from './mcp-client-provider.js';
import type { RunningServer } from './harness/types.js';

// The official MCP SDK's own OAuth client (auth() of @modelcontextprotocol/sdk) against the
// issuer's authorization code grant: it discovers the resource's RFC 9728 metadata and the
// issuer's RFC 8414 metadata, builds the authorization URL (PKCE S256, state, resource), and after
// the sign-in (which the test submits, as the user would) exchanges the code and later refreshes.

const REDIRECT = MCP_REDIRECT;

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** One Express app on loopback: the issuer at its origin (endpoints under /auth) and an MCP-like resource at /mcp. */
async function start(): Promise<{ origin: string; resource: string }> {
  // Listening first: the issuer's URL (its iss, and the resource's) needs the port.
  const holder: { app?: express.Express } = {};
  server = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      holder.app!(req, res);
    }),
  );
  const origin = server.url;
  const resource = `${origin}/mcp`;
  const issuer = createTokenIssuer({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, issuer: origin });
  const endpoints = createTokenEndpoints<express.Request>({
    issuer,
    verifyCredentials: (username, password) =>
      username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'mcp:tools' } } : null,
    publicUrl: `${origin}/auth`,
    authorization: { clients: [{ clientId: 'mcp-client', redirectUris: [REDIRECT], name: 'SDK test' }], resources: [resource] },
  });
  const app = express();
  holder.app = app;
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use('/auth', tokenRouter(endpoints));
  app.get(endpoints.metadataPath, (_req, res) => {
    const answer = endpoints.metadata();
    res.status(answer.status).set(answer.headers).send(JSON.stringify(answer.body));
  });
  app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
    res.json({ resource, authorization_servers: [origin], scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'] });
  });
  app.use('/mcp', jwtAuth({ ...issuer.verifierOptions, audience: resource }));
  app.post('/mcp', (req, res) => {
    res.json({ sub: req.auth?.payload.sub });
  });
  return { origin, resource };
}

/** What the user does in the browser: opens the authorization URL, signs in, and is sent back with the code. */
async function signIn(authorizationUrl: URL): Promise<URL> {
  const form = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(form.status).toBe(200);
  const html = await form.text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const action = new URL('authorize', authorizationUrl);
  const answer = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, username: 'alice', password: 'alice-password' }).toString(),
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location')!);
}

describe('the MCP SDK client against the authorization code grant', () => {
  it('discovers the metadata, authorizes with PKCE, exchanges the code and refreshes', async () => {
    const { origin, resource } = await start();
    const provider = new MemoryClientProvider('mcp-client', 'sdk-state');

    expect(await auth(provider, { serverUrl: resource })).toBe('REDIRECT');
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${origin}/auth/authorize`);
    expect(Object.fromEntries(authorizationUrl.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'mcp-client',
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT,
      state: 'sdk-state',
      scope: 'mcp:tools',
      resource,
    });

    const back = await signIn(authorizationUrl);
    expect(back.searchParams.get('state')).toBe('sdk-state');
    expect(back.searchParams.get('iss')).toBe(origin);
    const code = back.searchParams.get('code')!;

    expect(await auth(provider, { serverUrl: resource, authorizationCode: code })).toBe('AUTHORIZED');
    const first = provider.saved!;
    expect(first).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(decodeJwt(first.access_token)).toMatchObject({ iss: origin, sub: 'alice', aud: resource, scope: 'mcp:tools' });
    const called = await fetch(resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.access_token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(called.status).toBe(200);
    expect(await called.json()).toEqual({ sub: 'alice' });

    // With a refresh token saved, auth() refreshes (grant_type=refresh_token at the token endpoint).
    expect(await auth(provider, { serverUrl: resource })).toBe('AUTHORIZED');
    const second = provider.saved!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token)).toMatchObject({ aud: resource, sub: 'alice' });

    // The code was used once: the SDK gets invalid_grant for a replay.
    const replay = new MemoryClientProvider('mcp-client', 'sdk-state');
    replay.verifier = provider.verifier;
    await expect(auth(replay, { serverUrl: resource, authorizationCode: code })).rejects.toThrow(/already been used/);
  });
});
