import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthResult } from '../authenticate.js';
import type { AuthEvent } from '../events.js';
import type { JwtAuthOptions } from '../options.js';
import type { RequestLike } from './request.js';

const SECRET = 'unless-test-secret-0123456789abcdef-0123456789';

type Options = Partial<JwtAuthOptions<never, unknown, { tag: string }>>;
const authenticator = (options: Options) => createAuthenticator({ secret: SECRET, ...options });
const request = (url: string, method = 'GET', headers: Record<string, string> = {}): RequestLike => ({ method, url, headers });
const TAG = { tag: 'framework request' };

function outcome(result: AuthResult<never, unknown>): string {
  if (!result.ok) return result.error.code;
  return result.auth === undefined ? 'skipped' : 'ok';
}

async function check(options: Options, url: string, method = 'GET', headers: Record<string, string> = {}) {
  return outcome(await authenticator(options).authenticate(request(url, method, headers), TAG));
}

describe('unless: paths', () => {
  const options: Options = { unless: { path: ['/health', '/public/**', /^\/docs(\/|$)/, { url: '/signup', method: ['POST'] }] } };

  it.each<[string, string, string]>([
    ['an exact path', '/health', 'skipped'],
    ['an exact path with a query', '/health?verbose=1', 'skipped'],
    ['an exact path as a Fetch URL', 'https://api.example/health', 'skipped'],
    ['a glob', '/public/a/b', 'skipped'],
    ['the root of a globstar', '/public', 'skipped'],
    ['a RegExp', '/docs/intro', 'skipped'],
    ['a path with the method it is limited to', '/signup', 'missing_token'],
    ['another path', '/admin', 'missing_token'],
    ['a trailing slash the exact path lacks', '/health/', 'missing_token'],
    ['another case', '/HEALTH', 'missing_token'],
    ['a doubled slash', '//health', 'missing_token'],
    ['a path that only resolves to an excluded one', '/admin/../health', 'missing_token'],
    ['an excluded path dressed up to reach another one', '/public/../admin', 'missing_token'],
    ['an encoded dot-dot', '/public/%2e%2e/admin', 'missing_token'],
    ['an encoded slash', '/public%2F..%2Fadmin', 'missing_token'],
    ['a double encoding', '/public/%252e%252e/admin', 'missing_token'],
    ['an encoded letter', '/h%65alth', 'missing_token'],
    ['a backslash', '/public\\..\\admin', 'missing_token'],
    ['a semicolon', '/admin;/public/x', 'missing_token'],
    ['an excluded path in the query only', '/admin?next=/health', 'missing_token'],
    ['an excluded path in the fragment only', '/admin#/health', 'missing_token'],
  ])('%s (%s): %s', async (_, url, expected) => {
    expect(await check(options, url)).toBe(expected);
  });

  it('skips a path limited to a method only for that method', async () => {
    expect(await check(options, '/signup', 'POST')).toBe('skipped');
    expect(await check(options, '/signup', 'PUT')).toBe('missing_token');
  });

  it('reads no token on a skipped request: a bad one does not fail it', async () => {
    expect(await check(options, '/health', 'GET', { authorization: 'Bearer not-a-jwt' })).toBe('skipped');
    const result = await authenticator(options).authenticate(request('/health', 'GET', { authorization: 'Bearer x' }), TAG);
    expect(result).toEqual({ ok: true, auth: undefined, user: undefined });
  });

  it('still authenticates a token on a path that is not skipped', async () => {
    const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    expect(await check(options, '/admin', 'GET', { authorization: `Bearer ${token}` })).toBe('ok');
  });

  it('reports nothing to onEvent for a skipped request', async () => {
    const events: AuthEvent[] = [];
    const auth = authenticator({ ...options, onEvent: (event) => events.push(event) });
    await auth.authenticate(request('/health'), TAG);
    await auth.authenticate(request('/admin'), TAG);
    expect(events.map((event) => event.type === 'auth.failed' && event.code)).toEqual(['missing_token']);
  });
});

describe('unless: methods', () => {
  it('skips every path for the listed methods, compared in upper case', async () => {
    const options: Options = { unless: { method: ['options', 'HEAD'] } };
    expect(await check(options, '/admin', 'OPTIONS')).toBe('skipped');
    expect(await check(options, '/admin', 'HEAD')).toBe('skipped');
    expect(await check(options, '/admin', 'GET')).toBe('missing_token');
  });

  it('reads the request method only, never a method-override header or parameter', async () => {
    const options: Options = { unless: { method: 'OPTIONS' } };
    for (const header of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
      expect(await check(options, '/admin', 'GET', { [header]: 'OPTIONS' })).toBe('missing_token');
    }
    expect(await check(options, '/admin?_method=OPTIONS', 'GET')).toBe('missing_token');
  });
});

describe('unless: predicates', () => {
  it('skips when custom returns true, handing it the framework request', async () => {
    const seen: unknown[] = [];
    const options: Options = {
      unless: {
        custom: (req) => {
          seen.push(req);
          return true;
        },
      },
    };
    expect(await check(options, '/admin')).toBe('skipped');
    expect(seen).toEqual([TAG]);
  });

  it.each<[string, unknown, string]>([
    ['true', true, 'skipped'],
    ['a promise of true', Promise.resolve(true), 'skipped'],
    ['false', false, 'missing_token'],
    ['a truthy non-boolean', 'yes', 'missing_token'],
    ['1', 1, 'missing_token'],
    ['a promise of a truthy object', Promise.resolve({}), 'missing_token'],
  ])('a predicate returning %s: %s', async (_, returned, expected) => {
    const predicate = () => returned as boolean;
    expect(await check({ unless: predicate }, '/admin')).toBe(expected);
    expect(await check({ unless: { custom: predicate } }, '/admin')).toBe(expected);
  });

  it('sends what a predicate throws or rejects with to the error path', async () => {
    const boom = new Error('predicate exploded');
    await expect(
      authenticator({
        unless: () => {
          throw boom;
        },
      }).authenticate(request('/a'), TAG),
    ).rejects.toBe(boom);
    await expect(authenticator({ unless: { custom: () => Promise.reject(boom) } }).authenticate(request('/a'), TAG)).rejects.toBe(boom);
  });

  it('skips when any of path, method or custom matches', async () => {
    const options: Options = { unless: { path: '/a', method: 'OPTIONS', custom: (req) => req.tag === 'other' } };
    expect(await check(options, '/a')).toBe('skipped');
    expect(await check(options, '/b', 'OPTIONS')).toBe('skipped');
    expect(await check(options, '/b')).toBe('missing_token');
    const result = await authenticator(options).authenticate(request('/b'), { tag: 'other' });
    expect(outcome(result)).toBe('skipped');
  });
});

describe('unless: configuration', () => {
  it.each<[string, unknown, string]>([
    ['a string', '/public', '"unless" must be { path, method, custom } or a function'],
    ['an array', ['/public'], '"unless" must be { path, method, custom } or a function'],
    ['a RegExp', /x/, '"unless" must be { path, method, custom } or a function'],
    ['null', null, '"unless" must be { path, method, custom } or a function'],
    ['an empty object', {}, '"unless" skips nothing'],
    ['an unknown key', { paths: ['/a'] }, 'unknown key "paths" in "unless"'],
    ['express-unless ext', { ext: 'css' }, 'glob such as "/**/*.css"'],
    ['express-unless useOriginalUrl', { path: '/a', useOriginalUrl: false }, 'always matched on the full original URL'],
    ['methods at the top', { methods: ['GET'] }, 'did you mean "method"?'],
    ['an empty path array', { path: [] }, 'name at least one path'],
    ['a relative path', { path: 'public' }, '"unless.path" "public" must be a path starting with "/"'],
    ['a bad path in an array', { path: ['/a', '/b/../c'] }, '"unless.path[1]" "/b/../c" is not a canonical path'],
    ['a number as path', { path: [1] }, '"unless.path[0]" must be a path string'],
    ['methods in a path entry', { path: { url: '/a', methods: ['GET'] } }, 'unknown key "methods" in "unless.path"; did you mean "method"?'],
    ['a path entry without url', { path: { method: 'GET' } }, '"unless.path.url" must be a path string'],
    ['a bad method in a path entry', { path: { url: '/a', method: 'GET POST' } }, '"unless.path.method" must be a method name'],
    ['an empty method list', { method: [] }, '"unless.method" must be a method name'],
    ['a method that is not a token', { method: 'GE T' }, '"unless.method" must be a method name'],
    ['custom that is not a function', { custom: true }, '"unless.custom" must be a function'],
  ])('refuses %s at creation', (_, unless, message) => {
    expect(() => authenticator({ unless } as Options)).toThrow(TypeError);
    expect(() => authenticator({ unless } as Options)).toThrow(message);
  });
});
