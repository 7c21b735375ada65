import { describe, expect, it } from 'vitest';
import type { RequestLike } from './request.js';
import { findToken, type TokenLookup } from './token-source.js';

const T = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
const U = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl';
const headerOnly = { header: true } as const;
const everywhere = { header: true, cookie: 'access_token', query: 'access_token' } as const;

/** The request as Node hands it: every header line, in order, in `rawHeaders`. */
function nodeRequest(lines: ReadonlyArray<readonly [string, string]>, url = '/'): RequestLike {
  return { url, headers: {}, rawHeaders: lines.flat() };
}

/** The same request as a Fetch runtime (Hono, Bun, Deno) hands it: a `Headers` that joined them. */
function fetchRequest(lines: ReadonlyArray<readonly [string, string]>, url = '/'): RequestLike {
  const headers = new Headers();
  for (const [name, value] of lines) headers.append(name, value);
  return { url: `http://localhost${url}`, headers };
}

describe('findToken reads a Node request and a Fetch request alike', () => {
  it.each<[string, string[], TokenLookup['kind']]>([
    ['one Bearer line', [`Bearer ${T}`], 'token'],
    ['one empty line', [''], 'none'],
    ['a Basic line', ['Basic dXNlcjpwYXNz'], 'none'],
    ['a valid Bearer line, then an empty line', [`Bearer ${T}`, ''], 'multiple_tokens'],
    ['an empty line, then a valid Bearer line', ['', `Bearer ${T}`], 'multiple_tokens'],
    ['two empty lines', ['', ''], 'multiple_tokens'],
    ['a valid Bearer line, then a blank line', [`Bearer ${T}`, ' \t '], 'multiple_tokens'],
    ['a valid Bearer line, then a garbled line', [`Bearer ${T}`, '@@'], 'multiple_tokens'],
    ['a valid Bearer line, then a parameter-like line', [`Bearer ${T}`, 'x=y'], 'multiple_tokens'],
    ['two Bearer lines', [`Bearer ${T}`, `Bearer ${U}`], 'multiple_tokens'],
    ['a Basic line, then a Bearer line', ['Basic dXNlcjpwYXNz', `Bearer ${T}`], 'multiple_tokens'],
    ['a Bearer line with a tab, after a Basic line', ['Basic dXNlcjpwYXNz', `bearer\t${T}`], 'multiple_tokens'],
    // Joined, these are one Digest credential with two parameters: no Bearer token either way.
    ['a Digest line, then a parameter-like line', ['Digest username="a"', 'realm="b"'], 'none'],
    ['a Bearer line with a no-break space after the token', [`Bearer ${T}\xa0`], 'malformed_header'],
  ])('%s', (_, values, kind) => {
    const lines = values.map((value) => ['Authorization', value] as const);
    const fromNode = findToken(nodeRequest(lines), headerOnly);
    expect(fromNode.kind).toBe(kind);
    expect(findToken(fetchRequest(lines), headerOnly)).toEqual(fromNode);
  });

  it.each<[string, Array<readonly [string, string]>, string, TokenLookup]>([
    ['a cookie in the second of two Cookie lines', [['Cookie', 'theme=dark'], ['Cookie', `access_token=${T}`]], '/', { kind: 'token', token: T }],
    ['the cookie in both Cookie lines', [['Cookie', `access_token=${T}`], ['Cookie', `access_token=${U}`]], '/', { kind: 'multiple_tokens' }],
    ['a cookie followed by a no-break space', [['Cookie', `access_token=${T}\xa0`]], '/', { kind: 'malformed_token' }],
    ['a cookie named with a leading no-break space', [['Cookie', `\xa0access_token=${T}`]], '/', { kind: 'none' }],
    ['a cookie with OWS around it', [['Cookie', `access_token= \t${T}\t `]], '/', { kind: 'token', token: T }],
    ['a percent-encoded query token', [], `/?access_token=${encodeURIComponent(T).replace(/\./g, '%2E')}`, { kind: 'token', token: T }],
    ['a query token after a fragment', [], `/?a=1#access_token=${T}`, { kind: 'none' }],
    ['an empty Authorization line and a query token', [['Authorization', '']], `/?access_token=${T}`, { kind: 'token', token: T }],
  ])('reads %s', (_, lines, url, expected) => {
    expect(findToken(nodeRequest(lines, url), everywhere)).toEqual(expected);
    expect(findToken(fetchRequest(lines, url), everywhere)).toEqual(expected);
  });
});
