import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthInfo } from './auth-info.js';
import { createAuthenticator } from './authenticate.js';
import { createClaimGuard, createScopeGuard, type GuardResult } from './guards.js';
import type { JwtAuthOptions } from './options.js';

const SECRET = 'guards-test-secret-0123456789abcdefghij';

/** An `auth` made by a real authenticator, so it carries that authenticator's settings. */
async function authFor(claims: JWTPayload, options: Partial<JwtAuthOptions> = {}): Promise<AuthInfo> {
  const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
  const request = new Request('https://api.example/', { headers: { authorization: `Bearer ${token}` } });
  const result = await createAuthenticator({ secret: SECRET, ...options }).authenticate(request, request);
  if (!result.ok || result.auth === undefined) throw new Error('test token did not authenticate');
  return result.auth;
}

function failed(result: GuardResult) {
  if (result.ok) throw new Error('expected the guard to refuse');
  return result;
}

describe('createScopeGuard', () => {
  it.each<[string, JWTPayload, string[]]>([
    ['a scope string holding the scope', { scope: 'read write' }, ['read']],
    ['a scope string holding every scope', { scope: 'write read admin' }, ['read', 'admin']],
    ['an scp array holding every scope', { scp: ['read', 'write'] }, ['write', 'read']],
    ['URI-like scopes', { scope: 'https://api.example/read orders:write' }, ['orders:write']],
  ])('lets through %s', async (_, claims, scopes) => {
    expect(await createScopeGuard(scopes)(await authFor(claims))).toEqual({ ok: true });
  });

  it.each<[string, JWTPayload, string[]]>([
    ['a token with no scope claim', {}, ['read']],
    ['a scope string missing one scope', { scope: 'read' }, ['read', 'write']],
    ['an scp array missing the scope', { scp: ['read'] }, ['admin']],
    ['a scope that only contains the required one as a substring', { scope: 'readonly' }, ['read']],
    ['a scope differing in case', { scope: 'READ' }, ['read']],
  ])('answers 403 insufficient_scope for %s', async (_, claims, scopes) => {
    const result = failed(await createScopeGuard(scopes)(await authFor(claims)));
    expect(result.error.code).toBe('insufficient_scope');
    expect(result.error.status).toBe(403);
    expect(result.error.error).toBe('insufficient_scope');
    expect(result.forward).toBe(false);
    expect(result.error.headers['WWW-Authenticate']).toMatch(
      new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="${scopes.join(' ')}"$`),
    );
  });

  it('follows the realm and forwardErrors of the authenticator that made auth', async () => {
    const auth = await authFor({ scope: 'read' }, { realm: 'api', forwardErrors: true });
    const result = failed(await createScopeGuard(['admin'])(auth));
    expect(result.forward).toBe(true);
    expect(result.error.headers['WWW-Authenticate']).toMatch(/^Bearer realm="api", error="insufficient_scope", .*scope="admin"$/);
  });

  it('answers 401 missing_token when the request is unauthenticated', async () => {
    const result = failed(await createScopeGuard(['read'])(undefined));
    expect(result.error.code).toBe('missing_token');
    expect(result.error.status).toBe(401);
    expect(result.error.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it.each<[string, unknown[]]>([
    ['no scopes', []],
    ['an empty scope', ['']],
    ['a scope with a space', ['read write']],
    ['a scope with a quote', ['say"hi']],
    ['a scope with a backslash', ['a\\b']],
    ['a scope with a newline', ['read\n']],
    ['a non-ASCII scope', ['lecture\u00e9']],
    ['a number', [5]],
    ['undefined', [undefined]],
  ])('throws a TypeError at creation for %s', (_, scopes) => {
    expect(() => createScopeGuard(scopes)).toThrow(TypeError);
  });
});

describe('createClaimGuard', () => {
  it.each<[string, (payload: JWTPayload) => boolean | Promise<boolean>]>([
    ['a check returning true', (payload) => payload.role === 'admin'],
    ['a check resolving true', async (payload) => payload.role === 'admin'],
  ])('lets through %s', async (_, check) => {
    expect(await createClaimGuard(check)(await authFor({ role: 'admin' }))).toEqual({ ok: true });
  });

  it.each<[string, (payload: JWTPayload) => unknown]>([
    ['returns false', () => false],
    ['resolves false', async () => false],
    ['returns a truthy value that is not true', () => 'yes'],
    ['returns undefined', () => undefined],
  ])('answers 403 insufficient_scope without a scope parameter when the check %s', async (_, check) => {
    const result = failed(await createClaimGuard(check as () => boolean)(await authFor({ role: 'user' })));
    expect(result.error.code).toBe('insufficient_scope');
    expect(result.error.status).toBe(403);
    expect(result.error.headers['WWW-Authenticate']).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+"$/);
  });

  it('passes the payload and the whole auth to the check', async () => {
    const auth = await authFor({ role: 'admin', scope: 'a' });
    const seen: unknown[] = [];
    await createClaimGuard((payload, info) => {
      seen.push(payload, info);
      return true;
    })(auth);
    expect(seen).toEqual([auth.payload, auth]);
  });

  it('answers 401 missing_token when the request is unauthenticated, without calling the check', async () => {
    let called = false;
    const result = failed(await createClaimGuard(() => (called = true))(undefined));
    expect(result.error.code).toBe('missing_token');
    expect(called).toBe(false);
  });

  it('rejects with the very error a throwing check throws', async () => {
    const failure = new Error('policy engine down');
    const guard = createClaimGuard(() => {
      throw failure;
    });
    await expect(guard(await authFor({}))).rejects.toBe(failure);
  });

  it.each<[string, unknown]>([
    ['a string', 'admin'],
    ['undefined', undefined],
    ['an object', { role: 'admin' }],
  ])('throws a TypeError at creation for %s', (_, check) => {
    expect(() => createClaimGuard(check as () => boolean)).toThrow(TypeError);
  });
});

describe('a claim check that rejects with a non-Error', () => {
  it('rejects with an Error, never passing the request', async () => {
    const guard = createClaimGuard(() => Promise.reject(undefined));
    const auth = { token: 't', header: { alg: 'HS256' }, payload: {}, scopes: [] };
    await expect(guard(auth)).rejects.toThrow('jwtAuth: a hook threw a non-Error value (undefined)');
  });
});
