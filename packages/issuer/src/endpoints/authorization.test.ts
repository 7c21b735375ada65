import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createAuthenticator, MemoryRevocationStore, type RevocationStore } from '@jwtauth/core';
import { createTokenEndpoints, createTokenIssuer, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { post, serve, type TestServer } from './test-server.js';

const KEY = 'a-test-secret-of-at-least-32-bytes!!';
const ISSUER = 'https://auth.example';
const API = 'https://api.example/mcp';
const REDIRECT = 'http://127.0.0.1:8976/callback';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'; // RFC 7636 Appendix B

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Start {
  options?: Partial<TokenEndpointsOptions<IncomingMessage>>;
  store?: RevocationStore;
  clock?: { now: number };
  /** The issuer's `audience`; `null` for none. */
  audience?: string | string[] | null;
}

async function start({ options = {}, store = new MemoryRevocationStore(), clock, audience = 'https://default.example' }: Start = {}) {
  const issuer = createTokenIssuer({
    key: KEY,
    issuer: ISSUER,
    ...(audience === null ? {} : { audience }),
    store,
    ...(clock === undefined ? {} : { currentDate: () => new Date(clock.now) }),
  });
  server = await serve(
    createTokenEndpoints<IncomingMessage>({
      issuer,
      verifyCredentials: (username, password) =>
        username === 'alice' && password === 'alice-password' ? { subject: 'alice', claims: { scope: 'read write admin', role: 'user' } } : null,
      authorization: {
        clients: [
          { clientId: 'mcp-client', redirectUris: [REDIRECT], name: 'MCP <Client> & "Co"' },
          { clientId: 'other', redirectUris: ['https://other.example/cb'] },
        ],
        resources: [API],
      },
      ...options,
    }),
  );
  return { url: server.url, issuer };
}

function authorizeQuery(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'mcp-client',
    redirect_uri: REDIRECT,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'xyz',
    scope: 'read write',
    resource: API,
    ...overrides,
  };
  return new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
}

async function getForm(url: string, query = authorizeQuery()) {
  const response = await fetch(`${url}/authorize?${query}`, { redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function hiddenRequest(html: string): string {
  const match = /name="request" value="([^"]+)"/.exec(html);
  expect(match).not.toBeNull();
  return match![1]!;
}

async function submit(url: string, request: string, password = 'alice-password', headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ request, username: 'alice', password }).toString(),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** GET the form, sign in, and return the redirect's parameters. */
async function codeFor(url: string, query = authorizeQuery()): Promise<URLSearchParams> {
  const form = await getForm(url, query);
  expect(form.status).toBe(200);
  const signedIn = await submit(url, hiddenRequest(form.text));
  expect(signedIn.status).toBe(302);
  const location = new URL(signedIn.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return location.searchParams;
}

function exchange(url: string, code: string, overrides: Record<string, string> = {}) {
  return post(
    `${url}/token`,
    new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: VERIFIER, redirect_uri: REDIRECT, client_id: 'mcp-client', ...overrides }),
  );
}

describe('authorization code with PKCE', () => {
  it('runs the whole flow: form, sign-in, 302 with code, state and iss, exchange, tokens for the resource', async () => {
    const { url, issuer } = await start();
    const form = await getForm(url);
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(form.text).toContain('<form method="post" action="authorize">');
    expect(form.text).not.toContain('<script');
    const request = hiddenRequest(form.text);
    expect(decodeProtectedHeader(request).typ).toBe('authz-request+jwt');

    const signedIn = await submit(url, request);
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.get('cache-control')).toBe('no-store');
    const params = new URL(signedIn.headers.get('location')!).searchParams;
    expect(params.get('state')).toBe('xyz');
    expect(params.get('iss')).toBe(ISSUER);
    const code = params.get('code')!;
    expect(decodeProtectedHeader(code).typ).toBe('authz-code+jwt');
    // A code is never an access token: typed, its audience the issuer, without sub or scope.
    expect(decodeJwt(code)).toMatchObject({ iss: ISSUER, aud: ISSUER, user: 'alice', client_id: 'mcp-client', granted_scope: 'read write', resource: API });
    expect(decodeJwt(code)).not.toHaveProperty('sub');
    expect(decodeJwt(code)).not.toHaveProperty('scope');
    const asAccess = await createAuthenticator({ secret: KEY, issuer: ISSUER, audience: API }).authenticate(
      { headers: { authorization: `Bearer ${code}` } },
      {},
    );
    expect(asAccess.ok).toBe(false);
    expect(decodeJwt(request)).toMatchObject({ aud: ISSUER, client_id: 'mcp-client', state: 'xyz' });

    const tokens = await exchange(url, code, { resource: API });
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_expires_in: 86400, scope: 'read write' });
    const accessToken = tokens.body.access_token as string;
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({ iss: ISSUER, sub: 'alice', aud: API, scope: 'read write', role: 'user', token_type: 'access' });

    const authenticator = createAuthenticator({ ...issuer.verifierOptions, audience: API });
    const result = await authenticator.authenticate({ headers: { authorization: `Bearer ${accessToken}` } }, {});
    expect(result.ok).toBe(true);
    // The issuer's default audience does not accept a token meant for the resource.
    const elsewhere = await createAuthenticator({ ...issuer.verifierOptions }).authenticate({ headers: { authorization: `Bearer ${accessToken}` } }, {});
    expect(elsewhere.ok).toBe(false);

    // grant_type=refresh_token at /token is /token/refresh; the session keeps its resource.
    const refreshed = await post(
      `${url}/token`,
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string, client_id: 'mcp-client' }),
    );
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ aud: API, sub: 'alice', scope: 'read write' });
  });

  it('gives the issuer audience when no resource is asked for, and the user scope when no scope is', async () => {
    const { url } = await start();
    const params = await codeFor(url, authorizeQuery({ resource: undefined, scope: undefined, state: undefined }));
    expect(params.has('state')).toBe(false);
    const tokens = await exchange(url, params.get('code')!);
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token as string)).toMatchObject({ aud: 'https://default.example', scope: 'read write admin' });
  });

  it('keeps the resource through refreshes when the issuer has no audience of its own', async () => {
    const { url, issuer } = await start({ audience: null });
    const tokens = await exchange(url, (await codeFor(url)).get('code')!);
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.refresh_token as string).aud).toBe(API);
    const refreshed = await post(`${url}/token/refresh`, { refresh_token: tokens.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ aud: API, sub: 'alice' });
    // A password login of the same issuer still has no aud.
    const login = await post(`${url}/token`, { username: 'alice', password: 'alice-password' });
    expect(decodeJwt(login.body.access_token as string)).not.toHaveProperty('aud');
    expect((await issuer.verify(refreshed.body.access_token as string)).ok).toBe(true);
  });

  it('keeps a session to its resource through refreshes when the issuer audience names it and others (RFC 8707)', async () => {
    // The resource is one of the issuer's audiences: its refresh tokens name them all, and a refresh
    // must not hand out tokens for the others, which the client was never granted.
    const { url, issuer } = await start({ audience: [API, 'https://other-api.example'] });
    const tokens = await exchange(url, (await codeFor(url)).get('code')!);
    expect(decodeJwt(tokens.body.access_token as string).aud).toBe(API);
    const refreshed = await post(`${url}/token/refresh`, { refresh_token: tokens.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string).aud).toBe(API);
    const again = await post(`${url}/token/refresh`, { refresh_token: refreshed.body.refresh_token });
    expect(decodeJwt(again.body.access_token as string).aud).toBe(API);
    expect((await issuer.verify(again.body.access_token as string)).ok).toBe(true);
  });

  it('ends the session when the client logs out with its resource-bound access token', async () => {
    const { url } = await start();
    const tokens = await exchange(url, (await codeFor(url)).get('code')!);
    expect(decodeJwt(tokens.body.access_token as string).aud).toBe(API);
    expect((await post(`${url}/token/revoke`, { token: tokens.body.access_token })).status).toBe(200);
    const refreshed = await post(`${url}/token/refresh`, { refresh_token: tokens.body.refresh_token });
    expect(refreshed.status).toBe(401);
    expect(refreshed.body).toMatchObject({ code: 'token_revoked' });
  });

  it('answers an unknown client_id or redirect_uri with a 400 page, never a redirect', async () => {
    const { url } = await start();
    for (const query of [
      authorizeQuery({ client_id: 'nobody' }),
      authorizeQuery({ client_id: undefined }),
      authorizeQuery({ redirect_uri: 'https://evil.example/cb' }),
      authorizeQuery({ redirect_uri: `${REDIRECT}/` }),
      authorizeQuery({ redirect_uri: undefined }),
      `${authorizeQuery()}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      authorizeQuery({ redirect_uri: 'https://other.example/cb' }),
    ]) {
      const answer = await getForm(url, query);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(answer.text).toContain('Sign-in error');
    }
  });

  it('redirects the other request errors back with error, state and iss', async () => {
    const { url } = await start();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ response_type: undefined }, 'invalid_request'],
      [{ resource: 'https://unknown.example' }, 'invalid_target'],
    ];
    for (const [overrides, error] of cases) {
      const answer = await getForm(url, authorizeQuery(overrides));
      expect(answer.status).toBe(302);
      const location = new URL(answer.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('error_description')).toBeTruthy();
      expect(location.searchParams.get('state')).toBe('xyz');
      expect(location.searchParams.get('iss')).toBe(ISSUER);
      expect(location.searchParams.has('code')).toBe(false);
    }
  });

  it('sends its security headers and escapes what it shows', async () => {
    const { url } = await start();
    const answer = await getForm(url, authorizeQuery({ state: '"><script>alert(1)</script>' }));
    expect(answer.status).toBe(200);
    // The redirect that answers the form's post goes to the client: form-action must allow its origin.
    expect(answer.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:8976; frame-ancestors 'none'",
    );
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
    expect(answer.text).toContain('MCP &#60;Client&#62; &#38; &#34;Co&#34;');
    expect(answer.text).not.toContain('<Client>');
    expect(answer.text).not.toContain('<script>');
    // The state travels signed in the hidden request, and comes back exactly.
    const signedIn = await submit(url, hiddenRequest(answer.text));
    expect(new URL(signedIn.headers.get('location')!).searchParams.get('state')).toBe('"><script>alert(1)</script>');
  });

  it('answers a wrong password with 401 and the form again, without a code', async () => {
    const { url } = await start();
    const request = hiddenRequest((await getForm(url)).text);
    const answer = await submit(url, request, 'wrong');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.text).toContain('The username or password is incorrect.');
    expect(hiddenRequest(answer.text)).toBe(request);
    // The form still works afterwards.
    expect((await submit(url, request)).status).toBe(302);
  });

  it('refuses a forged or expired sign-in request with a 400 page', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const { url } = await start({ clock });
    const request = hiddenRequest((await getForm(url)).text);
    const [header, payload] = request.split('.');
    const forged = await submit(url, `${header}.${payload}.${'A'.repeat(43)}`);
    expect(forged.status).toBe(400);
    expect(forged.headers.get('location')).toBeNull();
    clock.now += 601_000;
    const late = await submit(url, request);
    expect(late.status).toBe(400);
    expect(late.text).toContain('expired');
  });

  it('throttles sign-ins through the login throttle: 429 with Retry-After', async () => {
    const { url } = await start({ options: { throttle: { username: { points: 2, duration: 60 }, address: false } } });
    const request = hiddenRequest((await getForm(url)).text);
    expect((await submit(url, request, 'wrong')).status).toBe(401);
    expect((await submit(url, request, 'wrong')).status).toBe(401);
    const throttled = await submit(url, request);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(throttled.headers.get('location')).toBeNull();
    // The same count as the /token login.
    const login = await post(`${url}/token`, { username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(429);
  });

  it('refuses a wrong verifier, a replayed code, a redirect_uri or client mismatch', async () => {
    const { url } = await start();
    const code = (await codeFor(url)).get('code')!;
    const wrongVerifier = await exchange(url, code, { code_verifier: 'x'.repeat(43) });
    expect(wrongVerifier).toMatchObject({ status: 400, body: { error: 'invalid_grant', code: 'invalid_grant' } });
    expect(wrongVerifier.body.error_description).toMatch(/code_verifier/);
    expect((await exchange(url, code, { redirect_uri: 'http://127.0.0.1:8976/other' })).body.error).toBe('invalid_grant');
    expect(await exchange(url, code, { client_id: 'other' })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await exchange(url, code, { client_id: 'nobody' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await exchange(url, code, { resource: 'https://default.example' })).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect((await exchange(url, code)).status).toBe(200);
    const replayed = await exchange(url, code);
    expect(replayed).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'The code has already been used' } });
    expect(replayed.headers.get('cache-control')).toBe('no-store');
    expect(await exchange(url, 'not-a-code')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await exchange(url, code, { code_verifier: 'short' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const missing = await post(`${url}/token`, new URLSearchParams({ grant_type: 'authorization_code', client_id: 'mcp-client' }));
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request', code: 'missing_field' } });
  });

  it('refuses an expired code (the issuer clock)', async () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
    const { url } = await start({ clock });
    const code = (await codeFor(url)).get('code')!;
    expect(decodeJwt(code).exp! - decodeJwt(code).iat!).toBe(60);
    clock.now += 61_000;
    expect(await exchange(url, code)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'The code is invalid or has expired' } });
  });

  it('keeps the password login at /token, and refuses other grant types', async () => {
    const { url } = await start();
    expect((await post(`${url}/token`, { username: 'alice', password: 'alice-password' })).status).toBe(200);
    expect((await post(`${url}/token`, new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'alice-password' }))).status).toBe(200);
    expect(await post(`${url}/token`, new URLSearchParams({ grant_type: 'client_credentials' }))).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
  });

  it('answers authorization_code as unsupported without the option', async () => {
    const issuer = createTokenIssuer({ key: KEY, issuer: ISSUER });
    server = await serve(createTokenEndpoints<IncomingMessage>({ issuer, verifyCredentials: () => null }));
    const answer = await post(`${server.url}/token`, new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }));
    expect(answer).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect((await fetch(`${server.url}/authorize?${authorizeQuery()}`)).status).toBe(404);
  });

  it('publishes the authorization endpoint in the RFC 8414 metadata only with the option', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const issuer = createTokenIssuer({ key: privateKey, issuer: ISSUER });
    const base = { issuer, verifyCredentials: () => null, publicUrl: 'https://auth.example' };
    const plain = createTokenEndpoints(base).metadata().body as Record<string, unknown>;
    expect(plain).not.toHaveProperty('authorization_endpoint');
    expect(plain.response_types_supported).toEqual([]);
    expect(plain.grant_types_supported).toEqual(['password']);
    const withCode = createTokenEndpoints({ ...base, authorization: { clients: [{ clientId: 'c', redirectUris: [REDIRECT] }] } }).metadata().body;
    expect(withCode).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: 'https://auth.example/authorize',
      token_endpoint: 'https://auth.example/token',
      response_types_supported: ['code'],
      grant_types_supported: ['password', 'authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('checks the option at creation', () => {
    const issuer = createTokenIssuer({ key: KEY, issuer: ISSUER });
    const make =
      (authorization: unknown, tokenIssuer = issuer) =>
      () =>
        createTokenEndpoints({ issuer: tokenIssuer, verifyCredentials: () => null, authorization: authorization as never });
    expect(make({ clients: [] })).toThrow(/"authorization.clients" must be a non-empty array/);
    expect(make({ clients: [{ clientId: 'c', redirectUris: ['http://app.example/cb'] }] })).toThrow(/must be https:\/\//);
    expect(make({ clients: [{ clientId: 'c', redirectUris: ['https://app.example/cb#x'] }] })).toThrow(/must not have a fragment/);
    expect(make({ clients: [{ clientId: 'c', redirectUris: ['/cb'] }] })).toThrow(/must be an absolute URL/);
    expect(
      make({
        clients: [
          { clientId: 'c', redirectUris: [REDIRECT] },
          { clientId: 'c', redirectUris: [REDIRECT] },
        ],
      }),
    ).toThrow(/registered twice/);
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT] }], codeTtl: '1h' })).toThrow(/codeTtl/);
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT] }], resources: ['not a url'] })).toThrow(/resources/);
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT] }] }, createTokenIssuer({ key: KEY }))).toThrow(/"iss" with every code/);
    const noMarks: RevocationStore = { revoke: () => undefined, isRevoked: () => false, rotate: () => ({ outcome: 'revoked' }) };
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT] }] }, createTokenIssuer({ key: KEY, issuer: ISSUER, store: noMarks }))).toThrow(
      TypeError,
    );
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT] }] }, createTokenIssuer({ key: KEY, issuer: ISSUER, store: noMarks }))).toThrow(
      /markUsed/,
    );
    expect(make({ clients: [{ clientId: 'c', redirectUris: [REDIRECT, 'https://app.example/cb'] }] })).not.toThrow();
  });
});
