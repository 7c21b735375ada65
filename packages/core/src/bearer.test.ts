import { describe, expect, it } from 'vitest';
import { isB64Token, parseAuthorization } from './bearer.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';

describe('parseAuthorization', () => {
  it.each<[string, string, string]>([
    ['the canonical scheme', `Bearer ${TOKEN}`, TOKEN],
    ['a lowercase scheme', `bearer ${TOKEN}`, TOKEN],
    ['an uppercase scheme', `BEARER ${TOKEN}`, TOKEN],
    ['a mixed-case scheme', `bEaReR ${TOKEN}`, TOKEN],
    ['several spaces after the scheme', `Bearer     ${TOKEN}`, TOKEN],
    ['surrounding whitespace (OWS) around the field value', `  Bearer ${TOKEN}\t `, TOKEN],
    ['a token with every b64token character', 'Bearer AZaz09-._~+/==', 'AZaz09-._~+/=='],
    ['a token ending in padding', 'Bearer abc==', 'abc=='],
  ])('reads the token from %s', (_, value, token) => {
    expect(parseAuthorization(value)).toEqual({ kind: 'token', token });
  });

  it.each<[string, string]>([
    ['the token is empty', 'Bearer'],
    ['only spaces follow the scheme', 'Bearer    '],
    ['a tab separates the spaces and the token', 'Bearer \tabc'],
    ['a tab alone separates the scheme and the token', 'Bearer\tabc'],
    ['the token holds a space (extra parts)', 'Bearer abc def'],
    ['the token is followed by a parameter', 'Bearer abc realm="x"'],
    ['the token holds a quote', 'Bearer "abc"'],
    ['the token holds a comma', 'Bearer abc,def'],
    ['the token holds a non-ASCII character', 'Bearer abcé'],
    ['padding sits in the middle of the token', 'Bearer ab=c'],
    ['the token holds a semicolon', 'Bearer abc;def'],
    ['the token holds a newline', 'Bearer abc\ndef'],
    ['a trailing comma merges an empty credential', 'Bearer abc, '],
  ])('reports a malformed credential when %s', (_, value) => {
    expect(parseAuthorization(value)).toEqual({ kind: 'malformed' });
  });

  it.each<[string, string]>([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Digest', 'Digest username="a", realm="b"'],
    ['DPoP', `DPoP ${TOKEN}`],
    ['a scheme that only starts with Bearer', `Bearerx ${TOKEN}`],
    ['an empty value', ''],
    ['a blank value', '   '],
  ])('treats %s as another scheme (no bearer credentials)', (_, value) => {
    expect(parseAuthorization(value)).toEqual({ kind: 'other-scheme' });
  });

  it.each<[string, string]>([
    ['two Bearer credentials', 'Bearer a, Bearer b'],
    ['two Bearer credentials without a space after the comma', 'Bearer a,Bearer b'],
    ['two Bearer credentials with mixed case', 'bearer a, BEARER b'],
    ['a Bearer then a Basic credential', 'Bearer a, Basic b'],
    ['a Basic then a Bearer credential', 'Basic x, Bearer y'],
    ['a Bearer then an empty Bearer credential', 'Bearer a, Bearer'],
  ])('reports several credentials merged into one value for %s', (_, value) => {
    expect(parseAuthorization(value)).toEqual({ kind: 'multiple' });
  });
});

describe('isB64Token', () => {
  it.each<[string, boolean]>([
    ['abc', true],
    ['a-b_c.d~e+f/g', true],
    ['abc==', true],
    ['', false],
    ['=abc', false],
    ['a b', false],
    ['a\tb', false],
    ['a"b', false],
  ])('says %j is a b64token: %s', (value, expected) => {
    expect(isB64Token(value)).toBe(expected);
  });
});

describe('pathological headers', () => {
  it.each<[string, string, string]>([
    ['a run of sixteen thousand commas', `Bearer ${','.repeat(16000)}`, 'malformed'],
    ['eight thousand comma-space pairs', `Bearer ${', '.repeat(8000)}`, 'malformed'],
    ['two Basic credentials joined by a Fetch Headers', 'Basic YTpi, Basic Yzpk', 'multiple'],
    ['a Bearer credential joined with a bare Basic', 'Bearer abc, Basic', 'multiple'],
  ])('reads %s', (_, value, kind) => {
    expect(parseAuthorization(value).kind).toBe(kind);
  });
});
