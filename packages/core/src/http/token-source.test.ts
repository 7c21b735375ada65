import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator, type AuthResult } from '../authenticate.js';
import type { AuthEvent } from '../events.js';
import type { JwtAuthOptions } from '../options.js';
import type { RequestLike } from './request.js';
import { findToken, type TokenLookup, type TokenSources } from './token-source.js';

const T = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
const U = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl';
const sources = (from: Partial<TokenSources>): TokenSources => ({ header: undefined, cookie: undefined, query: undefined, body: undefined, ...from });
const headerOnly = sources({ header: 'authorization' });
const everywhere = sources({ header: 'authorization', cookie: { name: 'access_token', signed: false }, query: 'access_token' });

type Lines = ReadonlyArray<readonly [string, string]>;

/** The request as Node hands it: every header line, in order, in `rawHeaders`. */
function nodeRequest(lines: Lines, url = '/', extra: Partial<RequestLike> = {}): RequestLike {
  return { url, headers: {}, rawHeaders: lines.flat(), ...extra };
}

/** The same request as a Fetch runtime (Hono, Bun, Deno) hands it: a `Headers` that joined them. */
function fetchRequest(lines: Lines, url = '/', extra: Partial<RequestLike> = {}): RequestLike {
  const headers = new Headers();
  for (const [name, value] of lines) headers.append(name, value);
  return { url: `http://localhost${url}`, headers, ...extra };
}

/** Both runtimes must find the same thing in the same lines. */
async function lookBoth(lines: Lines, from: TokenSources, url = '/', extra: Partial<RequestLike> = {}): Promise<TokenLookup> {
  const fromNode = await findToken(nodeRequest(lines, url, extra), from);
  expect(await findToken(fetchRequest(lines, url, extra), from)).toEqual(fromNode);
  return fromNode;
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
  ])('%s', async (_, values, kind) => {
    const lines = values.map((value) => ['Authorization', value] as const);
    expect((await lookBoth(lines, headerOnly)).kind).toBe(kind);
  });

  it.each<[string, Lines, string, TokenLookup]>([
    [
      'a cookie in the second of two Cookie lines',
      [
        ['Cookie', 'theme=dark'],
        ['Cookie', `access_token=${T}`],
      ],
      '/',
      { kind: 'token', token: T, scheme: 'Bearer' },
    ],
    [
      'the cookie in both Cookie lines',
      [
        ['Cookie', `access_token=${T}`],
        ['Cookie', `access_token=${U}`],
      ],
      '/',
      { kind: 'multiple_tokens' },
    ],
    [
      'a cookie followed by a no-break space',
      [['Cookie', `access_token=${T}\xa0`]],
      '/',
      { kind: 'malformed_token', reason: 'the cookie, query or body value is not a token' },
    ],
    ['a cookie named with a leading no-break space', [['Cookie', `\xa0access_token=${T}`]], '/', { kind: 'none' }],
    ['a cookie with OWS around it', [['Cookie', `access_token= \t${T}\t `]], '/', { kind: 'token', token: T, scheme: 'Bearer' }],
    ['a percent-encoded query token', [], `/?access_token=${encodeURIComponent(T).replace(/\./g, '%2E')}`, { kind: 'token', token: T, scheme: 'Bearer' }],
    ['a query token after a fragment', [], `/?a=1#access_token=${T}`, { kind: 'none' }],
    ['an empty Authorization line and a query token', [['Authorization', '']], `/?access_token=${T}`, { kind: 'token', token: T, scheme: 'Bearer' }],
  ])('reads %s', async (_, lines, url, expected) => {
    expect(await lookBoth(lines, everywhere, url)).toEqual(expected);
  });
});

describe('a custom header (tokenFrom.header: "X-Access-Token")', () => {
  const custom = sources({ header: 'x-access-token' });
  const bad: TokenLookup = { kind: 'malformed_token', reason: 'the x-access-token header is neither "Bearer <token>" nor a token' };

  it.each<[string, Lines, TokenLookup | TokenLookup['kind']]>([
    ['reads "Bearer <token>"', [['X-Access-Token', `Bearer ${T}`]], { kind: 'token', token: T, scheme: 'Bearer' }],
    ['reads the scheme in any case, after several spaces', [['x-access-token', `bEaReR   ${T}`]], { kind: 'token', token: T, scheme: 'Bearer' }],
    ['reads a bare token', [['X-ACCESS-TOKEN', T]], { kind: 'token', token: T, scheme: 'Bearer' }],
    ['reads a bare b64token that begins with "bearer"', [['X-Access-Token', 'bearerish.token']], { kind: 'token', token: 'bearerish.token', scheme: 'Bearer' }],
    ['finds nothing in an empty header', [['X-Access-Token', '']], 'none'],
    ['ignores the Authorization header', [['Authorization', `Bearer ${T}`]], 'none'],
    [
      'ignores a malformed Authorization header',
      [
        ['Authorization', 'Bearer'],
        ['X-Access-Token', T],
      ],
      { kind: 'token', token: T, scheme: 'Bearer' },
    ],
    [
      'refuses two lines',
      [
        ['X-Access-Token', T],
        ['X-Access-Token', U],
      ],
      'multiple_tokens',
    ],
    [
      'refuses an empty line before the token',
      [
        ['X-Access-Token', ''],
        ['X-Access-Token', T],
      ],
      'multiple_tokens',
    ],
    [
      'refuses an empty line after the token',
      [
        ['X-Access-Token', `Bearer ${T}`],
        ['X-Access-Token', ''],
      ],
      'multiple_tokens',
    ],
    ['refuses two tokens on one line, as it cannot tell them from two lines', [['X-Access-Token', `${T}, ${U}`]], 'multiple_tokens'],
    ['refuses a comma inside the value', [['X-Access-Token', `${T},${U}`]], bad],
    ['refuses "Bearer" followed by two parts', [['X-Access-Token', `Bearer ${T} ${U}`]], bad],
    ['refuses a tab after Bearer', [['X-Access-Token', `Bearer\t${T}`]], bad],
    ['refuses another scheme', [['X-Access-Token', 'Basic dXNlcjpwYXNz']], bad],
    ['refuses a no-break space after the token', [['X-Access-Token', `${T}\xa0`]], bad],
  ])('%s', async (_, lines, expected) => {
    const found = await lookBoth(lines, custom);
    if (typeof expected === 'string') expect(found.kind).toBe(expected);
    else expect(found).toEqual(expected);
  });

  it('answers multiple_tokens for the header and a cookie', async () => {
    const from = sources({ header: 'x-access-token', cookie: { name: 'at', signed: false } });
    expect(
      await lookBoth(
        [
          ['X-Access-Token', T],
          ['Cookie', `at=${U}`],
        ],
        from,
      ),
    ).toEqual({ kind: 'multiple_tokens' });
  });
});

describe('a signed cookie (tokenFrom.cookie: { name, signed: true })', () => {
  const signed = sources({ cookie: { name: 'at', signed: true } });
  const notVerified = { kind: 'malformed_token', reason: 'the signature of the at cookie does not verify' } as const;

  /** A framework that vouches only for `goodSig` (as cookie-parser, Koa or Hono would). */
  function verifier(calls: string[], answer: (name: string) => string | false | undefined | Promise<string | false | undefined>) {
    return (name: string) => {
      calls.push(name);
      return answer(name);
    };
  }

  it.each<[string, string | false | undefined | Promise<string | false | undefined>, TokenLookup]>([
    ['reads the value the framework verified', T, { kind: 'token', token: T, scheme: 'Bearer' }],
    ['waits for a verification that is asynchronous (Hono)', Promise.resolve(T), { kind: 'token', token: T, scheme: 'Bearer' }],
    ['refuses a bad signature (false: cookie-parser, Hono)', false, notVerified],
    ['refuses a cookie the framework does not vouch for (undefined: Koa, an unsigned cookie)', undefined, notVerified],
    ['finds nothing in a signed empty value', '', { kind: 'none' }],
  ])('%s', async (_, answer, expected) => {
    const calls: string[] = [];
    const extra = { signedCookie: verifier(calls, () => answer) };
    expect(await lookBoth([['Cookie', `theme=dark; at=s%3A${T}.sig`]], signed, '/', extra)).toEqual(expected);
    expect(calls).toEqual(['at', 'at']);
  });

  it('never reads the raw cookie value: the verified value is the token', async () => {
    const extra = { signedCookie: () => U };
    expect(await lookBoth([['Cookie', `at=${T}`]], signed, '/', extra)).toEqual({ kind: 'token', token: U, scheme: 'Bearer' });
  });

  it('refuses a verified value that cannot be a token', async () => {
    const extra = { signedCookie: () => 'not a token' };
    expect((await lookBoth([['Cookie', 'at=x']], signed, '/', extra)).kind).toBe('malformed_token');
  });

  it.each<[string, Lines, TokenLookup['kind']]>([
    ['asks nothing when the cookie is absent', [['Cookie', 'theme=dark']], 'none'],
    ['asks nothing for an empty cookie', [['Cookie', 'at=']], 'none'],
    ['answers multiple_tokens for the cookie sent twice, which the frameworks would read as the first', [['Cookie', `at=${T}; at=${U}`]], 'multiple_tokens'],
  ])('%s', async (_, lines, kind) => {
    const calls: string[] = [];
    const extra = { signedCookie: verifier(calls, () => T) };
    expect((await lookBoth(lines, signed, '/', extra)).kind).toBe(kind);
    expect(calls).toEqual([]);
  });

  it.each<[string, string | false]>([
    ['a verified cookie', T],
    ['a cookie with a bad signature', false],
  ])('answers multiple_tokens for %s next to an Authorization header', async (_, answer) => {
    const from = sources({ header: 'authorization', cookie: { name: 'at', signed: true } });
    const extra = { signedCookie: () => answer };
    expect(
      await lookBoth(
        [
          ['Authorization', `Bearer ${U}`],
          ['Cookie', `at=${T}`],
        ],
        from,
        '/',
        extra,
      ),
    ).toEqual({ kind: 'multiple_tokens' });
  });

  it('throws a TypeError that says what is missing when the request cannot verify signed cookies', async () => {
    await expect(findToken(nodeRequest([['Cookie', `at=${T}`]]), signed)).rejects.toThrow(/signedCookie/);
    await expect(findToken(nodeRequest([['Cookie', `at=${T}`]]), signed)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('a form body parameter (tokenFrom.body, RFC 6750 §2.2)', () => {
  const body = sources({ body: 'access_token' });
  const form = (length = '120'): Lines => [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['Content-Length', length],
  ];

  async function look(lines: Lines, parsed: unknown, method = 'POST', from = body): Promise<[TokenLookup, number]> {
    let calls = 0;
    const formBody = () => {
      calls++;
      return parsed;
    };
    const found = await lookBoth(lines, from, '/', { method, formBody });
    return [found, calls / 2];
  }

  it.each<[string, Lines, unknown, TokenLookup]>([
    ['reads the parameter', form(), { access_token: T, other: 'x' }, { kind: 'token', token: T, scheme: 'Bearer' }],
    [
      'reads it from a body the framework parses asynchronously (Hono)',
      form(),
      Promise.resolve({ access_token: T }),
      { kind: 'token', token: T, scheme: 'Bearer' },
    ],
    [
      'reads a body with a charset parameter',
      [
        ['Content-Type', 'Application/X-WWW-Form-URLEncoded; charset=UTF-8'],
        ['Content-Length', '9'],
      ],
      { access_token: T },
      { kind: 'token', token: T, scheme: 'Bearer' },
    ],
    [
      'reads a chunked body',
      [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['Transfer-Encoding', 'chunked'],
      ],
      { access_token: T },
      { kind: 'token', token: T, scheme: 'Bearer' },
    ],
    ['reads a parameter given once as an array', form(), { access_token: [T] }, { kind: 'token', token: T, scheme: 'Bearer' }],
    ['finds nothing without the parameter', form(), { other: T }, { kind: 'none' }],
    ['finds nothing in an empty parameter', form(), { access_token: '' }, { kind: 'none' }],
    ['finds nothing in an empty body', form('0'), {}, { kind: 'none' }],
    ['answers multiple_tokens for the parameter twice', form(), { access_token: [T, U] }, { kind: 'multiple_tokens' }],
    [
      'refuses a parameter that is not a string (a nested form field)',
      form(),
      { access_token: { a: T } },
      { kind: 'malformed_token', reason: 'the access_token body parameter is not a string' },
    ],
    [
      'refuses a value that cannot be a token',
      form(),
      { access_token: 'a b' },
      { kind: 'malformed_token', reason: 'the cookie, query or body value is not a token' },
    ],
  ])('%s', async (_, lines, parsed, expected) => {
    const [found, calls] = await look(lines, parsed);
    expect(found).toEqual(expected);
    expect(calls).toBe(1);
  });

  it.each(['PUT', 'PATCH'])('reads it on %s', async (method) => {
    expect(await look(form(), { access_token: T }, method)).toEqual([{ kind: 'token', token: T, scheme: 'Bearer' }, 1]);
  });

  it.each<[string, Lines, string]>([
    ['a GET request (RFC 6750 §2.2: never GET)', form(), 'GET'],
    ['a HEAD request', form(), 'HEAD'],
    ['a DELETE request', form(), 'DELETE'],
    ['an OPTIONS request', form(), 'OPTIONS'],
    [
      'a JSON body',
      [
        ['Content-Type', 'application/json'],
        ['Content-Length', '9'],
      ],
      'POST',
    ],
    [
      'a multipart body',
      [
        ['Content-Type', 'multipart/form-data; boundary=x'],
        ['Content-Length', '9'],
      ],
      'POST',
    ],
    ['a body without a Content-Type', [['Content-Length', '9']], 'POST'],
    ['a form type without a body (no Content-Length, no Transfer-Encoding)', [['Content-Type', 'application/x-www-form-urlencoded']], 'POST'],
    ['two Content-Type lines', [...form(), ['Content-Type', 'application/x-www-form-urlencoded']], 'POST'],
  ])('does not read the body of %s', async (_, lines, method) => {
    expect(await look(lines, { access_token: T }, method)).toEqual([{ kind: 'none' }, 0]);
  });

  it.each<[string, string]>([
    ['an inherited property', 'constructor'],
    ['the prototype', '__proto__'],
  ])('reads own parameters only, not %s', async (_, name) => {
    const from = sources({ body: name });
    expect(await look(form(), {}, 'POST', from)).toEqual([{ kind: 'none' }, 1]);
  });

  it('answers multiple_tokens for a body parameter and an Authorization header', async () => {
    const from = sources({ header: 'authorization', body: 'access_token' });
    const [found] = await look([...form(), ['Authorization', `Bearer ${U}`]], { access_token: T }, 'POST', from);
    expect(found).toEqual({ kind: 'multiple_tokens' });
  });

  it('answers multiple_tokens for a body parameter and a query parameter', async () => {
    const from = sources({ query: 'access_token', body: 'access_token' });
    let calls = 0;
    const extra = { method: 'POST', formBody: () => (calls++, { access_token: T }) };
    expect(await lookBoth(form(), from, `/?access_token=${U}`, extra)).toEqual({ kind: 'multiple_tokens' });
    expect(calls).toBe(2);
  });

  it('throws a TypeError that says what is missing when the request has no parsed body', async () => {
    const request = nodeRequest(form(), '/', { method: 'POST' });
    await expect(findToken(request, body)).rejects.toThrow(/formBody/);
    await expect(findToken(request, body)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('tokenFrom through createAuthenticator', () => {
  const NOW = new Date('2030-01-01T00:00:00Z');
  const SECRET = 'token-source-test-secret-0123456789abcdef';
  let token: string;
  beforeAll(async () => {
    const iat = NOW.getTime() / 1000;
    token = await new SignJWT({ sub: 'user-1', iat, exp: iat + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  });

  function authenticate(tokenFrom: unknown, request: RequestLike, events: AuthEvent[] = []): Promise<AuthResult> {
    const options = { secret: SECRET, currentDate: () => NOW, tokenFrom, onEvent: (event: AuthEvent) => events.push(event) };
    return createAuthenticator(options as JwtAuthOptions).authenticate(request, request);
  }
  const codeOf = (result: AuthResult) => (result.ok ? 'ok' : result.error.code);

  it.each<[string, unknown, () => RequestLike, string]>([
    [
      'header: "Authorization" reads the Authorization header as true does',
      { header: 'Authorization' },
      () => ({ headers: { authorization: `Bearer ${token}` } }),
      'ok',
    ],
    [
      'header: "authorization" answers malformed_header like the default',
      { header: 'authorization' },
      () => ({ headers: { authorization: 'Bearer' } }),
      'malformed_header',
    ],
    ['a custom header reads a bare token', { header: 'X-Access-Token' }, () => ({ headers: { 'x-access-token': token } }), 'ok'],
    [
      'a custom header answers missing_token when only Authorization is sent',
      { header: 'X-Access-Token' },
      () => ({ headers: { authorization: `Bearer ${token}` } }),
      'missing_token',
    ],
    [
      'a custom header reads a Fetch request',
      { header: 'X-Access-Token' },
      () => new Request('https://api.example/', { headers: { 'X-Access-Token': `Bearer ${token}` } }),
      'ok',
    ],
    [
      'a signed cookie is verified',
      { cookie: { name: 'at', signed: true } },
      () => ({ headers: { cookie: `at=s:${token}.x` }, signedCookie: () => token }),
      'ok',
    ],
    [
      'a signed cookie with a bad signature answers malformed_token',
      { cookie: { name: 'at', signed: true } },
      () => ({ headers: { cookie: `at=s:${token}.x` }, signedCookie: () => false }),
      'malformed_token',
    ],
    ['cookie: { name } alone is an unsigned cookie', { cookie: { name: 'at' } }, () => ({ headers: { cookie: `at=${token}` } }), 'ok'],
    [
      'a body parameter is read',
      { header: false, body: 'access_token' },
      () => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '500' },
        formBody: () => ({ access_token: token }),
      }),
      'ok',
    ],
  ])('%s', async (_, tokenFrom, request, code) => {
    expect(codeOf(await authenticate(tokenFrom, request()))).toBe(code);
  });

  it.each<[string, unknown, () => RequestLike, string]>([
    [
      'a bad cookie signature',
      { cookie: { name: 'at', signed: true } },
      () => ({ headers: { cookie: 'at=x' }, signedCookie: () => false }),
      'the signature of the at cookie does not verify',
    ],
    [
      'a custom header that holds no token',
      { header: 'X-Access-Token' },
      () => ({ headers: { 'x-access-token': 'a b' } }),
      'the x-access-token header is neither "Bearer <token>" nor a token',
    ],
  ])('tells the event hook why %s was refused', async (_, tokenFrom, request, reason) => {
    const events: AuthEvent[] = [];
    await authenticate(tokenFrom, request(), events);
    expect(events).toEqual([{ type: 'auth.failed', code: 'malformed_token', status: 401, reason }]);
  });

  it.each<[string, unknown]>([
    ['a header name with a space', { header: 'X Token' }],
    ['an empty header name', { header: '' }],
    ['a header that is a number', { header: 1 }],
    ['the Cookie header', { header: 'Cookie' }],
    ['a cookie object without a name', { cookie: { signed: true } }],
    ['a cookie object with an unknown field', { cookie: { name: 'at', secret: 's' } }],
    ['a cookie whose signed is not a boolean', { cookie: { name: 'at', signed: 'yes' } }],
    ['a cookie given as an array', { cookie: ['at'] }],
    ['a body name with a space', { body: 'access token' }],
    ['an empty body name', { body: '' }],
    ['a body name that is not a string', { body: true }],
    ['an unknown location ("headerName", as hono/jwt calls it)', { headerName: 'X-Access-Token' }],
    ['an unknown location ("cookies")', { header: false, cookies: 'at' }],
  ])('throws a TypeError at creation for %s', (_, tokenFrom) => {
    expect(() => createAuthenticator({ secret: SECRET, tokenFrom } as JwtAuthOptions)).toThrow(TypeError);
  });

  it('names the field to fix', () => {
    expect(() => createAuthenticator({ secret: SECRET, tokenFrom: { headerName: 'x' } } as JwtAuthOptions)).toThrow(/"tokenFrom\.headerName"/);
    expect(() => createAuthenticator({ secret: SECRET, tokenFrom: { cookie: { name: 'at', secret: 's' } } } as JwtAuthOptions)).toThrow(
      /"tokenFrom\.cookie\.secret"/,
    );
    expect(() => createAuthenticator({ secret: SECRET, tokenFrom: { header: 'X Token' } })).toThrow(/"tokenFrom\.header"/);
  });

  it.each<[string, JwtAuthOptions['tokenFrom']]>([
    ['the body alone', { header: false, body: 'access_token' }],
    ['a signed cookie alone', { header: false, cookie: { name: 'at', signed: true } }],
    ['every location at once', { header: 'X-Access-Token', cookie: { name: 'at', signed: false }, query: 'access_token', body: 'access_token' }],
  ])('accepts %s', (_, tokenFrom) => {
    expect(() => createAuthenticator({ secret: SECRET, tokenFrom })).not.toThrow();
  });
});
