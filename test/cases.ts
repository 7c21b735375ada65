import { StoreUnavailable, type AuthErrorCode } from '@jwtauth/core';
import type { AnyOptions } from './harness/index.js';
import { jwksScenarios } from './cases-jwks.js';
import { keyScenarios } from './cases-keys.js';
import { keysetScenarios } from './cases-keyset.js';
import { requestScenarios } from './cases-request.js';
import { sourceScenarios } from './cases-sources.js';
import { dpopScenarios } from './cases-dpop.js';
import { HS_SECRET, now, rawToken, sign, signRaw, signWithText, type Keys } from './fixtures.js';

/** The contract's description for each code, as clients read it. */
export const DESCRIPTIONS: Record<AuthErrorCode, string> = {
  missing_token: 'Authentication is required: send a Bearer token',
  malformed_header: 'The Authorization header is not a valid Bearer credential',
  multiple_tokens: 'More than one token was sent; send exactly one',
  malformed_token: 'The token is not a well-formed JWT',
  invalid_signature: 'The token signature is invalid',
  algorithm_not_allowed: 'The token is signed with an algorithm that is not allowed',
  token_expired: 'The token has expired',
  token_not_yet_valid: 'The token is not valid yet (its nbf is in the future; clockTolerance allows for clock skew)',
  token_too_old: 'The token was issued too long ago',
  claim_invalid: 'The token has an invalid claim',
  wrong_token_type: 'A refresh token cannot be used as an access token',
  token_revoked: 'The token has been revoked',
  user_not_found: 'The user of this token was not found',
  insufficient_scope: 'The token does not grant the access this resource requires',
  key_unavailable: 'The keys needed to verify the token are temporarily unavailable',
  store_unavailable: 'The token cannot be checked for revocation right now; try again shortly',
  invalid_dpop_proof: 'The DPoP proof is invalid',
  use_dpop_nonce: 'The DPoP proof must carry the nonce given in the DPoP-Nonce header',
  dpop_binding_mismatch: 'The token is not bound to the key of the DPoP proof',
  dpop_required: 'This resource accepts only DPoP-bound tokens sent as Authorization: DPoP with a proof',
  token_bound: 'The token is bound to a DPoP key: send it as Authorization: DPoP with a proof',
};

const ERROR_OF: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope' };

/** What a request sends. */
export interface Send {
  method?: 'GET' | 'HEAD' | 'OPTIONS' | 'POST';
  path?: string;
  /** Header values; an array sends the header several times. */
  headers?: Record<string, string | string[]>;
  /** The request body, sent as it is (its Content-Type goes in `headers`). */
  body?: string;
  /**
   * Cookies signed the way the framework under test signs them (`Harness.signCookie`), added to
   * the `Cookie` header: `secret` defaults to the harness's own; `swap` replaces the signed value
   * afterwards, keeping its signature.
   */
  signedCookies?: Array<{ name: string; value: string; secret?: string; swap?: string }>;
}

/** What the response must be: status, the contract headers and the exact body. */
export interface Expect {
  status: number;
  /** Exact `WWW-Authenticate`, or `null` for none. */
  challenge: string | null;
  /** Exact JSON body, or `null` for an empty body. */
  body: unknown;
  retryAfter?: string;
  /** Exact `Content-Length` of an answer from jwtAuth: that of the JSON body, also for HEAD. */
  contentLength?: string;
  /** Exact `DPoP-Nonce` (RFC 9449 §9), for `use_dpop_nonce`; none otherwise. */
  dpopNonce?: string;
}

export interface Case {
  name: string;
  /** Builds the request; tokens are made here, with the file's keys. */
  send: (keys: Keys) => Promise<Send>;
  /** The expected answer; a function for bodies that echo the token. */
  expect: Expect | ((sent: Send, keys: Keys) => Expect);
}

export interface Scenario {
  name: string;
  options: (keys: Keys) => AnyOptions;
  cases: Case[];
}

const bearer = (token: string, path = '/protected'): Send => ({ path, headers: { Authorization: `Bearer ${token}` } });
/** The token a request carries, wherever it was put. */
function tokenOf(sent: Send): string {
  const headers = sent.headers ?? {};
  if (typeof headers.Authorization === 'string') return headers.Authorization.replace(/^bearer +/i, '');
  if (typeof headers['X-Token'] === 'string') return headers['X-Token'];
  const cookie = /(?:^|; )(?:access_token|at)=([^;]+)/.exec(String(headers.Cookie ?? ''));
  if (cookie !== null) return cookie[1]!;
  return new URL(sent.path ?? '/', 'http://127.0.0.1').searchParams.get('access_token') ?? '';
}

function challenge(error: string, description: string, extra: { realm?: string; scope?: string } = {}): string {
  const parts = [
    ...(extra.realm === undefined ? [] : [`realm="${extra.realm}"`]),
    `error="${error}"`,
    `error_description="${description}"`,
    ...(extra.scope === undefined ? [] : [`scope="${extra.scope}"`]),
  ];
  return `Bearer ${parts.join(', ')}`;
}

/** The answer for a failure with this code, per the contract's table. */
export function failure(code: AuthErrorCode, extra: { realm?: string; scope?: string; description?: string; head?: boolean } = {}): Expect {
  const description = extra.description ?? DESCRIPTIONS[code];
  const answer = (status: number, error: string, challengeValue: string): Expect => {
    const body = { error, error_description: description, code };
    return {
      status,
      challenge: challengeValue,
      body: extra.head ? null : body,
      contentLength: String(Buffer.byteLength(JSON.stringify(body))),
    };
  };
  if (code === 'missing_token') {
    return answer(401, 'unauthorized', extra.realm === undefined ? 'Bearer' : `Bearer realm="${extra.realm}"`);
  }
  const status = ['malformed_header', 'multiple_tokens'].includes(code) ? 400 : code === 'insufficient_scope' ? 403 : 401;
  const error = ERROR_OF[status]!;
  return answer(status, error, challenge(error, description, extra));
}

/** A 200 from `/protected` echoing what was attached; `user` defaults to the payload. */
function attached(expectUser?: (payload: Record<string, unknown>) => unknown) {
  return (sent: Send): Expect => {
    const token = tokenOf(sent);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : (payload.scp ?? []);
    return {
      status: 200,
      challenge: null,
      body: { auth: { token, header, payload, scopes }, user: expectUser ? expectUser(payload) : payload },
    };
  };
}

/** The contract's 503: no challenge, `Retry-After` instead. */
function keysUnavailable(code: 'key_unavailable' | 'store_unavailable' = 'key_unavailable'): Expect {
  const body = { error: 'temporarily_unavailable', error_description: DESCRIPTIONS[code], code };
  return { status: 503, challenge: null, retryAfter: '5', body, contentLength: String(Buffer.byteLength(JSON.stringify(body))) };
}

/** The message of the Error core wraps a non-Error throw in. */
const NON_ERROR = (type: string) => `jwtAuth: a hook threw a non-Error value (${type})`;

const ok = (body: unknown = { ok: true }): Expect => ({ status: 200, challenge: null, body });
const forwarded = (status: number, name: string, code: string | null, message: string, challenge: string | null = null): Expect => ({
  status,
  challenge,
  body: { forwarded: true, name, code, message },
});

/** The order n of the P-256 group: a signature with r or s outside 1..n-1 is invalid. */
const P256_ORDER = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

/** One token for a whole scenario, so that its cases see what earlier cases did with it. */
function sharedToken(claims: Record<string, unknown>): () => Promise<string> {
  let token: Promise<string> | undefined;
  return () => (token ??= sign(claims));
}
const escalatedToken = sharedToken({ sub: 'u1', scope: 'read' });

export const scenarios: Scenario[] = [
  {
    name: 'HMAC secret with the derived allowlist',
    options: () => ({ secret: HS_SECRET }),
    cases: [
      { name: 'attaches auth and user for a valid HS256 token', send: async () => bearer(await sign({ scope: 'read write' })), expect: attached() },
      { name: 'accepts HS384', send: async () => bearer(await sign({}, { alg: 'HS384' })), expect: attached() },
      { name: 'accepts HS512', send: async () => bearer(await sign({}, { alg: 'HS512' })), expect: attached() },
      {
        name: 'accepts a lowercase scheme and several spaces',
        send: async () => ({ headers: { Authorization: `bearer    ${await sign({})}` } }),
        expect: attached(),
      },
      { name: 'accepts an RFC 9068 at+jwt token', send: async () => bearer(await sign({}, { header: { typ: 'at+jwt' } })), expect: attached() },
      { name: 'answers 401 missing_token with a bare challenge when no token is sent', send: async () => ({}), expect: failure('missing_token') },
      {
        name: 'treats Basic credentials as a missing token',
        send: async () => ({ headers: { Authorization: 'Basic dXNlcjpwYXNz' } }),
        expect: failure('missing_token'),
      },
      {
        name: 'answers 400 malformed_header for Bearer with no token',
        send: async () => ({ headers: { Authorization: 'Bearer' } }),
        expect: failure('malformed_header'),
      },
      {
        name: 'answers 400 malformed_header for illegal characters',
        send: async () => ({ headers: { Authorization: 'Bearer abc$def' } }),
        expect: failure('malformed_header'),
      },
      {
        name: 'answers 400 malformed_header for extra parts',
        send: async () => ({ headers: { Authorization: `Bearer ${await sign({})} extra` } }),
        expect: failure('malformed_header'),
      },
      {
        name: 'answers 400 multiple_tokens for two Authorization headers',
        send: async () => ({ headers: { Authorization: [`Bearer ${await sign({})}`, `Bearer ${await sign({})}`] } }),
        expect: failure('multiple_tokens'),
      },
      { name: 'answers 401 malformed_token for a token that is not a JWS', send: async () => bearer('not-a-jwt'), expect: failure('malformed_token') },
      { name: 'answers 401 malformed_token for a JWS with four segments', send: async () => bearer('a.b.c.d'), expect: failure('malformed_token') },
      {
        name: 'answers 401 malformed_token for a header that is not JSON',
        send: async () => bearer(`${Buffer.from('nope').toString('base64url')}.e30.sig`),
        expect: failure('malformed_token'),
      },
      {
        name: 'answers 401 malformed_token for a payload that is a JSON array',
        send: async () => bearer(rawToken({ alg: 'HS256' }, [1, 2], 'c2ln')),
        expect: failure('malformed_token'),
      },
      {
        name: 'answers 401 malformed_token for a 15 KB garbage token',
        send: async () => bearer(`${'a'.repeat(15000)}.b.c`),
        expect: failure('malformed_token'),
      },
      {
        name: 'answers 401 invalid_signature for a token signed with another secret',
        send: async () => bearer(await sign({}, { key: new TextEncoder().encode('another-secret-of-thirty-two-bytes!!') })),
        expect: failure('invalid_signature'),
      },
      {
        name: 'answers 401 algorithm_not_allowed for alg none',
        send: async () => bearer(rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'admin', exp: now() + 300 })),
        expect: failure('algorithm_not_allowed'),
      },
      {
        name: 'answers 401 algorithm_not_allowed for an RS256 token',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey })),
        expect: failure('algorithm_not_allowed'),
      },
      {
        name: 'answers 401 token_expired for an expired token',
        send: async () => bearer(await sign({ iat: now() - 600, exp: now() - 60 })),
        expect: failure('token_expired'),
      },
      {
        name: 'answers 401 token_not_yet_valid for a future nbf',
        send: async () => bearer(await sign({ nbf: now() + 600 })),
        expect: failure('token_not_yet_valid'),
      },
      {
        name: 'answers 401 token_not_yet_valid for a future iat',
        send: async () => bearer(await sign({ iat: now() + 600 })),
        expect: failure('token_not_yet_valid', { description: 'The token was issued in the future (clockTolerance allows for clock skew)' }),
      },
      {
        name: 'accepts a token issued a second in the future (the default 5 s clock tolerance)',
        send: async () => bearer(await sign({ iat: now() + 1, nbf: now() + 1 })),
        expect: attached(),
      },
      {
        name: 'accepts a token expired within the default 5 s clock tolerance',
        send: async () => bearer(await sign({ iat: now() - 300, exp: now() - 2 })),
        expect: attached(),
      },
      {
        name: 'answers 401 claim_invalid for a token without exp (RFC 9068 §2.2)',
        send: async () => bearer(await sign({ exp: undefined })),
        expect: failure('claim_invalid', { description: 'The token has no exp claim' }),
      },
      {
        name: 'answers 401 malformed_token for a payload that is not UTF-8 (RFC 8725 §3.7)',
        send: async () =>
          bearer(
            `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.c2ln`,
          ),
        expect: failure('malformed_token'),
      },
      {
        name: 'gives a __proto__ claim no power: it is not the prototype of the payload',
        send: async () => bearer(await signRaw(`{"sub":"user-1","exp":${now() + 300},"__proto__":{"role":"admin","scope":"admin"}}`), '/claims'),
        expect: failure('insufficient_scope', { description: 'The token does not grant access to this resource' }),
      },
      {
        name: 'gives a __proto__ claim no scope',
        send: async () => bearer(await signRaw(`{"sub":"user-1","exp":${now() + 300},"__proto__":{"scope":"admin"}}`), '/admin'),
        expect: failure('insufficient_scope', { scope: 'admin' }),
      },
      {
        name: 'answers 401 claim_invalid for an exp of the wrong type',
        send: async () => bearer(await sign({ exp: 'soon' as unknown as number })),
        expect: failure('claim_invalid', { description: 'The exp claim is invalid' }),
      },
      {
        name: 'answers 401 claim_invalid for a scope of the wrong type',
        send: async () => bearer(await sign({ scope: 42 })),
        expect: failure('claim_invalid', { description: 'The scope claim is invalid' }),
      },
      {
        name: 'answers 401 wrong_token_type for a refresh token',
        send: async () => bearer(await sign({ token_type: 'refresh', jti: 'r1' })),
        expect: failure('wrong_token_type'),
      },
      { name: 'answers HEAD without a body but with every header', send: async () => ({ method: 'HEAD' }), expect: failure('missing_token', { head: true }) },
      {
        name: 'answers HEAD with an expired token without a body',
        send: async () => ({ method: 'HEAD', ...bearer(await sign({ exp: now() - 60 })) }),
        expect: failure('token_expired', { head: true }),
      },
      {
        name: 'answers 400 multiple_tokens for two Basic Authorization headers',
        send: async () => ({ headers: { Authorization: ['Basic YTpi', 'Basic Yzpk'] } }),
        expect: failure('multiple_tokens'),
      },
      {
        name: 'answers 400 multiple_tokens for a Bearer and a bare Basic header',
        send: async () => ({ headers: { Authorization: [`Bearer ${await sign({})}`, 'Basic'] } }),
        expect: failure('multiple_tokens'),
      },
      {
        name: 'answers 400 quickly for a header of sixteen thousand commas',
        send: async () => ({ headers: { Authorization: `Bearer ${','.repeat(16000)}` } }),
        expect: failure('malformed_header'),
      },
      {
        name: 'answers HEAD with a valid token with 200',
        send: async () => ({ method: 'HEAD', ...bearer(await sign({})) }),
        expect: { status: 200, challenge: null, body: null },
      },
      {
        name: 'authenticates a CORS preflight like any other request',
        send: async () => ({ method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'GET', Origin: 'http://127.0.0.1' } }),
        expect: failure('missing_token'),
      },
      {
        name: 'does not run the handler for a preflight with a bad Authorization header',
        send: async () => ({ method: 'OPTIONS', headers: { Authorization: 'Bearer', 'Access-Control-Request-Method': 'DELETE', Origin: 'http://127.0.0.1' } }),
        expect: failure('malformed_header'),
      },
      { name: 'answers a plain OPTIONS with missing_token', send: async () => ({ method: 'OPTIONS' }), expect: failure('missing_token') },
      { name: 'requireScopes passes with the scope in a scope string', send: async () => bearer(await sign({ scope: 'read admin' }), '/admin'), expect: ok() },
      {
        name: 'requireScopes passes with the scopes in an scp array',
        send: async () => bearer(await sign({ scp: ['admin', 'read'] }), '/admin-read'),
        expect: ok(),
      },
      {
        name: 'requireScopes answers 403 insufficient_scope naming the scope',
        send: async () => bearer(await sign({ scope: 'read' }), '/admin'),
        expect: failure('insufficient_scope', { scope: 'admin' }),
      },
      {
        name: 'requireScopes needs every scope',
        send: async () => bearer(await sign({ scp: ['admin'] }), '/admin-read'),
        expect: failure('insufficient_scope', { scope: 'admin read' }),
      },
      { name: 'requireClaims passes when the check returns true', send: async () => bearer(await sign({ role: 'admin' }), '/claims'), expect: ok() },
      {
        name: 'requireClaims answers 403 when the check returns false',
        send: async () => bearer(await sign({ role: 'user' }), '/claims'),
        expect: failure('insufficient_scope', { description: 'The token does not grant access to this resource' }),
      },
      {
        name: 'requireClaims sends a throwing check to the error path',
        send: async () => bearer(await sign({}), '/claims-throw'),
        expect: forwarded(500, 'Error', null, 'guard exploded'),
      },
      {
        name: 'requireClaims fails closed when the check rejects with undefined',
        send: async () => bearer(await sign({}), '/claims-reject'),
        expect: forwarded(500, 'Error', null, NON_ERROR('undefined')),
      },
    ],
  },
  {
    name: 'a handler that changes its auth (verified-token cache on)',
    options: () => ({ secret: HS_SECRET }),
    cases: [
      { name: 'lets the handler change its own request', send: async () => bearer(await escalatedToken(), '/escalate'), expect: ok() },
      {
        name: 'still refuses the admin scope to the next request with the token',
        send: async () => bearer(await escalatedToken(), '/admin'),
        expect: failure('insufficient_scope', { scope: 'admin' }),
      },
      {
        name: 'still refuses a claim check on the changed role',
        send: async () => bearer(await escalatedToken(), '/claims'),
        expect: failure('insufficient_scope', { description: 'The token does not grant access to this resource' }),
      },
      { name: 'attaches the token as signed to the next request', send: async () => bearer(await escalatedToken()), expect: attached() },
    ],
  },
  {
    name: 'explicit HS256-only allowlist',
    options: () => ({ secret: HS_SECRET, algorithms: ['HS256'] }),
    cases: [
      { name: 'accepts HS256', send: async () => bearer(await sign({})), expect: attached() },
      { name: 'refuses HS512 for an HS256 app', send: async () => bearer(await sign({}, { alg: 'HS512' })), expect: failure('algorithm_not_allowed') },
    ],
  },
  {
    name: 'RSA public key as PEM',
    options: (keys) => ({ secret: keys.rsPublicPem }),
    cases: [
      { name: 'accepts RS256', send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey })), expect: attached() },
      {
        name: 'accepts RS512 with the same key',
        send: async (keys) => bearer(await sign({}, { alg: 'RS512', key: keys.rsPrivateKeyObject })),
        expect: attached(),
      },
      {
        name: 'refuses an HS256 token signed with the public key text',
        send: async (keys) => bearer(await signWithText({}, keys.rsPublicPem)),
        expect: failure('algorithm_not_allowed'),
      },
      {
        name: 'answers invalid_signature for another RSA key',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rsOther.privateKey })),
        expect: failure('invalid_signature'),
      },
    ],
  },
  {
    name: 'RSA-PSS public key as CryptoKey',
    options: (keys) => ({ secret: keys.ps.publicKey }),
    cases: [
      { name: 'accepts PS256', send: async (keys) => bearer(await sign({}, { alg: 'PS256', key: keys.ps.privateKey })), expect: attached() },
      {
        name: 'refuses RS256 for a PS256 CryptoKey',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey })),
        expect: failure('algorithm_not_allowed'),
      },
    ],
  },
  {
    name: 'EC P-256 public key as JWK',
    options: (keys) => ({ secret: keys.esPublicJwk }),
    cases: [
      { name: 'accepts ES256', send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey })), expect: attached() },
      { name: 'refuses HS256', send: async () => bearer(await sign({})), expect: failure('algorithm_not_allowed') },
      {
        // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
        name: 'answers invalid_signature for an all-zero ECDSA signature',
        send: async () => bearer(rawToken({ alg: 'ES256' }, { sub: 'admin', exp: now() + 300 }, Buffer.alloc(64).toString('base64url'))),
        expect: failure('invalid_signature'),
      },
      {
        name: 'answers invalid_signature for an ECDSA signature of r = s = n (the group order)',
        send: async () =>
          bearer(rawToken({ alg: 'ES256' }, { sub: 'admin', exp: now() + 300 }, Buffer.from(P256_ORDER.repeat(2), 'hex').toString('base64url'))),
        expect: failure('invalid_signature'),
      },
    ],
  },
  {
    name: 'Ed25519 public key as KeyObject',
    options: (keys) => ({ secret: keys.edPublicKeyObject }),
    cases: [
      { name: 'accepts EdDSA', send: async (keys) => bearer(await sign({}, { alg: 'EdDSA', key: keys.edPrivateKeyObject })), expect: attached() },
      {
        name: 'answers invalid_signature for another Ed25519 key',
        send: async (keys) => bearer(await sign({}, { alg: 'EdDSA', key: keys.ed.privateKey })),
        expect: failure('invalid_signature'),
      },
    ],
  },
  {
    name: 'local JWK Set',
    options: (keys) => ({ jwks: { keys: [{ ...keys.esPublicJwk, kid: 'ec-1', alg: 'ES256', use: 'sig' }] } }),
    cases: [
      {
        name: 'selects the key by kid',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-1' } })),
        expect: attached(),
      },
      {
        name: 'answers invalid_signature for an unknown kid',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'other' } })),
        expect: failure('invalid_signature', { description: 'No key matches the token' }),
      },
    ],
  },
  {
    name: 'remote JWK Set on loopback',
    options: (keys) => ({ jwks: { uri: keys.jwksUri, timeoutDuration: 2000 } }),
    cases: [
      {
        name: 'fetches the set and selects the key by kid',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: attached(),
      },
      {
        name: 'answers invalid_signature for an unknown kid',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'nope' } })),
        expect: failure('invalid_signature', { description: 'No key matches the token' }),
      },
    ],
  },
  {
    name: 'remote JWK Set that is down',
    options: (keys) => ({ jwks: { uri: keys.deadJwksUri, timeoutDuration: 2000 } }),
    cases: [
      {
        name: 'answers 503 key_unavailable with Retry-After and no challenge',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: keysUnavailable(),
      },
      { name: 'still answers missing_token without a token', send: async () => ({}), expect: failure('missing_token') },
    ],
  },
  {
    name: 'remote JWK Set with every algorithm family',
    options: (keys) => ({ jwks: { uri: keys.familiesJwksUri, timeoutDuration: 2000 } }),
    cases: [
      {
        name: 'verifies RS256',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'rs-remote' } })),
        expect: attached(),
      },
      {
        name: 'verifies PS384 with the same RSA key',
        send: async (keys) => bearer(await sign({}, { alg: 'PS384', key: keys.rsPrivateKeyObject, header: { kid: 'rs-remote' } })),
        expect: attached(),
      },
      {
        name: 'verifies ES512',
        send: async (keys) => bearer(await sign({}, { alg: 'ES512', key: keys.es512.privateKey, header: { kid: 'es512-remote' } })),
        expect: attached(),
      },
      {
        name: 'verifies EdDSA',
        send: async (keys) => bearer(await sign({}, { alg: 'EdDSA', key: keys.ed.privateKey, header: { kid: 'ed-remote' } })),
        expect: attached(),
      },
      {
        name: 'answers invalid_signature for an unknown kid',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'rotated-out' } })),
        expect: failure('invalid_signature', { description: 'No key matches the token' }),
      },
      {
        name: 'answers invalid_signature for a key of another issuer under a known kid',
        send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rsOther.privateKey, header: { kid: 'rs-remote' } })),
        expect: failure('invalid_signature'),
      },
    ],
  },
  {
    name: 'remote JWK Set answering 500',
    options: (keys) => ({ jwks: { uri: keys.brokenJwksUri, timeoutDuration: 2000 } }),
    cases: [
      {
        name: 'answers 503 key_unavailable with Retry-After and no challenge on a cold cache',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: keysUnavailable(),
      },
      {
        name: 'answers 503 again while backing off',
        send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: keysUnavailable(),
      },
      { name: 'still answers malformed_token for a token that is not a JWS', send: async () => bearer('not-a-jwt'), expect: failure('malformed_token') },
    ],
  },
  {
    name: 'issuer discovery',
    options: (keys) => ({ issuer: keys.discoveryIssuer, discovery: true, jwks: { timeoutDuration: 2000 } }),
    cases: [
      {
        name: 'finds the JWK Set through the OpenID metadata',
        send: async (keys) => bearer(await sign({ iss: keys.discoveryIssuer }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: attached(),
      },
      {
        name: 'answers claim_invalid for another iss',
        send: async (keys) =>
          bearer(await sign({ iss: `${keys.discoveryIssuer}/other` }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: failure('claim_invalid', { description: 'The iss claim is invalid' }),
      },
      {
        name: 'answers invalid_signature for an unknown kid',
        send: async (keys) => bearer(await sign({ iss: keys.discoveryIssuer }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'nope' } })),
        expect: failure('invalid_signature', { description: 'No key matches the token' }),
      },
    ],
  },
  {
    name: 'several issuers',
    options: (keys) => ({
      issuers: {
        [keys.tenantIssuer]: { jwks: { uri: keys.jwksUri, timeoutDuration: 2000 } },
        'https://hs.test': { secret: HS_SECRET },
      },
    }),
    cases: [
      {
        name: 'verifies a token of the remote issuer',
        send: async (keys) => bearer(await sign({ iss: keys.tenantIssuer }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: attached(),
      },
      { name: 'verifies a token of the HMAC issuer', send: async () => bearer(await sign({ iss: 'https://hs.test' })), expect: attached() },
      {
        name: 'answers claim_invalid for an iss that is not listed',
        send: async (keys) => bearer(await sign({ iss: 'https://evil.test' }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } })),
        expect: failure('claim_invalid', { description: 'The iss claim is not a trusted issuer' }),
      },
      {
        name: 'answers claim_invalid for an HMAC token of an iss that is not listed',
        send: async () => bearer(await sign({ iss: 'https://evil.test' })),
        expect: failure('claim_invalid', { description: 'The iss claim is not a trusted issuer' }),
      },
    ],
  },
  {
    name: 'key function',
    options: () => ({ secret: async (header) => (header.kid === 'k1' ? HS_SECRET : undefined) }),
    cases: [
      { name: 'verifies with the key it returns', send: async () => bearer(await sign({}, { header: { kid: 'k1' } })), expect: attached() },
      {
        name: 'answers invalid_signature when it returns no key',
        send: async () => bearer(await sign({}, { header: { kid: 'k2' } })),
        expect: failure('invalid_signature', { description: 'No key matches the token' }),
      },
    ],
  },
  {
    name: 'issuer, audience, typ and required claims',
    options: () => ({ secret: HS_SECRET, issuer: 'https://issuer.test', audience: 'api', typ: 'at+jwt', requiredClaims: ['jti'] }),
    cases: [
      {
        name: 'accepts a matching token',
        send: async () => bearer(await sign({ iss: 'https://issuer.test', aud: ['api', 'other'], jti: 'j1' }, { header: { typ: 'at+jwt' } })),
        expect: attached(),
      },
      {
        name: 'answers claim_invalid for a wrong iss',
        send: async () => bearer(await sign({ iss: 'https://evil.test', aud: 'api', jti: 'j1' }, { header: { typ: 'at+jwt' } })),
        expect: failure('claim_invalid', { description: 'The iss claim is invalid' }),
      },
      {
        name: 'answers claim_invalid for a wrong aud',
        send: async () => bearer(await sign({ iss: 'https://issuer.test', aud: 'web', jti: 'j1' }, { header: { typ: 'at+jwt' } })),
        expect: failure('claim_invalid', { description: 'The aud claim is invalid' }),
      },
      {
        name: 'answers claim_invalid for a wrong typ',
        send: async () => bearer(await sign({ iss: 'https://issuer.test', aud: 'api', jti: 'j1' }, { header: { typ: 'JWT' } })),
        expect: failure('claim_invalid', { description: 'The token type (typ header) is not accepted' }),
      },
      {
        name: 'answers claim_invalid for a missing required claim',
        send: async () => bearer(await sign({ iss: 'https://issuer.test', aud: 'api' }, { header: { typ: 'at+jwt' } })),
        expect: failure('claim_invalid', { description: 'The token has no jti claim' }),
      },
      {
        name: 'answers claim_invalid for an iss of the wrong type',
        send: async () => bearer(await sign({ iss: 7 as unknown as string, aud: 'api', jti: 'j1' }, { header: { typ: 'at+jwt' } })),
        expect: failure('claim_invalid', { description: 'The iss claim is invalid' }),
      },
    ],
  },
  {
    name: 'clock tolerance and maximum age',
    options: () => ({ secret: HS_SECRET, clockTolerance: '30s', maxTokenAge: '10m' }),
    cases: [
      { name: 'accepts a token expired within the tolerance', send: async () => bearer(await sign({ iat: now() - 300, exp: now() - 10 })), expect: attached() },
      {
        name: 'refuses a token expired beyond the tolerance',
        send: async () => bearer(await sign({ iat: now() - 300, exp: now() - 60 })),
        expect: failure('token_expired'),
      },
      { name: 'accepts an nbf within the tolerance', send: async () => bearer(await sign({ nbf: now() + 10 })), expect: attached() },
      {
        name: 'answers token_too_old past maxTokenAge',
        send: async () => bearer(await sign({ iat: now() - 3600, exp: now() + 300 })),
        expect: failure('token_too_old'),
      },
    ],
  },
  {
    name: 'realm',
    options: () => ({ secret: HS_SECRET, realm: 'example "api"' }),
    cases: [
      { name: 'puts the realm alone in the missing-token challenge', send: async () => ({}), expect: failure('missing_token', { realm: 'example \\"api\\"' }) },
      {
        name: 'puts the realm before the error parameters',
        send: async () => bearer('garbage'),
        expect: failure('malformed_token', { realm: 'example \\"api\\"' }),
      },
      {
        name: 'puts the realm in the insufficient_scope challenge',
        send: async () => bearer(await sign({}), '/admin'),
        expect: failure('insufficient_scope', { realm: 'example \\"api\\"', scope: 'admin' }),
      },
    ],
  },
  {
    name: 'tokens without exp allowed (requireExp: false)',
    options: () => ({ secret: HS_SECRET, requireExp: false }),
    cases: [
      { name: 'accepts a token without exp', send: async () => bearer(await sign({ exp: undefined })), expect: attached() },
      { name: 'still refuses an expired token', send: async () => bearer(await sign({ iat: now() - 600, exp: now() - 60 })), expect: failure('token_expired') },
    ],
  },
  {
    name: 'an onEvent hook that throws',
    options: () => ({
      secret: HS_SECRET,
      onEvent: (event) => {
        if (event.type === 'auth.failed' && event.code === 'insufficient_scope') return Promise.reject(new Error('log sink down')) as unknown as void;
        throw new Error('logger exploded');
      },
    }),
    cases: [
      { name: 'changes nothing for a valid token', send: async () => bearer(await sign({})), expect: attached() },
      { name: 'changes nothing for a missing token', send: async () => ({}), expect: failure('missing_token') },
      {
        name: 'changes nothing for an expired token',
        send: async () => bearer(await sign({ iat: now() - 600, exp: now() - 60 })),
        expect: failure('token_expired'),
      },
      {
        name: 'changes nothing when it rejects for a guard refusal',
        send: async () => bearer(await sign({ scope: 'read' }), '/admin'),
        expect: failure('insufficient_scope', { scope: 'admin' }),
      },
    ],
  },
  {
    name: 'credentials not required',
    options: () => ({ secret: HS_SECRET, credentialsRequired: false }),
    cases: [
      { name: 'lets a request without a token through unauthenticated', send: async () => ({}), expect: ok({ auth: null, user: null }) },
      { name: 'still refuses a bad token', send: async () => bearer(await sign({ exp: now() - 60 })), expect: failure('token_expired') },
      { name: 'attaches auth when a good token is sent', send: async () => bearer(await sign({})), expect: attached() },
      { name: 'requireScopes answers missing_token for an unauthenticated request', send: async () => ({ path: '/admin' }), expect: failure('missing_token') },
    ],
  },
  {
    name: 'cookie and query sources',
    options: () => ({ secret: HS_SECRET, tokenFrom: { header: true, cookie: 'access_token', query: 'access_token' } }),
    cases: [
      {
        name: 'reads the token from a cookie',
        send: async () => ({ headers: { Cookie: `theme=dark; access_token=${await sign({ from: 'cookie' })}` } }),
        expect: attached(),
      },
      { name: 'reads the token from the query', send: async () => ({ path: `/protected?access_token=${await sign({ from: 'query' })}` }), expect: attached() },
      {
        name: 'answers multiple_tokens for a header and a cookie',
        send: async () => ({ headers: { Authorization: `Bearer ${await sign({})}`, Cookie: `access_token=${await sign({})}` } }),
        expect: failure('multiple_tokens'),
      },
      {
        name: 'answers multiple_tokens for a repeated query parameter',
        send: async () => ({ path: `/protected?access_token=${await sign({})}&access_token=${await sign({})}` }),
        expect: failure('multiple_tokens'),
      },
      { name: 'answers missing_token when no location has one', send: async () => ({ headers: { Cookie: 'theme=dark' } }), expect: failure('missing_token') },
    ],
  },
  {
    name: 'header reading turned off',
    options: () => ({ secret: HS_SECRET, tokenFrom: { header: false, cookie: 'at' } }),
    cases: [
      { name: 'ignores the Authorization header', send: async () => bearer(await sign({})), expect: failure('missing_token') },
      { name: 'reads the cookie', send: async () => ({ headers: { Cookie: `at=${await sign({})}` } }), expect: attached() },
    ],
  },
  {
    name: 'getToken',
    options: () => ({
      secret: HS_SECRET,
      getToken: (request: unknown) => {
        // Express/Fastify requests and the Koa context have `headers`; Hono's context has `req.header()`.
        const r = request as { headers?: Record<string, string>; req?: { header?: (name: string) => string | undefined } };
        return r.headers?.['x-token'] ?? r.req?.header?.('x-token');
      },
    }),
    cases: [
      { name: 'uses the token it returns', send: async () => ({ headers: { 'X-Token': await sign({}) } }), expect: attached() },
      { name: 'answers missing_token when it returns nothing', send: async () => bearer(await sign({})), expect: failure('missing_token') },
    ],
  },
  {
    name: 'a revocation store that cannot answer',
    options: () => ({
      secret: HS_SECRET,
      isRevoked: (payload) => {
        if (payload.jti === 'store-down') return Promise.reject(new StoreUnavailable('redis: connect ECONNREFUSED 127.0.0.1:6379'));
        if (payload.jti === 'store-timeout') throw new StoreUnavailable('redis: command timed out after 500 ms');
        return false;
      },
    }),
    cases: [
      {
        name: 'answers 503 store_unavailable with Retry-After and no challenge, never a 200',
        send: async () => bearer(await sign({ jti: 'store-down' })),
        expect: keysUnavailable('store_unavailable'),
      },
      {
        name: 'answers 503 store_unavailable for a store that throws synchronously',
        send: async () => bearer(await sign({ jti: 'store-timeout' })),
        expect: keysUnavailable('store_unavailable'),
      },
      {
        name: 'answers HEAD with the same headers and no body',
        send: async () => ({ method: 'HEAD', ...bearer(await sign({ jti: 'store-down' })) }),
        expect: { ...keysUnavailable('store_unavailable'), body: null },
      },
      { name: 'lets other tokens through', send: async () => bearer(await sign({ jti: 'fine' })), expect: attached() },
    ],
  },
  {
    name: 'isRevoked and resolveUser',
    options: () => ({
      secret: HS_SECRET,
      isRevoked: (payload) => {
        if (payload.jti === 'explode') throw new Error('revocation store down');
        if (payload.jti === 'async-revoked') return Promise.resolve(true);
        if (payload.jti === 'async-explode') return Promise.reject(new Error('revocation store timed out'));
        if (payload.jti === 'reject-nothing') return Promise.reject(undefined);
        // A revocation record rather than a boolean, as a database lookup returns it.
        if (payload.jti === 'record') return Promise.resolve({ jti: 'record' } as unknown as boolean);
        return payload.jti === 'revoked';
      },
      resolveUser: (payload) => {
        if (payload.sub === 'explode') throw new Error('user store down');
        // Express reads next('route') as "skip to the next route": it must not let the request through.
        if (payload.sub === 'route') throw 'route';
        if (payload.sub === 'null-thrower') throw null;
        if (payload.sub === 'ghost') return null;
        if (payload.sub === 'async') return Promise.resolve({ id: 'async', name: 'Async User' });
        return { id: payload.sub, name: 'Test User' };
      },
    }),
    cases: [
      {
        name: 'attaches what resolveUser returns',
        send: async () => bearer(await sign({ sub: 'u7' })),
        expect: attached((payload) => ({ id: payload.sub, name: 'Test User' })),
      },
      {
        name: 'attaches what an async resolveUser resolves to',
        send: async () => bearer(await sign({ sub: 'async' })),
        expect: attached(() => ({ id: 'async', name: 'Async User' })),
      },
      {
        name: 'answers user_not_found when resolveUser returns null',
        send: async () => bearer(await sign({ sub: 'ghost' })),
        expect: failure('user_not_found'),
      },
      { name: 'answers token_revoked when isRevoked returns true', send: async () => bearer(await sign({ jti: 'revoked' })), expect: failure('token_revoked') },
      {
        name: 'answers token_revoked when isRevoked resolves to true',
        send: async () => bearer(await sign({ jti: 'async-revoked' })),
        expect: failure('token_revoked'),
      },
      {
        name: 'sends a throwing isRevoked to the error path',
        send: async () => bearer(await sign({ jti: 'explode' })),
        expect: forwarded(500, 'Error', null, 'revocation store down'),
      },
      {
        name: 'sends a rejecting isRevoked to the error path',
        send: async () => bearer(await sign({ jti: 'async-explode' })),
        expect: forwarded(500, 'Error', null, 'revocation store timed out'),
      },
      {
        name: 'sends a throwing resolveUser to the error path',
        send: async () => bearer(await sign({ sub: 'explode' })),
        expect: forwarded(500, 'Error', null, 'user store down'),
      },
      {
        name: 'answers token_revoked when isRevoked resolves to a record',
        send: async () => bearer(await sign({ jti: 'record' })),
        expect: failure('token_revoked'),
      },
      {
        name: 'fails closed when isRevoked rejects with undefined',
        send: async () => bearer(await sign({ jti: 'reject-nothing' })),
        expect: forwarded(500, 'Error', null, NON_ERROR('undefined')),
      },
      {
        name: 'fails closed when resolveUser throws the string route',
        send: async () => bearer(await sign({ sub: 'route' })),
        expect: forwarded(500, 'Error', null, NON_ERROR('string')),
      },
      {
        name: 'fails closed when resolveUser throws null',
        send: async () => bearer(await sign({ sub: 'null-thrower' })),
        expect: forwarded(500, 'Error', null, NON_ERROR('object')),
      },
    ],
  },
  {
    name: 'forwardErrors',
    options: () => ({ secret: HS_SECRET, forwardErrors: true }),
    cases: [
      {
        name: 'sends a missing token to the error path as an AuthError',
        send: async () => ({}),
        expect: forwarded(401, 'AuthError', 'missing_token', DESCRIPTIONS.missing_token, 'Bearer'),
      },
      {
        name: 'sends an expired token to the error path',
        send: async () => bearer(await sign({ exp: now() - 60 })),
        expect: forwarded(401, 'AuthError', 'token_expired', DESCRIPTIONS.token_expired, failure('token_expired').challenge),
      },
      {
        name: 'sends a guard failure to the error path',
        send: async () => bearer(await sign({}), '/admin'),
        expect: forwarded(403, 'AuthError', 'insufficient_scope', DESCRIPTIONS.insufficient_scope, failure('insufficient_scope', { scope: 'admin' }).challenge),
      },
    ],
  },
  ...keyScenarios({ bearer, attached, failure, forwarded }),
  ...jwksScenarios({ bearer, attached, failure, keysUnavailable }),
  ...requestScenarios({ bearer, failure, descriptions: DESCRIPTIONS }),
  ...keysetScenarios({ bearer, attached, failure, forwarded }),
  ...sourceScenarios({ bearer, attached, failure, forwarded }),
  ...dpopScenarios(),
];
