import { SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthResult } from './authenticate.js';
import type { AuthErrorCode } from './errors.js';
import type { JwtAuthOptions } from './options.js';
import type { RequestLike } from './http/request.js';
import { toErrorResponse } from './http/response.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SECRET = 'authenticate-test-secret-0123456789abcdef';
const SECRET_BYTES = new TextEncoder().encode(SECRET);

function sign(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'user-1', iat: NOW_S, exp: NOW_S + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(SECRET_BYTES);
}

function authenticator<User = JWTPayload>(options: Partial<JwtAuthOptions<JWTPayload, User, unknown>> = {}) {
  return createAuthenticator<JWTPayload, User, unknown>({ secret: SECRET, currentDate: () => NOW, ...options });
}

function codeOf(result: AuthResult<JWTPayload, unknown>): AuthErrorCode | 'ok' | 'anonymous' {
  if (!result.ok) return result.error.code;
  return result.auth === undefined ? 'anonymous' : 'ok';
}

const fetchRequest = (headers: HeadersInit = {}, url = 'https://api.example/items', method = 'GET') => new Request(url, { method, headers });

let token: string;
let other: string;
beforeAll(async () => {
  token = await sign({ scope: 'read write' });
  other = await sign({ sub: 'user-2' });
});

describe('reading the Authorization header', () => {
  it.each<[string, () => RequestLike, AuthErrorCode | 'ok', number?]>([
    ['accepts a Fetch Request with a Bearer token', () => fetchRequest({ authorization: `Bearer ${token}` }), 'ok'],
    ['accepts a Node header object', () => ({ headers: { authorization: `Bearer ${token}` } }), 'ok'],
    ['accepts a lowercase scheme', () => fetchRequest({ authorization: `bearer ${token}` }), 'ok'],
    ['accepts a mixed-case scheme and several spaces', () => fetchRequest({ authorization: `BeArEr    ${token}` }), 'ok'],
    ['is not fooled by a client header named "get"', () => ({ headers: { get: 'x', authorization: `Bearer ${token}` } }), 'ok'],
    ['answers 401 missing_token when there is no Authorization header', () => fetchRequest(), 'missing_token', 401],
    ['answers 401 missing_token for the Basic scheme', () => fetchRequest({ authorization: 'Basic dXNlcjpwYXNz' }), 'missing_token', 401],
    ['answers 400 invalid_request when the Bearer token is empty', () => fetchRequest({ authorization: 'Bearer' }), 'malformed_header', 400],
    ['answers 400 invalid_request when only spaces follow Bearer', () => ({ headers: { authorization: 'Bearer    ' } }), 'malformed_header', 400],
    ['answers 400 invalid_request when the token has illegal characters', () => fetchRequest({ authorization: 'Bearer abc"def' }), 'malformed_header', 400],
    [
      'answers 400 invalid_request when the credential has extra parts',
      () => fetchRequest({ authorization: `Bearer ${token} extra` }),
      'malformed_header',
      400,
    ],
    [
      'answers 400 invalid_request for merged credentials "Bearer a, Bearer b"',
      () => fetchRequest({ authorization: `Bearer ${token}, Bearer ${other}` }),
      'multiple_tokens',
      400,
    ],
    [
      'answers 400 invalid_request for two Authorization headers merged by Fetch Headers',
      () => {
        const headers = new Headers();
        headers.append('authorization', `Bearer ${token}`);
        headers.append('authorization', `Bearer ${other}`);
        return { headers };
      },
      'multiple_tokens',
      400,
    ],
    [
      'answers 400 invalid_request for two Authorization headers in a Node header array',
      () => ({ headers: { authorization: [`Bearer ${token}`, `Bearer ${other}`] } }),
      'multiple_tokens',
      400,
    ],
    [
      'answers 400 invalid_request for two Authorization headers in Node rawHeaders',
      () => ({
        headers: { authorization: `Bearer ${token}` },
        rawHeaders: ['Authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`],
      }),
      'multiple_tokens',
      400,
    ],
  ])('%s', async (_, makeRequest, expected, status) => {
    const request = makeRequest();
    const result = await authenticator().authenticate(request, request);
    expect(codeOf(result)).toBe(expected);
    if (status !== undefined && !result.ok) expect(result.error.status).toBe(status);
  });

  it('answers missing_token with a bare challenge (realm only) and error "unauthorized"', async () => {
    const request = fetchRequest();
    const result = await authenticator({ realm: 'api' }).authenticate(request, request);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.error).toBe('unauthorized');
    expect(result.error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"' });
  });

  it('answers a bad token with the realm and error parameters in the challenge', async () => {
    const request = fetchRequest({ authorization: 'Bearer a.b.c' });
    const result = await authenticator({ realm: 'api' }).authenticate(request, request);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.headers['WWW-Authenticate']).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
  });
});

describe('a successful authentication', () => {
  it('returns the token, header, payload and scopes, and the payload as user', async () => {
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    const result = await authenticator().authenticate(request, request);
    expect(result.ok).toBe(true);
    if (!result.ok || result.auth === undefined) return;
    expect(result.auth.token).toBe(token);
    expect(result.auth.header).toEqual({ alg: 'HS256' });
    expect(result.auth.payload).toMatchObject({ sub: 'user-1', scope: 'read write' });
    expect(result.auth.scopes).toEqual(['read', 'write']);
    expect(result.user).toBe(result.auth.payload);
    expect(Object.keys(result.auth).sort()).toEqual(['header', 'payload', 'scopes', 'token']);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['a space-separated scope string', { scope: 'a  b c' }, ['a', 'b', 'c']],
    ['an scp array', { scp: ['a', 'b'] }, ['a', 'b']],
    ['an scp string', { scp: 'a b' }, ['a', 'b']],
    ['scope taking precedence over scp', { scope: 'a', scp: ['b'] }, ['a']],
    ['no scope claim', {}, []],
  ])('parses scopes from %s', async (_, claims, scopes) => {
    const request = fetchRequest({ authorization: `Bearer ${await sign(claims)}` });
    const result = await authenticator().authenticate(request, request);
    expect(result.ok && result.auth?.scopes).toEqual(scopes);
  });

  it('hands the authenticator respond() the same answer as toErrorResponse', () => {
    expect(authenticator().respond).toBe(toErrorResponse);
  });
});

describe('credentialsRequired: false', () => {
  it.each<[string, () => RequestLike, AuthErrorCode | 'ok' | 'anonymous']>([
    ['lets a request without a token through unauthenticated', () => fetchRequest(), 'anonymous'],
    ['lets a request with another scheme through unauthenticated', () => fetchRequest({ authorization: 'Basic dXNlcjpwYXNz' }), 'anonymous'],
    ['still authenticates a good token', () => fetchRequest({ authorization: `Bearer ${token}` }), 'ok'],
    ['still fails a bad token', () => fetchRequest({ authorization: 'Bearer a.b.c' }), 'malformed_token'],
    ['still fails a malformed header', () => fetchRequest({ authorization: 'Bearer' }), 'malformed_header'],
  ])('%s', async (_, makeRequest, expected) => {
    const request = makeRequest();
    const result = await authenticator({ credentialsRequired: false }).authenticate(request, request);
    expect(codeOf(result)).toBe(expected);
    if (expected === 'anonymous') expect(result).toEqual({ ok: true, auth: undefined, user: undefined });
  });
});

describe('tokenFrom', () => {
  const from = { header: true, cookie: 'access_token', query: 'access_token' };
  it.each<[string, JwtAuthOptions['tokenFrom'], () => RequestLike, AuthErrorCode | 'ok']>([
    ['reads a cookie', from, () => fetchRequest({ cookie: `theme=dark; access_token=${token}` }), 'ok'],
    ['reads a quoted cookie value', from, () => fetchRequest({ cookie: `access_token="${token}"` }), 'ok'],
    ['reads a query parameter of a Fetch URL', from, () => fetchRequest({}, `https://api.example/items?access_token=${token}`), 'ok'],
    ['reads a query parameter of a Node path', from, () => ({ url: `/items?x=1&access_token=${token}#frag`, headers: {} }), 'ok'],
    [
      'answers multiple_tokens for a header and a cookie',
      from,
      () => fetchRequest({ authorization: `Bearer ${token}`, cookie: `access_token=${token}` }),
      'multiple_tokens',
    ],
    [
      'answers multiple_tokens for a cookie and a query parameter',
      from,
      () => fetchRequest({ cookie: `access_token=${token}` }, `https://api.example/?access_token=${token}`),
      'multiple_tokens',
    ],
    [
      'answers multiple_tokens for two query parameters',
      from,
      () => fetchRequest({}, `https://api.example/?access_token=${token}&access_token=${other}`),
      'multiple_tokens',
    ],
    [
      'answers multiple_tokens for two cookies of the name',
      from,
      () => fetchRequest({ cookie: `access_token=${token}; access_token=${other}` }),
      'multiple_tokens',
    ],
    ['answers malformed_token for a cookie value that cannot be a token', from, () => fetchRequest({ cookie: 'access_token=a%20b' }), 'malformed_token'],
    [
      'answers malformed_token for a query value that cannot be a token',
      from,
      () => fetchRequest({}, 'https://api.example/?access_token=a%20b'),
      'malformed_token',
    ],
    ['ignores other cookies', from, () => fetchRequest({ cookie: `other=${token}` }), 'missing_token'],
    ['ignores an empty query value', from, () => fetchRequest({}, 'https://api.example/?access_token='), 'missing_token'],
    ['does not read the query unless enabled', { header: true }, () => fetchRequest({}, `https://api.example/?access_token=${token}`), 'missing_token'],
    ['does not read cookies unless enabled', undefined, () => fetchRequest({ cookie: `access_token=${token}` }), 'missing_token'],
    [
      'ignores the Authorization header when header is false',
      { header: false, cookie: 'at' },
      () => fetchRequest({ authorization: `Bearer ${token}` }),
      'missing_token',
    ],
    [
      'reads only the cookie when header is false',
      { header: false, cookie: 'at' },
      () => fetchRequest({ authorization: 'Bearer', cookie: `at=${token}` }),
      'ok',
    ],
  ])('%s', async (_, tokenFrom, makeRequest, expected) => {
    const request = makeRequest();
    const options = tokenFrom === undefined ? {} : { tokenFrom };
    expect(codeOf(await authenticator(options).authenticate(request, request))).toBe(expected);
  });
});

describe('getToken', () => {
  it('verifies the token it returns and receives the framework request', async () => {
    const frameworkRequest = { custom: true };
    const seen: unknown[] = [];
    const auth = authenticator({
      getToken: (request) => {
        seen.push(request);
        return token;
      },
    });
    const result = await auth.authenticate(fetchRequest(), frameworkRequest);
    expect(codeOf(result)).toBe('ok');
    expect(seen).toEqual([frameworkRequest]);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('answers missing_token when it returns %s', async (_, returned) => {
    const auth = authenticator({ getToken: async () => returned as undefined });
    expect(codeOf(await auth.authenticate(fetchRequest({ authorization: `Bearer ${token}` }), null))).toBe('missing_token');
  });

  it('answers malformed_token when it returns garbage', async () => {
    expect(codeOf(await authenticator({ getToken: () => 'not a jwt' }).authenticate(fetchRequest(), null))).toBe('malformed_token');
  });

  it('rejects with the very error it throws', async () => {
    const failure = new Error('boom');
    await expect(
      authenticator({
        getToken: () => {
          throw failure;
        },
      }).authenticate(fetchRequest(), null),
    ).rejects.toBe(failure);
  });
});

describe('CORS preflight: authenticated like any other request', () => {
  it.each<[string, () => RequestLike, AuthErrorCode | 'anonymous']>([
    [
      'refuses an OPTIONS request with Access-Control-Request-Method and no token',
      () => fetchRequest({ 'access-control-request-method': 'POST' }, undefined, 'OPTIONS'),
      'missing_token',
    ],
    ['refuses a Node preflight without a token', () => ({ method: 'options', headers: { 'access-control-request-method': 'DELETE' } }), 'missing_token'],
    [
      'refuses a preflight with a bad Authorization header',
      () => ({ method: 'OPTIONS', headers: { authorization: 'Bearer', 'access-control-request-method': 'GET' } }),
      'malformed_header',
    ],
    ['refuses a plain OPTIONS request', () => fetchRequest({}, undefined, 'OPTIONS'), 'missing_token'],
    ['does not pass a GET with Access-Control-Request-Method', () => fetchRequest({ 'access-control-request-method': 'GET' }), 'missing_token'],
  ])('%s', async (_, makeRequest, expected) => {
    const request = makeRequest();
    expect(codeOf(await authenticator().authenticate(request, request))).toBe(expected);
  });
});

describe('isRevoked', () => {
  it.each<[string, JwtAuthOptions['isRevoked'], AuthErrorCode | 'ok']>([
    ['answers token_revoked when it returns true', () => true, 'token_revoked'],
    ['answers token_revoked when it resolves true', async () => true, 'token_revoked'],
    ['accepts the token when it returns false', () => false, 'ok'],
    ['accepts the token when it resolves false', async () => false, 'ok'],
  ])('%s', async (_, isRevoked, expected) => {
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    expect(codeOf(await authenticator({ isRevoked }).authenticate(request, request))).toBe(expected);
  });

  it('receives the verified payload and header', async () => {
    const calls: unknown[][] = [];
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    await authenticator({
      isRevoked: (payload, header) => {
        calls.push([payload.sub, header.alg]);
        return false;
      },
    }).authenticate(request, request);
    expect(calls).toEqual([['user-1', 'HS256']]);
  });

  it('is not asked about a token that failed verification', async () => {
    let called = false;
    const request = fetchRequest({ authorization: 'Bearer a.b.c' });
    await authenticator({ isRevoked: () => (called = true) }).authenticate(request, request);
    expect(called).toBe(false);
  });

  it('rejects with the very error it throws', async () => {
    const failure = new Error('revocation store down');
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    await expect(
      authenticator({
        isRevoked: async () => {
          throw failure;
        },
      }).authenticate(request, request),
    ).rejects.toBe(failure);
  });
});

describe('resolveUser', () => {
  it('returns what it resolves as the user, given the payload and the framework request', async () => {
    const frameworkRequest = { id: 'req-1' };
    const seen: unknown[][] = [];
    const auth = authenticator<{ id: string }>({
      resolveUser: async (payload, request) => {
        seen.push([payload.sub, request]);
        return { id: String(payload.sub) };
      },
    });
    const result = await auth.authenticate(fetchRequest({ authorization: `Bearer ${token}` }), frameworkRequest);
    expect(result.ok && result.user).toEqual({ id: 'user-1' });
    expect(seen).toEqual([['user-1', frameworkRequest]]);
  });

  it.each<[string, () => unknown]>([
    ['returns null', () => null],
    ['resolves null', async () => null],
    ['returns undefined', () => undefined],
  ])('answers user_not_found when it %s', async (_, resolveUser) => {
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    const result = await authenticator({ resolveUser: resolveUser as () => null }).authenticate(request, request);
    expect(codeOf(result)).toBe('user_not_found');
    expect(!result.ok && result.error.status).toBe(401);
  });

  it('rejects with the very error it throws', async () => {
    const failure = new Error('database down');
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    await expect(
      authenticator({
        resolveUser: () => {
          throw failure;
        },
      }).authenticate(request, request),
    ).rejects.toBe(failure);
  });
});

describe('failure descriptions', () => {
  it.each<[string, () => Promise<string>, Partial<JwtAuthOptions>]>([
    ['an expired token', () => sign({ exp: NOW_S - 10 }), {}],
    ['a wrong signature', async () => (await sign()).slice(0, -3) + 'AAA', {}],
    ['an unknown issuer', () => sign({ iss: 'https://evil.example' }), { issuer: 'https://good.example' }],
    ['a missing required claim', () => sign(), { requiredClaims: ['tenant'] }],
    ['a wrong typ', () => sign(), { typ: 'at+jwt' }],
    ['a garbage token', async () => 'a.b.c', {}],
    ['a revoked token', () => sign(), { isRevoked: () => true }],
    ['a refresh token', () => sign({ token_type: 'refresh' }), {}],
    ['a missing required claim with a long name', () => sign(), { requiredClaims: ['x'.repeat(100)] }],
  ])('never contain the token or the secret for %s', async (_, makeToken, options) => {
    const raw = await makeToken();
    const request = fetchRequest({ authorization: `Bearer ${raw}` });
    const result = await authenticator(options).authenticate(request, request);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const sent = JSON.stringify([result.error.description, result.error.message, result.error.headers, toErrorResponse(result.error).body]);
    for (const part of raw.split('.').filter((segment) => segment.length > 3)) expect(sent).not.toContain(part);
    expect(sent).not.toContain(SECRET);
    expect(sent).not.toMatch(/\n\s+at /);
  });
});

describe('hooks fail closed', () => {
  const request = () => fetchRequest({ Authorization: `Bearer ${token}` });

  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'undefined'],
    ['null', null, 'object'],
    ['the string route (next("route") in Express)', 'route', 'string'],
  ])('wraps a resolveUser that throws %s in an Error', async (_, thrown, type) => {
    const failing = authenticator({
      resolveUser: () => {
        throw thrown;
      },
    });
    const rejection = await failing.authenticate(request(), null).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(rejection).toBeInstanceOf(Error);
    expect((rejection as Error).message).toBe(`jwtAuth: a hook threw a non-Error value (${type})`);
    expect((rejection as Error).cause).toBe(thrown);
  });

  it('passes an Error thrown by a hook through unchanged', async () => {
    const error = new Error('store down');
    const failing = authenticator({ isRevoked: () => Promise.reject(error) });
    await expect(failing.authenticate(request(), null)).rejects.toBe(error);
  });

  it.each<[string, unknown, AuthErrorCode | 'ok']>([
    ['a revocation record', { jti: 'x' }, 'token_revoked'],
    ['1', 1, 'token_revoked'],
    ['false', false, 'ok'],
    ['undefined', undefined, 'ok'],
  ])('treats isRevoked returning %s as revoked when truthy', async (_, answer, expected) => {
    const checked = authenticator({ isRevoked: () => answer as boolean });
    expect(codeOf(await checked.authenticate(request(), null))).toBe(expected);
  });

  it('answers user_not_found when resolveUser returns false', async () => {
    const checked = authenticator<unknown>({ resolveUser: () => false });
    expect(codeOf(await checked.authenticate(request(), null))).toBe('user_not_found');
  });
});

describe('the cause of key_unavailable', () => {
  it('keeps why the keys could not be had on the AuthError, never in its JSON', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const authenticator = createAuthenticator({
      jwks: { uri: 'https://idp.example/jwks.json' },
      fetch: () => Promise.reject(refused),
      currentDate: () => NOW,
    });
    const token = await new SignJWT({ exp: NOW_S + 60 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .sign(
        (
          await crypto.subtle.generateKey(
            { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
            false,
            ['sign', 'verify'],
          )
        ).privateKey,
      );
    const request = fetchRequest({ authorization: `Bearer ${token}` });
    const result = await authenticator.authenticate(request, request);
    if (result.ok) throw new Error('expected key_unavailable');
    expect(result.error.code).toBe('key_unavailable');
    const cause = result.error.cause as Error;
    expect(cause.message).toContain('https://idp.example/jwks.json');
    expect(cause.cause).toBe(refused);
    expect(JSON.stringify(result.error)).not.toContain('idp.example');
  });
});
