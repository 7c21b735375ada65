import { describe, expect, it } from 'vitest';
import { canonicalPathOf, compilePath, isCanonicalPath, suggestCanonical } from './path-match.js';

describe('canonicalPathOf', () => {
  it.each<[string, string]>([
    ['/public', '/public'],
    ['/public?x=/admin', '/public'],
    ['/public#/admin', '/public'],
    ['/', '/'],
    ['/public/', '/public/'],
    ['/PUBLIC', '/PUBLIC'],
    ['//public', '//public'],
    ['/caf%C3%A9', '/caf%C3%A9'],
    ['/a%20b', '/a%20b'],
    ["/a-b_c.d~e!$&'()*+,=:@", "/a-b_c.d~e!$&'()*+,=:@"],
    ['/.well-known/jwks.json', '/.well-known/jwks.json'],
    ['/...', '/...'],
    ['https://api.example/public?q', '/public'],
    ['http://api.example', '/'],
    ['HTTP://api.example:8080/a/b', '/a/b'],
    ['http://api.example?x=1', '/'],
  ])('reads %s as %s', (url, path) => {
    expect(canonicalPathOf(url)).toBe(path);
  });

  it.each<[string, string]>([
    ['a dot-dot segment', '/public/../admin'],
    ['a trailing dot-dot segment', '/public/..'],
    ['a dot segment', '/public/./admin'],
    ['an encoded dot-dot segment', '/public/%2e%2e/admin'],
    ['an upper-case encoded dot-dot segment', '/public/%2E%2E/admin'],
    ['a half-encoded dot-dot segment', '/public/.%2e/admin'],
    ['an encoded dot', '/public/%2e/admin'],
    ['an encoded slash', '/public%2Fadmin'],
    ['a lower-case encoded slash', '/public%2fadmin'],
    ['a backslash', '/public\\..\\admin'],
    ['an encoded backslash', '/public%5C..%5Cadmin'],
    ['a double encoding', '/public/%252e%252e/admin'],
    ['an encoded letter', '/p%75blic'],
    ['an encoded digit', '/v%31'],
    ['an encoded hyphen, underscore and tilde', '/a%2Db%5Fc%7E'],
    ['a lower-case escape', '/caf%c3%a9'],
    ['a truncated escape', '/a%2'],
    ['a bare percent sign', '/100%'],
    ['a semicolon (Fastify 4 ends the path there)', '/admin;/public'],
    ['a space', '/a b'],
    ['a tab', '/a\tb'],
    ['a non-ASCII character', '/café'],
    ['a quote', '/a"b'],
    ['braces', '/a{b}'],
    ['no leading slash', 'public'],
    ['an asterisk-form target', '*'],
    ['an unknown scheme', 'ftp://host/public'],
    ['a protocol-relative target', '//host/../admin'],
    ['an absolute URL with a dot-dot segment', 'http://api.example/public/../admin'],
    ['an absolute URL with a backslash', 'http://api.example\\public'],
  ])('refuses %s', (_, url) => {
    expect(canonicalPathOf(url)).toBeUndefined();
  });

  it('has no path without a URL', () => {
    expect(canonicalPathOf(undefined)).toBeUndefined();
  });

  it('accepts only paths that WHATWG URL resolution leaves as they are', () => {
    // Every one of these is its own resolved form; isCanonicalPath must never accept a path the
    // URL parser would change (the property test in test/unless.test.ts tries many more).
    for (const path of ['/a/b', '/a//b', '/a/b/', "/!$&'()*+,=:@-._~", '/%C3%A9', '/%20', '/...', '/.a', '/a.']) {
      expect(isCanonicalPath(path)).toBe(true);
      expect(new URL(`http://localhost${path}`).pathname).toBe(path);
    }
  });
});

describe('compilePath', () => {
  const matches = (pattern: string | RegExp, path: string) => compilePath(pattern, '"unless.path"')(path);

  it.each<[string, string, boolean]>([
    ['/public', '/public', true],
    ['/public', '/public/', false],
    ['/public', '/Public', false],
    ['/public', '/public/x', false],
    ['/public/', '/public', false],
    ['/public/*', '/public/a', true],
    ['/public/*', '/public/', false],
    ['/public/*', '/public/a/b', false],
    ['/public/*', '/public', false],
    ['/*/info', '/v1/info', true],
    ['/*/info', '//info', false],
    ['/assets/*.css', '/assets/site.css', true],
    ['/assets/*.css', '/assets/.css', false],
    ['/assets/*.css', '/assets/site.css/x', false],
    ['/assets/*.css', '/assets/site.js', false],
    ['/a*b*c', '/abbbc', true],
    ['/a*b*c', '/abc', false],
    ['/public/**', '/public', true],
    ['/public/**', '/public/', true],
    ['/public/**', '/public/a/b/c', true],
    ['/public/**', '/publicity', false],
    ['/public/**', '/other/public/a', false],
    ['/**/health', '/health', true],
    ['/**/health', '/a/b/health', true],
    ['/**/health', '/a/b/health/x', false],
    ['/**/*.js', '/static/app.js', true],
    ['/**/*.js', '/app.js', true],
    ['/**/*.js', '/app.json', false],
    ['/a/**/b/**/c', '/a/x/b/y/z/c', true],
    ['/a/**/b/**/c', '/a/c', false],
    ['/**', '/', true],
    ['/**', '/anything/at/all', true],
    ['/a/**/**/b', '/a/b', true],
    ['/$(x)+', '/$(x)+', true],
    ['/$(x)+', '/$(x)', false],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(matches(pattern, path)).toBe(expected);
  });

  it('tests a RegExp against the path, the same way every time despite a g or y flag', () => {
    const matcher = compilePath(/^\/public\//gy, 'x');
    expect([matcher('/public/a'), matcher('/public/a'), matcher('/public/a')]).toEqual([true, true, true]);
    expect(matcher('/admin/public/')).toBe(false);
  });

  it('matches a 16 KB path against a pattern of many wildcards at once', () => {
    // A backtracking RegExp would take exponential time here; the greedy matcher is linear-ish.
    const path = `/${'a/'.repeat(8000)}`;
    const segment = `/${'a'.repeat(16_000)}`;
    const started = Date.now();
    expect(matches('/**/a/**/a/**/a/**/b', path)).toBe(false);
    expect(matches('/*a*a*a*a*a*a*a*b', segment)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it.each<[string, unknown, string]>([
    ['a number', 42, 'must be a path string, a RegExp or { url, method }'],
    ['a path without a leading slash', 'public', 'must be a path starting with "/"'],
    ['a path with a query', '/public?x=1', 'without a query or fragment'],
    ['a path with a fragment', '/public#x', 'without a query or fragment'],
    ['a partial globstar', '/public/**.js', '"**" must be a whole segment'],
    ['a dot-dot segment', '/public/../admin', 'write "/admin"'],
    ['an encoded letter', '/p%75blic', 'write "/public"'],
    ['a lower-case escape', '/caf%c3%a9', 'write "/caf%C3%A9"'],
    ['a non-ASCII character', '/café', 'write "/caf%C3%A9"'],
    ['a space', '/a b', 'write "/a%20b"'],
    ['a semicolon', '/a;b', 'is not a canonical path'],
    ['an encoded slash', '/a%2Fb', 'is not a canonical path'],
  ])('refuses %s, saying what to write', (_, pattern, message) => {
    expect(() => compilePath(pattern, '"unless.path"')).toThrow(message);
  });
});

describe('suggestCanonical', () => {
  it('keeps wildcards', () => {
    expect(suggestCanonical('/public/./**/*.css')).toBe('/public/**/*.css');
  });
});
