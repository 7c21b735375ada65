import type { IncomingMessage } from 'node:http';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenIssuer } from '../issuer/issuer.js';
import type { TokenIssuerOptions } from '../issuer/options.js';
import { isBodyObject } from './body.js';
import { createTokenEndpoints } from './endpoints.js';
import { serve, type TestServer } from './test-server.js';

// The published documents over real HTTP (the test server mounts the endpoints at /api): the
// JWK Set for every issuer that signs with a private key, the RFC 8414 metadata with publicUrl.

const PEM = await exportPKCS8((await generateKeyPair('EdDSA', { extractable: true })).privateKey);
const SECRET = 'endpoint-test-secret-that-is-long-enough-for-hs256';
const verifyCredentials = () => null;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(issuerOptions: TokenIssuerOptions): Promise<string> {
  server = await serve(createTokenEndpoints<IncomingMessage>({ issuer: createTokenIssuer(issuerOptions), verifyCredentials }));
  return server.url;
}

describe('GET <mount>/.well-known/jwks.json', () => {
  it('answers the JWK Set: 200, application/jwk-set+json, cacheable for five minutes', async () => {
    const issuer = createTokenIssuer({ key: PEM });
    server = await serve(createTokenEndpoints<IncomingMessage>({ issuer, verifyCredentials }));
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual(await issuer.jwks());

    const head = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(await head.text()).toBe('');
  });

  it('is not served for other methods, nor for an HMAC issuer, whose secret is never published', async () => {
    const api = await start({ key: PEM });
    expect((await fetch(`${api}/.well-known/jwks.json`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })).status).toBe(404);
    expect((await fetch(`${api}/token`)).status).toBe(404);
    await server?.close();
    const hmac = await start({ key: SECRET });
    expect((await fetch(`${hmac}/.well-known/jwks.json`)).status).toBe(404);
  });
});

describe('publicUrl: RFC 8414 metadata', () => {
  it('describes the issuer with absolute URLs from publicUrl only; metadataPath puts the well-known segment before the issuer path', async () => {
    const issuer = createTokenIssuer({ key: PEM, issuer: 'https://auth.example/tenant-a' });
    const endpoints = createTokenEndpoints({ issuer, verifyCredentials, publicUrl: 'https://auth.example/tenant-a/auth/' });
    expect(endpoints.metadataPath).toBe('/.well-known/oauth-authorization-server/tenant-a');
    const answer = endpoints.metadata();
    expect(answer).toEqual({
      status: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
      body: {
        issuer: 'https://auth.example/tenant-a',
        jwks_uri: 'https://auth.example/tenant-a/auth/.well-known/jwks.json',
        token_endpoint: 'https://auth.example/tenant-a/auth/token',
        revocation_endpoint: 'https://auth.example/tenant-a/auth/token/revoke',
        response_types_supported: [],
        grant_types_supported: ['password'],
        token_endpoint_auth_methods_supported: ['none'],
        revocation_endpoint_auth_methods_supported: ['none'],
      },
    });
    // A changed copy changes nothing for the next request.
    (answer.body as { issuer: string }).issuer = 'https://evil.example';
    expect(endpoints.metadata().body.issuer).toBe('https://auth.example/tenant-a');
    expect(
      createTokenEndpoints({
        issuer: createTokenIssuer({ key: PEM, issuer: 'https://auth.example/' }),
        verifyCredentials,
        publicUrl: 'https://auth.example/auth',
      }).metadataPath,
    ).toBe('/.well-known/oauth-authorization-server');
  });

  it("is answered by a mount at the root of the issuer's origin (GET and HEAD), not by a mount below it", async () => {
    const issuer = createTokenIssuer({ key: PEM, issuer: 'http://127.0.0.1:9/tenant' });
    const atRoot = createTokenEndpoints({ issuer, verifyCredentials, publicUrl: 'http://127.0.0.1:9' });
    const request = { method: 'GET', path: '/.well-known/oauth-authorization-server/tenant', body: undefined, request: null };
    const answer = await atRoot.handle(request);
    expect(answer?.status).toBe(200);
    expect(answer?.body).toMatchObject({ issuer: 'http://127.0.0.1:9/tenant', jwks_uri: 'http://127.0.0.1:9/.well-known/jwks.json' });
    expect((await atRoot.handle({ ...request, method: 'HEAD' }))?.status).toBe(200);
    expect(await atRoot.handle({ ...request, method: 'POST', body: {} })).toBeUndefined();
    const below = createTokenEndpoints({ issuer, verifyCredentials, publicUrl: 'http://127.0.0.1:9/auth' });
    expect(await below.handle(request)).toBeUndefined();
  });

  it.each<[string, TokenIssuerOptions, string, RegExp]>([
    ['an HMAC issuer', { key: SECRET, issuer: 'https://auth.example' }, 'https://auth.example', /HMAC secret, which must never be published/],
    ['an issuer that is no URL', { key: PEM, issuer: 'urn:my-app' }, 'https://auth.example', /give the token issuer an https:\/\/ URL/],
    ['an issuer without iss', { key: PEM }, 'https://auth.example', /give the token issuer an https:\/\/ URL/],
    ['an http issuer off loopback', { key: PEM, issuer: 'http://auth.example' }, 'https://auth.example', /give the token issuer an https:\/\/ URL/],
    ['a relative publicUrl', { key: PEM, issuer: 'https://auth.example' }, '/auth', /"publicUrl" must be the absolute URL/],
    [
      'an http publicUrl off loopback',
      { key: PEM, issuer: 'https://auth.example' },
      'http://auth.example/auth',
      /must be an https:\/\/ URL \(http:\/\/ only on loopback\)/,
    ],
    [
      'a publicUrl with a query',
      { key: PEM, issuer: 'https://auth.example' },
      'https://auth.example/auth?x=1',
      /without user name, password, query or fragment/,
    ],
    ['an http publicUrl for an https issuer', { key: PEM, issuer: 'https://auth.example' }, 'http://127.0.0.1/auth', /must be https:\/\/ when the issuer is/],
  ])('refuses %s with a TypeError at creation', (_, issuerOptions, publicUrl, message) => {
    const create = () => createTokenEndpoints({ issuer: createTokenIssuer(issuerOptions), verifyCredentials, publicUrl });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
  });
});

describe('isBodyObject()', () => {
  it('takes plain and null-prototype objects, as @fastify/formbody makes them, and refuses class instances', () => {
    function Empty() {}
    Empty.prototype = Object.create(null) as object;
    const form = new (Empty as unknown as new () => Record<string, unknown>)();
    form.username = 'alice';
    expect(isBodyObject(form)).toBe(true);
    expect(isBodyObject(Object.create(null))).toBe(true);
    expect(isBodyObject({ username: 'alice' })).toBe(true);
    class Fields {
      username = 'alice';
    }
    expect(isBodyObject(new Fields())).toBe(false);
    expect(isBodyObject(new Uint8Array(2))).toBe(false);
    expect(isBodyObject(Object.create({ username: 'alice' }))).toBe(false);
  });
});
