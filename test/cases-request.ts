import { StoreUnavailable, type AuthErrorCode } from '@jwtauth/core';
import type { Expect, failure as Failure, Scenario, Send } from './cases.js';
import { HS_SECRET, now, sign } from './fixtures.js';

/** The helpers of cases.ts, handed in so this file needs no runtime import of it. */
export interface RequestCaseHelpers {
  bearer: (token: string, path?: string) => Send;
  failure: typeof Failure;
  descriptions: Record<AuthErrorCode, string>;
}

/** `/protected` answered without authentication: nothing attached. */
const anonymous: Expect = { status: 200, challenge: null, body: { auth: null, user: null } };
const ok: Expect = { status: 200, challenge: null, body: { ok: true } };

/** A 200 from `/protected` whose `auth.scopes` are `scopes` (the token's own claims echoed). */
function attachedWith(scopes: string[]) {
  return (sent: Send): Expect => {
    const token = String((sent.headers ?? {}).Authorization).replace(/^Bearer /, '');
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
    return { status: 200, challenge: null, body: { auth: { token, header, payload, scopes }, user: payload } };
  };
}

/**
 * Requests that must be authenticated although they look like an excluded path to someone: every
 * one would reach a handler (or a 404) without authentication if it were skipped, so every
 * harness answering 401 proves it was not. supertest sends these paths byte for byte; targets it
 * cannot send (a backslash, a fragment) are in test/unless.test.ts.
 */
const BYPASS_ATTEMPTS: ReadonlyArray<[name: string, path: string]> = [
  ['a dot-dot segment out of an excluded prefix', '/public/../protected'],
  ['a dot segment', '/public/./../protected'],
  ['an encoded dot-dot segment (%2e%2e)', '/public/%2e%2e/protected'],
  ['an upper-case encoded dot-dot segment (%2E%2E)', '/public/%2E%2E/protected'],
  ['a half-encoded dot-dot segment (.%2e)', '/public/.%2e/protected'],
  ['an encoded slash (%2F)', '/public/..%2Fprotected'],
  ['encoded slashes only (%2F)', '/public%2F..%2Fprotected'],
  ['a double encoding (%252e%252e)', '/public/%252e%252e/protected'],
  ['a double-encoded slash (%252F)', '/public%252F..%252Fprotected'],
  ['a semicolon (Fastify 4 ends the path there)', '/protected;/public'],
  ['a semicolon before a dot-dot segment', '/public/..;/protected'],
  ['the excluded path in the query only', '/protected?/public'],
  ['the excluded path in a query parameter', '/protected?next=/public/x'],
  ['a doubled leading slash', '//public/../protected'],
  ['a glob-excluded file name followed by dot-dot segments', '/static/app.js/../../protected'],
  ['a RegExp-excluded prefix followed by a dot-dot segment', '/open/../protected'],
  ['an encoded letter (Fastify and Hono decode it, Express does not)', '/p%75blic'],
  ['an excluded path in another case', '/PUBLIC'],
  ['an excluded prefix in another case', '/PUBLIC/x'],
];

/** Scenarios of issue 9's request-level options: unless, passthrough, messages, scopes. */
export function requestScenarios({ bearer, failure, descriptions }: RequestCaseHelpers): Scenario[] {
  const authError = (code: AuthErrorCode, status: number, error: string, description = descriptions[code]) => ({
    status: 200,
    challenge: null,
    body: { auth: null, user: null, authError: { status, error, error_description: description, code } },
  });
  return [
    {
      name: 'unless: an excluded path',
      options: () => ({ secret: HS_SECRET, unless: { path: '/protected' } }),
      cases: [
        { name: 'skips authentication on the excluded path', send: async () => ({}), expect: anonymous },
        { name: 'reads no token there: a bad one does not fail it', send: async () => bearer('not-a-jwt'), expect: anonymous },
        { name: 'attaches nothing there even for a valid token', send: async () => bearer(await sign({})), expect: anonymous },
        { name: 'ignores the query', send: async () => ({ path: '/protected?access_token=x&next=/admin' }), expect: anonymous },
        { name: 'skips every method on it', send: async () => ({ method: 'HEAD' }), expect: { status: 200, challenge: null, body: null } },
        { name: 'still authenticates other paths', send: async () => ({ path: '/admin' }), expect: failure('missing_token') },
        { name: 'authenticates the path with a trailing slash (no folding)', send: async () => ({ path: '/protected/' }), expect: failure('missing_token') },
        {
          name: 'authenticates the path in another case (Express routes it there)',
          send: async () => ({ path: '/PROTECTED' }),
          expect: failure('missing_token'),
        },
        { name: 'authenticates a doubled slash', send: async () => ({ path: '//protected' }), expect: failure('missing_token') },
        {
          name: 'authenticates an encoded letter (Fastify and Hono route it there)',
          send: async () => ({ path: '/pr%6Ftected' }),
          expect: failure('missing_token'),
        },
        {
          name: 'authenticates a semicolon suffix (Fastify 4 routes it there)',
          send: async () => ({ path: '/protected;x' }),
          expect: failure('missing_token'),
        },
      ],
    },
    {
      name: 'unless: bypass attempts',
      options: () => ({
        secret: HS_SECRET,
        unless: { path: ['/public', '/public/**', '/*/public', '/static/*.js', /^\/open(\/|$)/], method: 'OPTIONS' },
      }),
      cases: [
        { name: 'is active: skips an excluded method', send: async () => ({ method: 'OPTIONS' }), expect: anonymous },
        { name: 'authenticates /protected', send: async () => ({}), expect: failure('missing_token') },
        ...BYPASS_ATTEMPTS.map(([name, path]) => ({ name: `authenticates ${name}: ${path}`, send: async () => ({ path }), expect: failure('missing_token') })),
        {
          name: 'authenticates a dressed-up path with a token as any other',
          send: async () => bearer('not-a-jwt', '/public/%2e%2e/protected'),
          expect: failure('malformed_token'),
        },
      ],
    },
    {
      name: 'unless: methods, never method-override headers',
      options: () => ({ secret: HS_SECRET, unless: { path: [{ url: '/protected', method: 'HEAD' }], method: ['OPTIONS'] } }),
      cases: [
        { name: 'skips an excluded method', send: async () => ({ method: 'OPTIONS' }), expect: anonymous },
        {
          name: 'skips a path excluded for one method with that method',
          send: async () => ({ method: 'HEAD' }),
          expect: { status: 200, challenge: null, body: null },
        },
        { name: 'authenticates that path with another method', send: async () => ({}), expect: failure('missing_token') },
        ...['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'].map((header) => ({
          name: `authenticates a GET with ${header}: OPTIONS`,
          send: async () => ({ headers: { [header]: 'OPTIONS' } }),
          expect: failure('missing_token'),
        })),
        {
          name: 'authenticates a GET with _method=OPTIONS in the query',
          send: async () => ({ path: '/protected?_method=OPTIONS' }),
          expect: failure('missing_token'),
        },
        {
          name: 'authenticates a GET with _method=HEAD in the query',
          send: async () => ({ path: '/protected?_method=HEAD' }),
          expect: failure('missing_token'),
        },
      ],
    },
    {
      name: 'unless: a predicate',
      options: () => ({
        secret: HS_SECRET,
        // The request object differs per framework; the path is read the same way from each.
        unless: async (request: unknown) => {
          const req = request as { originalUrl?: string; url?: string; req?: { url?: string } };
          const url = req.originalUrl ?? req.req?.url ?? req.url ?? '';
          if (url.includes('explode')) throw new Error('unless exploded');
          if (url.includes('truthy')) return 'yes' as unknown as boolean;
          return url.includes('skip=1');
        },
      }),
      cases: [
        { name: 'skips when the predicate resolves to true', send: async () => ({ path: '/protected?skip=1' }), expect: anonymous },
        { name: 'authenticates when it resolves to false', send: async () => ({ path: '/protected?skip=0' }), expect: failure('missing_token') },
        { name: 'authenticates when it resolves to a truthy non-boolean', send: async () => ({ path: '/protected?truthy' }), expect: failure('missing_token') },
        {
          name: 'sends what it throws to the error path',
          send: async () => ({ path: '/protected?explode' }),
          expect: { status: 500, challenge: null, body: { forwarded: true, name: 'Error', code: null, message: 'unless exploded' } },
        },
      ],
    },
    {
      name: 'passthrough',
      options: () => ({
        secret: HS_SECRET,
        passthrough: true,
        isRevoked: (payload) => {
          if (payload.jti === 'store-down') throw new StoreUnavailable('redis down');
          return payload.jti === 'revoked';
        },
        resolveUser: (payload) => {
          if (payload.sub === 'explode') throw new Error('user store down');
          return payload;
        },
      }),
      cases: [
        {
          name: 'lets a request without a token through with authError missing_token',
          send: async () => ({}),
          expect: authError('missing_token', 401, 'unauthorized'),
        },
        {
          name: 'lets a malformed header through with authError malformed_header (400)',
          send: async () => ({ headers: { Authorization: 'Bearer' } }),
          expect: authError('malformed_header', 400, 'invalid_request'),
        },
        {
          name: 'lets an expired token through with authError token_expired',
          send: async () => bearer(await sign({ exp: now() - 60 })),
          expect: authError('token_expired', 401, 'invalid_token'),
        },
        {
          name: 'lets a revoked token through with authError token_revoked',
          send: async () => bearer(await sign({ jti: 'revoked' })),
          expect: authError('token_revoked', 401, 'invalid_token'),
        },
        {
          name: 'lets a revocation store outage through with authError store_unavailable (503)',
          send: async () => bearer(await sign({ jti: 'store-down' })),
          expect: authError('store_unavailable', 503, 'temporarily_unavailable'),
        },
        { name: 'attaches a valid token as usual, without authError', send: async () => bearer(await sign({ scope: 'read' })), expect: attachedWith(['read']) },
        {
          name: 'still sends a throwing resolveUser to the error path',
          send: async () => bearer(await sign({ sub: 'explode' })),
          expect: { status: 500, challenge: null, body: { forwarded: true, name: 'Error', code: null, message: 'user store down' } },
        },
        {
          name: 'has requireScopes answer a bad token with the failure let through (malformed_token)',
          send: async () => bearer('not-a-jwt', '/admin'),
          expect: failure('malformed_token'),
        },
        {
          name: 'has requireScopes answer an expired token token_expired, so the client knows to refresh',
          send: async () => bearer(await sign({ exp: now() - 60 }), '/admin'),
          expect: failure('token_expired'),
        },
        { name: 'has requireClaims answer 401 missing_token for no token', send: async () => ({ path: '/claims' }), expect: failure('missing_token') },
        { name: 'lets a valid token pass requireScopes', send: async () => bearer(await sign({ scope: 'admin' }), '/admin'), expect: ok },
      ],
    },
    {
      name: 'messages',
      options: () => ({
        secret: HS_SECRET,
        realm: 'api',
        messages: { token_expired: 'Please sign in again', missing_token: 'Log in first', insufficient_scope: 'Admins only: ask ops' },
      }),
      cases: [
        {
          name: 'replaces a description in the body and the challenge, keeping the code',
          send: async () => bearer(await sign({ exp: now() - 60 })),
          expect: failure('token_expired', { realm: 'api', description: 'Please sign in again' }),
        },
        {
          name: 'replaces the description of missing_token in the body only',
          send: async () => ({}),
          expect: failure('missing_token', { realm: 'api', description: 'Log in first' }),
        },
        {
          name: 'replaces the description of a guard refusal, in the challenge too',
          send: async () => bearer(await sign({ scope: 'read' }), '/admin'),
          expect: {
            ...failure('insufficient_scope', { realm: 'api', scope: 'admin', description: 'Admins only: ask ops' }),
            challenge: 'Bearer realm="api", error="insufficient_scope", error_description="Admins only: ask ops", scope="admin"',
          },
        },
        { name: 'leaves other codes with their own description', send: async () => bearer('not-a-jwt'), expect: failure('malformed_token', { realm: 'api' }) },
      ],
    },
    {
      name: 'scopes as a string or an array in scope or scp',
      options: () => ({ secret: HS_SECRET }),
      cases: [
        { name: 'reads a scope array', send: async () => bearer(await sign({ scope: ['read', 'write'] })), expect: attachedWith(['read', 'write']) },
        { name: 'reads an scp array (Okta)', send: async () => bearer(await sign({ scp: ['read', 'write'] })), expect: attachedWith(['read', 'write']) },
        { name: 'reads an scp string (Azure AD)', send: async () => bearer(await sign({ scp: 'read write' })), expect: attachedWith(['read', 'write']) },
        { name: 'reads scope before scp', send: async () => bearer(await sign({ scope: 'read', scp: ['admin'] })), expect: attachedWith(['read']) },
        { name: 'lets a scope array pass requireScopes', send: async () => bearer(await sign({ scope: ['admin', 'read'] }), '/admin-read'), expect: ok },
        { name: 'lets an scp array pass requireScopes', send: async () => bearer(await sign({ scp: ['admin'] }), '/admin'), expect: ok },
        {
          name: 'refuses a scope array missing a required scope',
          send: async () => bearer(await sign({ scope: ['read'] }), '/admin'),
          expect: failure('insufficient_scope', { scope: 'admin' }),
        },
        {
          name: 'answers 401 claim_invalid for a scope array holding a number',
          send: async () => bearer(await sign({ scope: ['admin', 1] })),
          expect: failure('claim_invalid', { description: 'The scope claim is invalid' }),
        },
        {
          name: 'answers 401 claim_invalid for an scp object',
          send: async () => bearer(await sign({ scp: { admin: true } })),
          expect: failure('claim_invalid', { description: 'The scope claim is invalid' }),
        },
      ],
    },
    {
      name: 'scopeClaim: permissions (Auth0 RBAC)',
      options: () => ({ secret: HS_SECRET, scopeClaim: 'permissions' }),
      cases: [
        {
          name: 'grants the scopes of permissions',
          send: async () => bearer(await sign({ scope: 'openid', permissions: ['admin', 'read'] }), '/admin-read'),
          expect: ok,
        },
        {
          name: 'no longer reads scope',
          send: async () => bearer(await sign({ scope: 'admin' }), '/admin'),
          expect: failure('insufficient_scope', { scope: 'admin' }),
        },
        { name: 'no longer checks the type of scope', send: async () => bearer(await sign({ scope: 42, permissions: 'admin' }), '/admin'), expect: ok },
        {
          name: 'answers 401 claim_invalid for permissions of another type',
          send: async () => bearer(await sign({ permissions: true })),
          expect: failure('claim_invalid', { description: 'The scope claim is invalid' }),
        },
      ],
    },
  ];
}
