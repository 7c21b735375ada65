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
    expect(parseAuthorization(value)).toEqual({ kind: 'token', token, scheme: 'Bearer' });
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
    ['a no-break space follows the token (OWS is SP and HTAB only)', 'Bearer abc\xa0'],
    ['an em space follows the token', 'Bearer abc\u2003'],
    ['a no-break space separates the scheme and the token', 'Bearer\xa0abc'],
    ['the scheme is followed by an equals sign', 'Bearer=abc'],
    ['a comma follows the scheme directly', 'Bearer,abc'],
    // One line cannot end in a space (Node and Fetch trim it), so this is no empty line joined in.
    ['a trailing comma', 'Bearer abc,'],
  ])('reports a malformed credential when %s', (_, value) => {
    expect(parseAuthorization(value)).toEqual({ kind: 'malformed' });
  });

  it.each<[string, string]>([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Digest', 'Digest username="a", realm="b"'],
    ['Digest with spaces around "=" (RFC 7235 BWS)', 'Digest username = "a", realm = "b"'],
    ['Digest with a parameter named bearer', 'Digest username="a", bearer="b"'],
    ['DPoP', `DPoP ${TOKEN}`],
    ['a scheme that only starts with Bearer', `Bearerx ${TOKEN}`],
    ['an empty value', ''],
    ['a blank value', '   '],
    ['a Bearer credential behind a no-break space (not OWS, so not a scheme)', '\xa0Bearer abc'],
    ['a scheme that is not a token', '@@ abc'],
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
    // What a Fetch Headers makes of several lines; core joins Node's lines the same way.
    ['a Bearer line then an empty line', 'Bearer a, '],
    ['an empty line then a Bearer line', ', Bearer a'],
    ['two empty lines', ', '],
    ['a Bearer line then a garbled line', 'Bearer a, @@'],
    ['a Bearer line then a line that looks like a parameter (Bearer has none)', 'Bearer a, realm="x"'],
    ['a Basic line then a Bearer line with a tab', 'Basic x, bearer\tabc'],
    ['a Basic line then a Bearer line with a no-break space', 'Basic x, Bearer\xa0abc'],
    ['a Bearer line then two empty lines', 'Bearer a, , '],
    ['an empty line joined between two others', 'Basic x, , realm="y"'],
    ['an empty line then a garbled line', ', @@'],
    ['a Digest line then a Bearer line that could pass for a parameter', 'Digest realm="b", Bearer \t= x'],
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
    ['eight thousand comma-space pairs (empty lines joined)', `Bearer ${', '.repeat(8000)}`, 'multiple'],
    ['a run of commas then a credential', `Basic ${','.repeat(16000)} Bearer x`, 'multiple'],
    ['two Basic credentials joined by a Fetch Headers', 'Basic YTpi, Basic Yzpk', 'multiple'],
    ['a Bearer credential joined with a bare Basic', 'Bearer abc, Basic', 'multiple'],
    ['sixteen thousand spaces then a token', `Bearer${' '.repeat(16000)}x`, 'token'],
    ['sixteen thousand spaces then a no-break space', `Bearer x${' '.repeat(16000)}\xa0`, 'malformed'],
    ['four thousand Bearer credentials joined with commas', `Bearer a${', Bearer'.repeat(4000)}`, 'multiple'],
    ['eight thousand empty lines joined', ', '.repeat(8000), 'multiple'],
  ])('reads %s', (_, value, kind) => {
    expect(parseAuthorization(value).kind).toBe(kind);
  });
});
