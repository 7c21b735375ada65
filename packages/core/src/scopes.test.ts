import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import type { JwtAuthOptions } from './options.js';
import { parseScopes } from './scopes.js';

const SECRET = 'scopes-test-secret-0123456789abcdef-0123456789ab';
const now = () => Math.floor(Date.now() / 1000);

async function scopesOf(claims: Record<string, unknown>, options: Partial<JwtAuthOptions> = {}): Promise<string[] | string> {
  const token = await new SignJWT({ exp: now() + 60, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  const request = new Request('https://api.example/', { headers: { authorization: `Bearer ${token}` } });
  const result = await createAuthenticator({ secret: SECRET, ...options }).authenticate(request, request);
  if (!result.ok) return result.error.code;
  return result.auth!.scopes;
}

describe('scopes from the default claims (scope, then scp)', () => {
  it.each<[string, Record<string, unknown>, string[] | string]>([
    ['a space-separated scope', { scope: 'read  write' }, ['read', 'write']],
    ['a scope array', { scope: ['read', 'write'] }, ['read', 'write']],
    ['an scp array (Okta)', { scp: ['read', 'write'] }, ['read', 'write']],
    ['an scp string (Azure AD)', { scp: 'User.Read Mail.Send' }, ['User.Read', 'Mail.Send']],
    ['scope before scp', { scope: 'a', scp: ['b'] }, ['a']],
    ['no scope claim', {}, []],
    ['repeated scopes once', { scope: ['a', 'b', 'a', ''] }, ['a', 'b']],
    ['an empty scope array', { scope: [] }, []],
    ['a scope number', { scope: 42 }, 'claim_invalid'],
    ['a scope object', { scope: { admin: true } }, 'claim_invalid'],
    ['a null scope', { scope: null }, 'claim_invalid'],
    ['a scope array holding a number', { scope: ['read', 1] }, 'claim_invalid'],
    ['an scp array holding an array', { scp: [['admin']] }, 'claim_invalid'],
  ])('reads %s', async (_, claims, expected) => {
    expect(await scopesOf(claims)).toEqual(expected);
  });
});

describe('scopeClaim', () => {
  it.each<[string, string | string[], Record<string, unknown>, string[] | string]>([
    ['Auth0 permissions', 'permissions', { scope: 'openid', permissions: ['read:orders', 'write:orders'] }, ['read:orders', 'write:orders']],
    ['a claim missing from the token', 'permissions', { scope: 'openid' }, []],
    ['only the named claims: a bad scope is not read', 'permissions', { scope: 42, permissions: ['a'] }, ['a']],
    ['the first claim the token has', ['permissions', 'scope'], { scope: 'b' }, ['b']],
    ['the first claim before the next', ['permissions', 'scope'], { scope: 'b', permissions: 'a' }, ['a']],
    ['a named claim of another type', 'permissions', { permissions: true }, 'claim_invalid'],
    ['a name Object.prototype has', 'constructor', {}, []],
  ])('reads %s', async (_, scopeClaim, claims, expected) => {
    expect(await scopesOf(claims, { scopeClaim })).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['an empty array', []],
    ['a number', 1],
    ['an array holding an empty name', ['scope', '']],
  ])('refuses %s at creation', (_, scopeClaim) => {
    const create = () => createAuthenticator({ secret: SECRET, scopeClaim } as JwtAuthOptions);
    expect(create).toThrow(TypeError);
    expect(create).toThrow('"scopeClaim" must be a claim name such as "permissions", or a non-empty array of them.');
  });

  it('suggests scopeClaim for scopeClaims', () => {
    expect(() => createAuthenticator({ secret: SECRET, scopeClaims: ['scp'] } as JwtAuthOptions)).toThrow('did you mean "scopeClaim"?');
  });
});

describe('parseScopes', () => {
  it('reads scope, then scp, by default, and the claims it is given', () => {
    expect(parseScopes({ scp: ['a'] })).toEqual(['a']);
    expect(parseScopes({ roles: 'x y' }, ['roles'])).toEqual(['x', 'y']);
    expect(parseScopes({ scope: 1 })).toBeUndefined();
  });
});
