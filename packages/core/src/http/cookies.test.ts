import { describe, expect, it } from 'vitest';
import { readCookie } from './cookies.js';

const request = (cookie?: string | string[]) => ({ headers: cookie === undefined ? {} : { cookie } });

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
