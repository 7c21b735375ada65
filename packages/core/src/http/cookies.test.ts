import { describe, expect, it } from 'vitest';
import { clearRefreshCookie, readCookie, refreshCookie } from './cookies.js';

const request = (cookie?: string | string[]) => ({ headers: cookie === undefined ? {} : { cookie } });

describe('refreshCookie', () => {
  it('is HttpOnly, Secure, SameSite=Strict and limited to the refresh path', () => {
    expect(refreshCookie('a.b.c', { maxAge: 86400 })).toBe('refresh_token=a.b.c; Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict');
  });

  it('takes another name and path, and can drop Secure for plain-HTTP development', () => {
    expect(refreshCookie('a.b.c', { maxAge: 60, name: 'rt', path: '/auth', secure: false })).toBe('rt=a.b.c; Path=/auth; Max-Age=60; HttpOnly; SameSite=Strict');
  });

  it('is deleted by clearRefreshCookie', () => {
    expect(clearRefreshCookie()).toBe('refresh_token=; Path=/api/token; Max-Age=0; HttpOnly; Secure; SameSite=Strict');
  });

  it.each<[string, () => string]>([
    ['a token with a semicolon', () => refreshCookie('a;b', { maxAge: 1 })],
    ['a negative max age', () => refreshCookie('a.b.c', { maxAge: -1 })],
    ['a name with a space', () => refreshCookie('a.b.c', { maxAge: 1, name: 'a b' })],
    ['a path with a semicolon', () => refreshCookie('a.b.c', { maxAge: 1, path: '/a;b' })],
  ])('refuses %s', (_, make) => {
    expect(make).toThrow(TypeError);
  });
});

describe('readCookie', () => {
  it.each<[string, string | string[] | undefined, string | undefined]>([
    ['a single cookie', 'refresh_token=abc', 'abc'],
    ['a cookie among others', 'theme=dark; refresh_token=abc; lang=en', 'abc'],
    ['a quoted value', 'refresh_token="abc"', 'abc'],
    ['no Cookie header', undefined, undefined],
    ['another cookie only', 'theme=dark', undefined],
    ['the cookie twice (ambiguous)', 'refresh_token=a; refresh_token=b', undefined],
    ['an empty value', 'refresh_token=', undefined],
    ['a value with OWS around it', 'refresh_token= \tabc\t ', 'abc'],
    // OWS is SP and HTAB only: a no-break space stays part of the value, which is then no token.
    ['a value followed by a no-break space', 'refresh_token=abc\xa0', 'abc\xa0'],
    ['a name after a no-break space', '\xa0refresh_token=abc', undefined],
    ['the cookie in the second of two Cookie headers', ['theme=dark', 'refresh_token=abc'], 'abc'],
  ])('reads %s', (_, header, expected) => {
    expect(readCookie(request(header), 'refresh_token')).toBe(expected);
  });
});
