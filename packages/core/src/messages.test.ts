import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import { createClaimGuard, createScopeGuard } from './guards.js';
import type { JwtAuthOptions } from './options.js';
import { toErrorResponse } from './http/response.js';
import { StoreUnavailable } from './revocation-store.js';

const SECRET = 'messages-test-secret-0123456789abcdef-0123456789';
const now = () => Math.floor(Date.now() / 1000);
const sign = (claims: JWTPayload = {}) =>
  new SignJWT({ exp: now() + 60, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

type Options = Partial<JwtAuthOptions<JWTPayload, unknown, unknown>>;
const authenticator = (options: Options) => createAuthenticator({ secret: SECRET, ...options } as JwtAuthOptions);
const withAuthorization = (value?: string) => new Request('https://api.example/items', { headers: value === undefined ? {} : { authorization: value } });

async function answer(options: Options, authorization?: string) {
  const request = withAuthorization(authorization);
  const result = await authenticator(options).authenticate(request, request);
  if (result.ok) throw new Error('expected a failure');
  const { status, headers, body } = toErrorResponse(result.error);
  return { status, code: result.error.code, challenge: headers['WWW-Authenticate'], body: JSON.parse(body!) as { error_description?: string } };
}

describe('messages', () => {
  it('replaces the description of a code in the body and the challenge; the code stays', async () => {
    const seen = await answer({ messages: { token_expired: 'Please sign in again' }, realm: 'api' }, `Bearer ${await sign({ exp: now() - 600 })}`);
    expect(seen).toEqual({
      status: 401,
      code: 'token_expired',
      challenge: 'Bearer realm="api", error="invalid_token", error_description="Please sign in again"',
      body: { error: 'invalid_token', error_description: 'Please sign in again', code: 'token_expired' },
    });
  });

  it('leaves the other codes alone', async () => {
    const seen = await answer({ messages: { token_expired: 'Please sign in again' } }, 'Bearer not-a-jwt');
    expect(seen.body.error_description).toBe('The token is not a well-formed JWT');
  });

  it('replaces a description that verification chose (a missing exp claim)', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    const seen = await answer({ messages: { claim_invalid: 'Your token is not accepted here' } }, `Bearer ${token}`);
    expect([seen.code, seen.body.error_description]).toEqual(['claim_invalid', 'Your token is not accepted here']);
  });

  it('changes only the body of missing_token: its challenge carries no description', async () => {
    const seen = await answer({ messages: { missing_token: 'Log in first' } });
    expect(seen.challenge).toBe('Bearer');
    expect(seen.body).toEqual({ error: 'unauthorized', error_description: 'Log in first', code: 'missing_token' });
  });

  it('applies to 503 answers', async () => {
    const seen = await answer(
      {
        messages: { store_unavailable: 'Busy, retry soon' },
        isRevoked: () => {
          throw new StoreUnavailable('down');
        },
      },
      `Bearer ${await sign()}`,
    );
    expect([seen.status, seen.body.error_description]).toEqual([503, 'Busy, retry soon']);
  });

  it('keeps punctuation RFC 6750 §3 allows, unescaped in the challenge', async () => {
    const seen = await answer({ messages: { malformed_token: "Can't read it: sign in again (or call #ops) [x] {y} ~!" } }, 'Bearer not-a-jwt');
    expect(seen.challenge).toBe(`Bearer error="invalid_token", error_description="Can't read it: sign in again (or call #ops) [x] {y} ~!"`);
    expect(seen.body.error_description).toBe("Can't read it: sign in again (or call #ops) [x] {y} ~!");
  });

  it('answers a request passthrough let through with its failure, in its guards, with the messages', async () => {
    const request = withAuthorization(`Bearer ${await sign({ exp: Math.floor(Date.now() / 1000) - 60 })}`);
    const result = await authenticator({ passthrough: true, realm: 'api', messages: { token_expired: 'Sign in again' } }).authenticate(request, request);
    const authError = result.ok ? result.error : undefined;
    const decision = await createScopeGuard(['admin'])(undefined, authError);
    expect(!decision.ok && [decision.error.status, decision.error.toJSON(), decision.error.headers['WWW-Authenticate']]).toEqual([
      401,
      { error: 'invalid_token', error_description: 'Sign in again', code: 'token_expired' },
      'Bearer realm="api", error="invalid_token", error_description="Sign in again"',
    ]);
  });

  it('applies to the guards of the authenticated request', async () => {
    const request = withAuthorization(`Bearer ${await sign({ scope: 'read' })}`);
    const result = await authenticator({ messages: { insufficient_scope: 'Admins only' } }).authenticate(request, request);
    const auth = result.ok ? result.auth : undefined;
    const byScope = await createScopeGuard(['admin'])(auth);
    const byClaim = await createClaimGuard(() => false)(auth);
    for (const decision of [byScope, byClaim]) {
      expect(!decision.ok && decision.error.toJSON()).toEqual({ error: 'insufficient_scope', error_description: 'Admins only', code: 'insufficient_scope' });
    }
    expect(!byScope.ok && byScope.error.headers['WWW-Authenticate']).toBe('Bearer error="insufficient_scope", error_description="Admins only", scope="admin"');
  });

  it.each<[string, unknown, string]>([
    ['an array', ['x'], '"messages" must map error codes to descriptions'],
    ['a string', 'x', '"messages" must map error codes to descriptions'],
    ['null', null, '"messages" must map error codes to descriptions'],
    ['an unknown code', { expired: 'x' }, '"messages" has an unknown error code "expired".'],
    ['an inherited name', { toString: 'x' }, '"messages" has an unknown error code "toString".'],
    [
      'an @fastify/jwt key',
      { authorizationTokenExpiredMessage: 'x' },
      '"authorizationTokenExpiredMessage"; messages are keyed by error code here: token_expired.',
    ],
    ['a number', { token_expired: 5 }, '"messages.token_expired" must be a non-empty string of printable ASCII'],
    ['an empty string', { token_expired: '' }, '"messages.token_expired" must be a non-empty string of printable ASCII'],
    ['a line break', { token_expired: 'a\r\nX-Injected: 1' }, '"messages.token_expired" must be a non-empty string of printable ASCII'],
    ['non-ASCII text', { token_expired: 'Jeton expiré' }, '"messages.token_expired" must be a non-empty string of printable ASCII'],
    ['a double quote (RFC 6750 §3)', { token_expired: 'Say "hi"' }, 'without " and \\ (RFC 6750 §3 error_description)'],
    ['a backslash (RFC 6750 §3)', { token_expired: 'C:\\tokens' }, 'without " and \\ (RFC 6750 §3 error_description)'],
  ])('refuses %s at creation', (_, messages, text) => {
    expect(() => authenticator({ messages } as Options)).toThrow(TypeError);
    expect(() => authenticator({ messages } as Options)).toThrow(text);
  });
});
