import { describe, expect, it } from 'vitest';
import { buildChallenge, isChallengeSafe, type ChallengeParams } from './challenge.js';

describe('buildChallenge', () => {
  it.each<[string, ChallengeParams, string]>([
    ['nothing', {}, 'Bearer'],
    ['only a realm', { realm: 'api' }, 'Bearer realm="api"'],
    ['an error', { error: 'invalid_token' }, 'Bearer error="invalid_token"'],
    [
      'an error and a description',
      { error: 'invalid_token', description: 'The token has expired' },
      'Bearer error="invalid_token", error_description="The token has expired"',
    ],
    [
      'realm, error and description, in that order',
      { realm: 'example', error: 'invalid_request', description: 'Bad header' },
      'Bearer realm="example", error="invalid_request", error_description="Bad header"',
    ],
    [
      'scopes, joined with spaces',
      { realm: 'api', error: 'insufficient_scope', description: 'More access needed', scopes: ['read', 'write'] },
      'Bearer realm="api", error="insufficient_scope", error_description="More access needed", scope="read write"',
    ],
    ['a description without an error (dropped)', { description: 'ignored' }, 'Bearer'],
    ['an empty scope list (dropped)', { error: 'insufficient_scope', scopes: [] }, 'Bearer error="insufficient_scope"'],
    ['an empty realm', { realm: '' }, 'Bearer realm=""'],
  ])('serialises %s', (_, params, expected) => {
    expect(buildChallenge(params)).toBe(expected);
  });

  it.each<[string, ChallengeParams, string]>([
    ['a quote in the realm', { realm: 'say "hi"' }, 'Bearer realm="say \\"hi\\""'],
    ['a backslash in the realm', { realm: 'C:\\realm' }, 'Bearer realm="C:\\\\realm"'],
    [
      'quotes and backslashes in the description',
      { error: 'invalid_token', description: 'a "b" \\c\\' },
      'Bearer error="invalid_token", error_description="a \\"b\\" \\\\c\\\\"',
    ],
    ['a backslash before a quote', { realm: '\\"' }, 'Bearer realm="\\\\\\""'],
    ['a comma and an equals sign (left as they are inside quotes)', { realm: 'a, b=c' }, 'Bearer realm="a, b=c"'],
  ])('quotes and escapes %s', (_, params, expected) => {
    expect(buildChallenge(params)).toBe(expected);
  });
});

describe('isChallengeSafe', () => {
  it.each<[string, string, boolean]>([
    ['printable ASCII', 'My API (v2) "quoted" \\', true],
    ['the empty string', '', true],
    ['a newline', 'api\nSet-Cookie: x=1', false],
    ['a carriage return', 'api\r', false],
    ['a tab', 'a\tb', false],
    ['a NUL', 'a\u0000b', false],
    ['DEL', 'a\u007fb', false],
    ['non-ASCII', 'caf\u00e9', false],
  ])('says a value with %s is safe in a header: %s', (_, value, safe) => {
    expect(isChallengeSafe(value)).toBe(safe);
  });
});
