import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import { createScopeGuard } from '../guards.js';
import { createProtectedResource } from '../resource-metadata.js';
import type { JwtAuthOptions } from '../options.js';
import { toErrorResponse } from './response.js';

// RFC 9728 Protected Resource Metadata, as the `resource` option builds it: the document, where it
// is served, `resource_metadata` in every challenge (§5.1), and the audience tied to the resource.

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SECRET = 'protected-resource-test-secret-0123456789';
const RESOURCE = 'https://resource.example.com/resource1';
const METADATA_URL = 'https://resource.example.com/.well-known/oauth-protected-resource/resource1';

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'user-1', iat: NOW_S, exp: NOW_S + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

const authenticator = (options: Partial<JwtAuthOptions> = {}) =>
  createAuthenticator({
    secret: SECRET,
    currentDate: () => NOW,
    resource: { resource: RESOURCE, authorizationServers: ['https://as.example.com'] },
    ...options,
  });

const request = (authorization?: string) =>
  new Request('https://resource.example.com/resource1', { headers: authorization === undefined ? {} : { authorization } });

describe('createProtectedResource', () => {
  it('places the well-known segment before the path, as RFC 9728 §3.1 example does, and serves the root form too', () => {
    const resource = createProtectedResource({ resource: { resource: RESOURCE } });
    expect(resource.metadataUrl).toBe(METADATA_URL);
    expect(resource.metadataPaths).toEqual(['/.well-known/oauth-protected-resource/resource1', '/.well-known/oauth-protected-resource']);
    expect(createProtectedResource({ resource: { resource: 'https://api.example/mcp/' } }).metadataUrl).toBe(
      'https://api.example/.well-known/oauth-protected-resource/mcp',
    );
    const root = createProtectedResource({ resource: { resource: 'https://api.example' } });
    expect(root.metadataUrl).toBe('https://api.example/.well-known/oauth-protected-resource');
    expect(root.metadataPaths).toEqual(['/.well-known/oauth-protected-resource']);
  });

  it('answers the document with what is configured, bearer methods from tokenFrom, JSON and an hour of caching', () => {
    const answer = createProtectedResource({
      resource: {
        resource: RESOURCE,
        authorizationServers: ['https://as.example.com'],
        scopesSupported: ['profile', 'email'],
        resourceName: 'Example',
        resourceDocumentation: 'https://resource.example.com/docs',
      },
    }).answer();
    expect(answer).toEqual({
      status: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=3600' },
      body: {
        resource: RESOURCE,
        authorization_servers: ['https://as.example.com'],
        scopes_supported: ['profile', 'email'],
        bearer_methods_supported: ['header'],
        resource_name: 'Example',
        resource_documentation: 'https://resource.example.com/docs',
      },
    });
    const methods = (tokenFrom: JwtAuthOptions['tokenFrom']) =>
      createProtectedResource({ resource: { resource: RESOURCE }, tokenFrom }).metadata.bearer_methods_supported;
    expect(methods({ header: true, body: 'access_token', query: 'access_token' })).toEqual(['header', 'body', 'query']);
    expect(methods({ header: false, cookie: 'session' })).toEqual([]);
  });

  it.each([
    ['an http URL off loopback', { resource: 'http://api.example/mcp' }, /https URL/],
    ['a query', { resource: 'https://api.example/mcp?x=1' }, /without query or fragment/],
    ['a fragment', { resource: 'https://api.example/mcp#a' }, /without query or fragment/],
    ['a relative URL', { resource: '/mcp' }, /https URL/],
    ['an unknown field', { resource: RESOURCE, scopes: ['a'] }, /unknown option "resource.scopes"/],
    ['an authorization server that is no URL', { resource: RESOURCE, authorizationServers: ['as'] }, /authorizationServers/],
    ['an empty scope list', { resource: RESOURCE, scopesSupported: [] }, /scopesSupported/],
  ])('refuses %s with a TypeError that says what to fix', (_case, resource, message) => {
    expect(() => createProtectedResource({ resource: resource })).toThrow(TypeError);
    expect(() => createProtectedResource({ resource: resource })).toThrow(message);
    expect(() => authenticator({ resource: resource })).toThrow(message);
  });

  it('accepts http on loopback, for development', () => {
    expect(createProtectedResource({ resource: { resource: 'http://127.0.0.1:3000/mcp' } }).metadataUrl).toBe(
      'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp',
    );
    expect(createProtectedResource({ resource: { resource: 'http://localhost:3000' } }).metadataUrl).toBe(
      'http://localhost:3000/.well-known/oauth-protected-resource',
    );
  });
});

describe('jwtAuth({ resource })', () => {
  it('puts resource_metadata in the challenge of a request without a token, of a bad token and of a missing scope', async () => {
    const auth = authenticator({ realm: 'api' });
    const none = await auth.authenticate(request(), undefined);
    expect(!none.ok && toErrorResponse(none.error).headers['WWW-Authenticate']).toBe(`Bearer realm="api", resource_metadata="${METADATA_URL}"`);

    const expired = await auth.authenticate(request(`Bearer ${await sign({ aud: RESOURCE, exp: NOW_S - 60 })}`), undefined);
    expect(!expired.ok && expired.error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="The token has expired", resource_metadata="${METADATA_URL}"`,
    );

    const granted = await auth.authenticate(request(`Bearer ${await sign({ aud: RESOURCE, scope: 'read' })}`), undefined);
    expect(granted.ok).toBe(true);
    const refused = await createScopeGuard(['admin'])(granted.ok ? granted.auth : undefined);
    expect(!refused.ok && refused.error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="insufficient_scope", error_description="The token does not grant the access this resource requires", scope="admin", resource_metadata="${METADATA_URL}"`,
    );
  });

  it('accepts only tokens whose aud names the resource (RFC 8707)', async () => {
    const auth = authenticator();
    expect((await auth.authenticate(request(`Bearer ${await sign({ aud: RESOURCE })}`), undefined)).ok).toBe(true);
    expect((await auth.authenticate(request(`Bearer ${await sign({ aud: ['https://other.example', RESOURCE] })}`), undefined)).ok).toBe(true);
    for (const aud of ['https://other.example', 'https://resource.example.com', undefined]) {
      const result = await auth.authenticate(request(`Bearer ${await sign(aud === undefined ? {} : { aud })}`), undefined);
      expect(result.ok ? 'ok' : result.error.code, String(aud)).toBe('claim_invalid');
    }
  });

  it('refuses "audience" next to "resource": the resource is the audience', () => {
    expect(() => authenticator({ audience: 'https://other.example' })).toThrow(/give "resource" or "audience", not both/);
  });

  it('leaves the challenge and the audience as they were without the option', async () => {
    const plain = createAuthenticator({ secret: SECRET, currentDate: () => NOW });
    const none = await plain.authenticate(request(), undefined);
    expect(!none.ok && none.error.headers['WWW-Authenticate']).toBe('Bearer');
  });
});
