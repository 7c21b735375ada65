import { describe, expect, it } from 'vitest';
import { clearRefreshCookie, refreshCookie } from './cookies.js';

describe('refreshCookie', () => {
  it('is HttpOnly, Secure, SameSite=Strict and limited to the refresh path', () => {
    expect(refreshCookie('a.b.c', { maxAge: 86400 })).toBe('refresh_token=a.b.c; Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict');
  });

  it('takes another name and path, and can drop Secure for plain-HTTP development', () => {
    expect(refreshCookie('a.b.c', { maxAge: 60, name: 'rt', path: '/auth', secure: false })).toBe(
      'rt=a.b.c; Path=/auth; Max-Age=60; HttpOnly; SameSite=Strict',
    );
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
