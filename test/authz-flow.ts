// The authorization code flow with PKCE, run against the token endpoints through an adapter's
// mount: the sign-in form (GET /authorize), the credentials posted as a urlencoded form, the 302
// with code, state and iss, and the code exchanged at /token for an access token for the resource.
import { createHash, randomBytes } from 'node:crypto';
import { createAuthenticator } from '@jwtauth/core';
import { createTokenEndpoints, createTokenIssuer, type TokenEndpoints, type TokenIssuer } from '@jwtauth/issuer';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import { HS_SECRET } from './fixtures.js';

export const AUTHZ_ISSUER = 'http://127.0.0.1/issuer';
export const AUTHZ_RESOURCE = 'https://mcp.example/mcp';
export const AUTHZ_REDIRECT = 'http://127.0.0.1:33418/callback';

/** Endpoints with the authorization code grant for one public client, alice signing in. */
export function authorizationEndpoints<Request>(): { issuer: TokenIssuer; endpoints: TokenEndpoints<Request> } {
  const issuer = createTokenIssuer({ key: HS_SECRET, issuer: AUTHZ_ISSUER, audience: 'urn:api' });
  const endpoints = createTokenEndpoints<Request>({
    issuer,
    verifyCredentials: (username, password) =>
      username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'mcp:tools mcp:admin' } } : null,
    authorization: { clients: [{ clientId: 'mcp-client', redirectUris: [AUTHZ_REDIRECT], name: 'Test <MCP> client' }], resources: [AUTHZ_RESOURCE] },
  });
  return { issuer, endpoints };
}

/** Runs the flow against endpoints mounted at `mountUrl` (such as `http://127.0.0.1:1234/auth`). */
export async function runAuthorizationCodeFlow(mountUrl: string, issuer: TokenIssuer): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'mcp-client',
    redirect_uri: AUTHZ_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's<1>',
    scope: 'mcp:tools',
    resource: AUTHZ_RESOURCE,
  });
  const form = await fetch(`${mountUrl}/authorize?${query}`, { redirect: 'manual' });
  const html = await form.text();
  expect(form.status).toBe(200);
  expect(form.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(form.headers.get('x-frame-options')).toBe('DENY');
  expect(form.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(html).toContain('Test &#60;MCP&#62; client');
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
  expect(request).toBeDefined();

  // A bad client never redirects.
  const unknown = await fetch(`${mountUrl}/authorize?${new URLSearchParams({ ...Object.fromEntries(query), client_id: 'nobody' })}`, { redirect: 'manual' });
  expect(unknown.status).toBe(400);
  expect(unknown.headers.get('location')).toBeNull();

  const post = (password: string) =>
    fetch(`${mountUrl}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: request!, username: 'alice', password }).toString(),
    });
  const wrong = await post('wrong');
  expect(wrong.status).toBe(401);
  expect(wrong.headers.get('location')).toBeNull();
  expect(await wrong.text()).toContain('The username or password is incorrect.');

  const signedIn = await post('alice-password');
  expect(signedIn.status).toBe(302);
  expect(signedIn.headers.get('cache-control')).toBe('no-store');
  const location = new URL(signedIn.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(AUTHZ_REDIRECT);
  expect(location.searchParams.get('state')).toBe('s<1>');
  expect(location.searchParams.get('iss')).toBe(AUTHZ_ISSUER);
  const code = location.searchParams.get('code')!;

  const exchange = () =>
    fetch(`${mountUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: AUTHZ_REDIRECT,
        client_id: 'mcp-client',
        resource: AUTHZ_RESOURCE,
      }).toString(),
    });
  const tokens = await exchange();
  expect(tokens.status).toBe(200);
  expect(tokens.headers.get('cache-control')).toBe('no-store');
  const body = (await tokens.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
  const accessToken = body.access_token as string;
  expect(decodeJwt(accessToken)).toMatchObject({ iss: AUTHZ_ISSUER, sub: 'alice', aud: AUTHZ_RESOURCE, scope: 'mcp:tools' });
  const verified = await createAuthenticator({ ...issuer.verifierOptions, audience: AUTHZ_RESOURCE }).authenticate(
    { headers: { authorization: `Bearer ${accessToken}` } },
    {},
  );
  expect(verified.ok).toBe(true);

  const replayed = await exchange();
  expect(replayed.status).toBe(400);
  expect(await replayed.json()).toMatchObject({ error: 'invalid_grant' });
}
