import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EC_CERTIFICATE, EC_CERTIFICATE_KEY } from '../keys/test-certificates.js';
import { createAuthenticator, type AuthResult } from '../authenticate.js';
import type { AuthErrorCode } from '../errors.js';
import type { AuthEvent } from '../events.js';
import type { SignatureCheck } from '../crypto/signature.js';
import type { KeyInput } from '../keys/keys.js';
import type { JwtAuthOptions } from '../options.js';
import { useSignatureCheck } from './verify.js';

/** Time is frozen for every scenario: jose and core both read `currentDate`. */
const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SECRET = 'an-hmac-secret-long-enough-for-hs512-signatures-0123456789abcdef';
const SECRET_BYTES = new TextEncoder().encode(SECRET);

type Key = CryptoKey | Uint8Array;
interface SignOptions {
  alg?: string;
  key?: Key;
  header?: Record<string, unknown>;
  /** Leave out the default `iat` / `exp`. */
  bare?: boolean;
}

function sign(claims: Record<string, unknown> = {}, options: SignOptions = {}): Promise<string> {
  const defaults = options.bare ? {} : { iat: NOW_S, exp: NOW_S + 300 };
  return new SignJWT({ sub: 'user-1', ...defaults, ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...options.header })
    .sign(options.key ?? SECRET_BYTES);
}

const b64url = (value: string) => Buffer.from(value).toString('base64url');
/** A compact JWS assembled by hand (for tokens jose refuses to make). */
const rawToken = (header: unknown, payload: unknown, signature = 'c2ln') =>
  `${b64url(typeof header === 'string' ? header : JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}.${signature}`;

function bearer(token: string): Request {
  return new Request('https://api.example/resource', { headers: { authorization: `Bearer ${token}` } });
}

async function check(options: JwtAuthOptions, token: string): Promise<AuthResult> {
  const request = bearer(token);
  return createAuthenticator({ currentDate: () => NOW, ...options }).authenticate(request, request);
}

function codeOf(result: AuthResult): AuthErrorCode | 'ok' {
  return result.ok ? 'ok' : result.error.code;
}

interface Pair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const pairs = {} as Record<(typeof ASYMMETRIC)[number], Pair>;
const pems = {} as Record<(typeof ASYMMETRIC)[number], string>;
const publicJwks = {} as Record<(typeof ASYMMETRIC)[number], JWK>;
let rsOther: Pair;
let rsStranger: Pair;
let rsOtherJwk: JWK;

beforeAll(async () => {
  for (const alg of ASYMMETRIC) {
    const pair = await generateKeyPair(alg, { extractable: true });
    pairs[alg] = pair;
    pems[alg] = await exportSPKI(pair.publicKey);
    publicJwks[alg] = await exportJWK(pair.publicKey);
  }
  rsOther = await generateKeyPair('RS256', { extractable: true });
  rsStranger = await generateKeyPair('RS256');
  rsOtherJwk = await exportJWK(rsOther.publicKey);
});

describe('verifies a token signed with every supported algorithm', () => {
  it.each(['HS256', 'HS384', 'HS512'])('accepts %s with a string secret', async (alg) => {
    expect(codeOf(await check({ secret: SECRET }, await sign({}, { alg })))).toBe('ok');
  });

  it.each(['HS256', 'HS384', 'HS512'])('accepts %s with a byte secret', async (alg) => {
    expect(codeOf(await check({ secret: SECRET_BYTES }, await sign({}, { alg })))).toBe('ok');
  });

  it.each(ASYMMETRIC)('accepts %s with the public key as SPKI PEM', async (alg) => {
    const token = await sign({}, { alg, key: pairs[alg].privateKey });
    expect(codeOf(await check({ secret: pems[alg] }, token))).toBe('ok');
  });

  it.each(ASYMMETRIC)('accepts %s with the public key as JWK', async (alg) => {
    const token = await sign({}, { alg, key: pairs[alg].privateKey });
    expect(codeOf(await check({ secret: publicJwks[alg] }, token))).toBe('ok');
  });

  it.each(ASYMMETRIC)('accepts %s with the public key as CryptoKey', async (alg) => {
    const token = await sign({}, { alg, key: pairs[alg].privateKey });
    expect(codeOf(await check({ secret: pairs[alg].publicKey }, token))).toBe('ok');
  });

  it('accepts ES256 with the public key as an X.509 certificate', async () => {
    const token = await sign({}, { alg: 'ES256', key: await importPKCS8(EC_CERTIFICATE_KEY, 'ES256') });
    expect(codeOf(await check({ secret: EC_CERTIFICATE }, token))).toBe('ok');
  });
});

describe('refuses tokens whose algorithm or signature is wrong', () => {
  it('answers algorithm_not_allowed for an unsigned alg "none" token', async () => {
    const token = rawToken({ alg: 'none' }, { sub: 'admin', iat: NOW_S, exp: NOW_S + 60 }, '');
    expect(codeOf(await check({ secret: SECRET }, token))).toBe('algorithm_not_allowed');
    expect(codeOf(await check({ secret: pems.RS256 }, token))).toBe('algorithm_not_allowed');
    expect(codeOf(await check({ secret: async () => SECRET }, token))).toBe('algorithm_not_allowed');
  });

  it.each(['none', 'None', 'NONE'])('answers algorithm_not_allowed for alg %j with a signature', async (alg) => {
    const token = rawToken({ alg }, { sub: 'admin' });
    expect(codeOf(await check({ secret: SECRET }, token))).toBe('algorithm_not_allowed');
  });

  it('answers algorithm_not_allowed for an HS256 token signed with the RSA public key PEM as HMAC secret', async () => {
    const token = await sign({ sub: 'admin' }, { alg: 'HS256', key: new TextEncoder().encode(pems.RS256) });
    expect(codeOf(await check({ secret: pems.RS256 }, token))).toBe('algorithm_not_allowed');
    expect(codeOf(await check({ secret: publicJwks.RS256 }, token))).toBe('algorithm_not_allowed');
    expect(codeOf(await check({ secret: pairs.RS256.publicKey }, token))).toBe('algorithm_not_allowed');
    expect(codeOf(await check({ jwks: { keys: [publicJwks.RS256] } }, token))).toBe('algorithm_not_allowed');
  });

  it('answers algorithm_not_allowed when a key function returns a public key for an HMAC token', async () => {
    const token = await sign({}, { alg: 'HS256', key: new TextEncoder().encode(pems.RS256) });
    expect(codeOf(await check({ secret: async () => pems.RS256 }, token))).toBe('algorithm_not_allowed');
  });

  it.each<[string, JwtAuthOptions, string]>([
    ['an algorithm outside a narrowed allowlist', { secret: SECRET, algorithms: ['HS512'] }, 'HS256'],
    ['RS256 presented to an HMAC secret', { secret: SECRET }, 'RS256'],
    ['an algorithm this package does not know', { secret: SECRET }, 'HS1'],
  ])('answers algorithm_not_allowed for %s', async (_, options, alg) => {
    expect(codeOf(await check(options, rawToken({ alg }, { sub: 'x' })))).toBe('algorithm_not_allowed');
  });

  it('answers algorithm_not_allowed for an RS256 token when the RSA CryptoKey is bound to PS256', async () => {
    const token = await sign({}, { alg: 'RS256', key: pairs.RS256.privateKey });
    expect(codeOf(await check({ secret: pairs.PS256.publicKey }, token))).toBe('algorithm_not_allowed');
  });

  it.each<[string, () => Promise<string>, () => JwtAuthOptions]>([
    ['another HMAC secret', () => sign({}, { key: new TextEncoder().encode('another-secret-entirely-32-bytes!') }), () => ({ secret: SECRET })],
    ['another RSA key', () => sign({}, { alg: 'RS256', key: rsOther.privateKey }), () => ({ secret: pems.RS256 })],
    ['another EC key', () => sign({}, { alg: 'ES256', key: pairs.ES256.privateKey }), () => ({ secret: EC_CERTIFICATE })],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await sign({ role: 'user' })).split('.');
        return `${h}.${b64url(JSON.stringify({ sub: 'user-1', role: 'admin' }))}.${s}`;
      },
      () => ({ secret: SECRET }),
    ],
    // Three characters off leaves a whole number of base64url quads: well-formed, just wrong.
    ['a truncated signature', async () => (await sign()).slice(0, -3), () => ({ secret: SECRET })],
  ])('answers invalid_signature for a token signed with %s', async (_, token, options) => {
    expect(codeOf(await check(options(), await token()))).toBe('invalid_signature');
  });
});

describe('a local JWK Set', () => {
  const jwks = () => ({
    keys: [
      { ...publicJwks.RS256, kid: 'one' },
      { ...rsOtherJwk, kid: 'two' },
      { ...publicJwks.ES256, kid: 'ec' },
    ],
  });

  it.each<[string, () => Promise<string>, AuthErrorCode | 'ok']>([
    ['selects the key by kid', () => sign({}, { alg: 'RS256', key: rsOther.privateKey, header: { kid: 'two' } }), 'ok'],
    ['selects an EC key by kid', () => sign({}, { alg: 'ES256', key: pairs.ES256.privateKey, header: { kid: 'ec' } }), 'ok'],
    ['answers invalid_signature for an unknown kid', () => sign({}, { alg: 'RS256', key: rsOther.privateKey, header: { kid: 'three' } }), 'invalid_signature'],
    [
      'answers invalid_signature when the kid names another key',
      () => sign({}, { alg: 'RS256', key: rsOther.privateKey, header: { kid: 'one' } }),
      'invalid_signature',
    ],
    ['tries every key of the kty when there is no kid (first key)', () => sign({}, { alg: 'RS256', key: pairs.RS256.privateKey }), 'ok'],
    ['tries every key of the kty when there is no kid (second key)', () => sign({}, { alg: 'RS256', key: rsOther.privateKey }), 'ok'],
    [
      'answers invalid_signature when no key of the kty verifies a token without kid',
      () => sign({}, { alg: 'RS256', key: rsStranger.privateKey }),
      'invalid_signature',
    ],
    ['answers algorithm_not_allowed for HS256 against a set of public keys', () => sign({}, { alg: 'HS256' }), 'algorithm_not_allowed'],
    [
      'answers algorithm_not_allowed for an algorithm no key in the set has',
      () => sign({}, { alg: 'EdDSA', key: pairs.EdDSA.privateKey }),
      'algorithm_not_allowed',
    ],
  ])('%s', async (_, token, expected) => {
    expect(codeOf(await check({ jwks: jwks() }, await token()))).toBe(expected);
  });
});

describe('a remote JWK Set on 127.0.0.1', () => {
  let server: Server;
  let uri: string;
  beforeAll(async () => {
    server = createServer((_, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [{ ...publicJwks.ES256, kid: 'ec' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies a token with a key fetched from the set', async () => {
    const token = await sign({}, { alg: 'ES256', key: pairs.ES256.privateKey, header: { kid: 'ec' } });
    expect(codeOf(await check({ jwks: { uri } }, token))).toBe('ok');
  });

  it('answers 503 key_unavailable with Retry-After when the set cannot be fetched', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const token = await sign({}, { alg: 'ES256', key: pairs.ES256.privateKey, header: { kid: 'ec' } });
    const result = await check({ jwks: { uri: `http://127.0.0.1:${port}/jwks.json`, timeoutDuration: 2000 } }, token);
    expect(codeOf(result)).toBe('key_unavailable');
    expect(!result.ok && result.error.status).toBe(503);
    expect(!result.ok && result.error.headers['Retry-After']).toBeDefined();
  });
});

describe('time claims (clock frozen with currentDate)', () => {
  it.each<[string, Record<string, unknown>, JwtAuthOptions, AuthErrorCode | 'ok']>([
    ['accepts a token that expires in one second', { exp: NOW_S + 1 }, {}, 'ok'],
    ['answers token_expired when exp is now and clockTolerance is 0', { exp: NOW_S }, { clockTolerance: 0 }, 'token_expired'],
    ['accepts a token expired 4 s ago within the default 5 s tolerance', { exp: NOW_S - 4 }, {}, 'ok'],
    ['answers token_expired 5 s after exp by default', { exp: NOW_S - 5 }, {}, 'token_expired'],
    ['answers token_expired when exp is in the past', { exp: NOW_S - 3600 }, {}, 'token_expired'],
    ['accepts an expired token within clockTolerance', { exp: NOW_S - 29 }, { clockTolerance: 30 }, 'ok'],
    ['accepts an expired token within clockTolerance given as "30s"', { exp: NOW_S - 29 }, { clockTolerance: '30s' }, 'ok'],
    ['answers token_expired once exp is clockTolerance in the past', { exp: NOW_S - 30 }, { clockTolerance: 30 }, 'token_expired'],
    ['accepts nbf of now', { nbf: NOW_S }, {}, 'ok'],
    ['answers token_not_yet_valid when nbf is in the future and clockTolerance is 0', { nbf: NOW_S + 1 }, { clockTolerance: 0 }, 'token_not_yet_valid'],
    ['accepts nbf and iat a second ahead by default (an issuer clock running ahead)', { nbf: NOW_S + 1, iat: NOW_S + 1 }, {}, 'ok'],
    ['answers token_not_yet_valid when nbf is beyond the default tolerance', { nbf: NOW_S + 6 }, {}, 'token_not_yet_valid'],
    ['accepts nbf exactly clockTolerance ahead', { nbf: NOW_S + 30 }, { clockTolerance: '30s' }, 'ok'],
    ['answers token_not_yet_valid when nbf is beyond clockTolerance', { nbf: NOW_S + 31 }, { clockTolerance: '30s' }, 'token_not_yet_valid'],
    ['answers token_not_yet_valid when iat is in the future', { iat: NOW_S + 60 }, {}, 'token_not_yet_valid'],
    ['answers token_not_yet_valid when iat is in the future and maxTokenAge is set', { iat: NOW_S + 60 }, { maxTokenAge: '1h' }, 'token_not_yet_valid'],
    ['accepts iat exactly clockTolerance ahead', { iat: NOW_S + 30 }, { clockTolerance: 30 }, 'ok'],
    ['answers token_not_yet_valid when iat is beyond clockTolerance', { iat: NOW_S + 31 }, { clockTolerance: 30 }, 'token_not_yet_valid'],
    ['accepts a token as old as maxTokenAge', { iat: NOW_S - 3600 }, { maxTokenAge: '1h' }, 'ok'],
    ['answers token_too_old when older than maxTokenAge', { iat: NOW_S - 3601 }, { maxTokenAge: '1h', clockTolerance: 0 }, 'token_too_old'],
    ['answers token_too_old when older than maxTokenAge in seconds', { iat: NOW_S - 61 }, { maxTokenAge: 60, clockTolerance: 0 }, 'token_too_old'],
    ['answers token_too_old past maxTokenAge and the default tolerance', { iat: NOW_S - 66 }, { maxTokenAge: 60 }, 'token_too_old'],
    ['accepts a token older than maxTokenAge within clockTolerance', { iat: NOW_S - 3610 }, { maxTokenAge: '1h', clockTolerance: 10 }, 'ok'],
    ['answers claim_invalid when maxTokenAge is set and iat is missing', { iat: undefined }, { maxTokenAge: '1h' }, 'claim_invalid'],
    ['answers claim_invalid for a token with no exp (RFC 9068 §2.2)', { exp: undefined }, {}, 'claim_invalid'],
    ['accepts a token with no exp when requireExp is false', { exp: undefined }, { requireExp: false }, 'ok'],
  ])('%s', async (_, claims, options, expected) => {
    expect(codeOf(await check({ secret: SECRET, ...options }, await sign(claims)))).toBe(expected);
  });
});

describe('claims and header checks', () => {
  it.each<[string, Record<string, unknown>, JwtAuthOptions, AuthErrorCode | 'ok', SignOptions?]>([
    ['accepts the expected issuer', { iss: 'https://issuer.example' }, { issuer: 'https://issuer.example' }, 'ok'],
    ['accepts one of several issuers', { iss: 'b' }, { issuer: ['a', 'b'] }, 'ok'],
    ['answers claim_invalid for another issuer', { iss: 'https://evil.example' }, { issuer: 'https://issuer.example' }, 'claim_invalid'],
    ['answers claim_invalid for a missing issuer', {}, { issuer: 'https://issuer.example' }, 'claim_invalid'],
    ['answers claim_invalid for a numeric iss when an issuer is expected', { iss: 5 }, { issuer: '5' }, 'claim_invalid'],
    ['accepts the expected audience', { aud: 'api' }, { audience: 'api' }, 'ok'],
    ['accepts an audience array holding the expected audience', { aud: ['other', 'api'] }, { audience: 'api' }, 'ok'],
    ['accepts one of several audiences', { aud: 'api2' }, { audience: ['api1', 'api2'] }, 'ok'],
    ['answers claim_invalid for another audience', { aud: 'other' }, { audience: 'api' }, 'claim_invalid'],
    ['answers claim_invalid for a missing audience', {}, { audience: 'api' }, 'claim_invalid'],
    ['answers claim_invalid for a numeric aud', { aud: 5 }, { audience: 'api' }, 'claim_invalid'],
    ['accepts the expected subject', { sub: 'user-1' }, { subject: 'user-1' }, 'ok'],
    ['answers claim_invalid for another subject', { sub: 'user-2' }, { subject: 'user-1' }, 'claim_invalid'],
    ['accepts typ at+jwt when typ "at+jwt" is expected', {}, { typ: 'at+jwt' }, 'ok', { header: { typ: 'at+jwt' } }],
    ['accepts typ application/at+jwt when typ "at+jwt" is expected', {}, { typ: 'at+jwt' }, 'ok', { header: { typ: 'application/at+jwt' } }],
    ['answers claim_invalid for typ JWT when "at+jwt" is expected', {}, { typ: 'at+jwt' }, 'claim_invalid', { header: { typ: 'JWT' } }],
    ['answers claim_invalid for a missing typ when "at+jwt" is expected', {}, { typ: 'at+jwt' }, 'claim_invalid'],
    ['accepts any typ when none is expected', {}, {}, 'ok', { header: { typ: 'whatever' } }],
    ['accepts a token holding every required claim', { jti: 'id-1', tenant: 't' }, { requiredClaims: ['jti', 'tenant'] }, 'ok'],
    ['answers claim_invalid when a required claim is missing', { jti: 'id-1' }, { requiredClaims: ['jti', 'tenant'] }, 'claim_invalid'],
    ['answers claim_invalid for exp "soon"', { exp: 'soon' }, {}, 'claim_invalid'],
    ['answers claim_invalid for a string nbf', { nbf: '0' }, {}, 'claim_invalid'],
    ['answers claim_invalid for a string iat', { iat: 'yesterday' }, {}, 'claim_invalid'],
    ['answers claim_invalid for a numeric scope', { scope: 5 }, {}, 'claim_invalid'],
    ['answers claim_invalid for a numeric iss when no issuer is checked', { iss: 5 }, {}, 'claim_invalid'],
    ['answers claim_invalid for a numeric sub when no subject is checked', { sub: 5 }, {}, 'claim_invalid'],
    ['answers claim_invalid for a numeric aud when no audience is checked', { aud: 5 }, {}, 'claim_invalid'],
    ['answers claim_invalid for an aud array holding a number', { aud: ['api', 5] }, {}, 'claim_invalid'],
    ['answers claim_invalid for a numeric jti', { jti: 5 }, {}, 'claim_invalid'],
    ['answers claim_invalid for an scp array holding a number', { scp: ['read', 1] }, {}, 'claim_invalid'],
    ['answers claim_invalid for an object scp', { scp: { read: true } }, {}, 'claim_invalid'],
    ['answers wrong_token_type for a refresh token', { token_type: 'refresh', jti: 'r-1' }, {}, 'wrong_token_type'],
    ['accepts a token_type "access" token', { token_type: 'access' }, {}, 'ok'],
  ])('%s', async (_, claims, options, expected, signOptions) => {
    expect(codeOf(await check({ secret: SECRET, ...options }, await sign(claims, signOptions)))).toBe(expected);
  });

  it('answers wrong_token_type for a refresh token even when its typ is at+jwt', async () => {
    const token = await sign({ token_type: 'refresh' }, { header: { typ: 'at+jwt' } });
    expect(codeOf(await check({ secret: SECRET, typ: 'at+jwt' }, token))).toBe('wrong_token_type');
  });
});

describe('tokens that are not compact JWS', () => {
  const big = 'A'.repeat(20 * 1024);
  it.each<[string, () => Promise<string> | string]>([
    ['a 20 KB token', () => sign({ padding: big })],
    ['a.b.c', () => 'a.b.c'],
    ['three dots', () => '...'],
    ['two segments', async () => (await sign()).split('.').slice(0, 2).join('.')],
    ['four segments', async () => `${await sign()}.c2ln`],
    ['a single segment', () => 'abcdef'],
    ['a header that is not JSON', () => rawToken('{alg:HS256', { sub: 'x' })],
    ['a header that is a JSON string', () => rawToken('"HS256"', { sub: 'x' })],
    ['a header without alg', () => rawToken({ typ: 'JWT' }, { sub: 'x' })],
    ['a header with a numeric alg', () => rawToken({ alg: 256 }, { sub: 'x' })],
    ['a payload that is a JSON array', () => rawToken({ alg: 'HS256' }, '["sub"]')],
    ['a payload that is JSON null', () => rawToken({ alg: 'HS256' }, 'null')],
    ['a payload that is not JSON', () => rawToken({ alg: 'HS256' }, 'sub=admin')],
    ['a payload that is not UTF-8', () => `${b64url('{"alg":"HS256"}')}.${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}.c2ln`],
    ['standard base64 in the signature', async () => `${(await sign()).slice(0, -2)}+/`],
    ['base64 padding after the signature', async () => `${await sign()}==`],
  ])('answers malformed_token for %s', async (_, token) => {
    expect(codeOf(await check({ secret: SECRET }, await token()))).toBe('malformed_token');
  });
});

describe('the secret as a key function', () => {
  it('verifies with the key an async function returns, given the header and token', async () => {
    const token = await sign({}, { alg: 'ES256', key: pairs.ES256.privateKey, header: { kid: 'k1' } });
    const calls: unknown[][] = [];
    const result = await check(
      {
        secret: async (header, raw) => {
          calls.push([header.kid, raw]);
          return pems.ES256;
        },
      },
      token,
    );
    expect(codeOf(result)).toBe('ok');
    expect(calls).toEqual([['k1', token]]);
  });

  it.each<[string, () => unknown]>([
    ['undefined', () => undefined],
    ['null', () => null],
  ])('answers invalid_signature when the function returns %s', async (_, returned) => {
    const result = await check({ secret: async () => returned() as undefined }, await sign());
    expect(codeOf(result)).toBe('invalid_signature');
  });

  it('answers invalid_signature when the returned key does not verify the token', async () => {
    expect(codeOf(await check({ secret: () => 'another-secret-entirely-32-bytes!' }, await sign()))).toBe('invalid_signature');
  });

  it('rejects with the very error the function throws', async () => {
    const failure = new Error('key store down');
    await expect(
      check(
        {
          secret: async () => {
            throw failure;
          },
        },
        await sign(),
      ),
    ).rejects.toBe(failure);
  });
});

describe('a key function that returns something that is not a key', () => {
  /** The usual registry lookup: `keys[header.kid]`, where a kid can name any inherited member. */
  const KEYS: Record<string, unknown> = {
    k1: SECRET,
    count: 42,
    flag: true,
    wrapped: { secret: SECRET },
    noKeys: [],
    listOfNothing: [undefined, 42, { secret: SECRET }],
    nothing: null,
  };
  const lookup = (header: { kid?: string }) => KEYS[header.kid ?? ''] as KeyInput;

  it('verifies with the key it finds', async () => {
    expect(codeOf(await check({ secret: lookup }, await sign({}, { header: { kid: 'k1' } })))).toBe('ok');
  });

  it.each([
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
    'propertyIsEnumerable',
    'count',
    'flag',
    'wrapped',
    'noKeys',
    'listOfNothing',
    'nothing',
    'not-there',
  ])('answers invalid_signature "No key matches the token" for kid %j', async (kid) => {
    const events: AuthEvent[] = [];
    const result = await check({ secret: lookup, onEvent: (event) => events.push(event) }, await sign({}, { header: { kid } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid_signature');
    expect(result.error.status).toBe(401);
    expect(result.error.description).toBe('No key matches the token');
    expect(events).toMatchObject([
      {
        type: 'auth.failed',
        code: 'invalid_signature',
        kid,
        reason: expect.stringMatching(/^the "secret" function returned (no key|an array without a key|an? [a-z "]+, not a key)$/),
      },
    ]);
  });

  it('answers the same for a token without kid', async () => {
    expect(codeOf(await check({ secret: lookup }, await sign()))).toBe('invalid_signature');
  });

  it.each<[string, () => unknown, RegExp]>([
    ['a secret too short for HMAC', () => 'too-short', /9 bytes/],
    ['an empty string', () => '', /0 bytes/],
    ['a private JWK', () => ({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }), /private JWK/],
    ['a private key PEM', () => EC_CERTIFICATE_KEY, /private key/],
    ['an ArrayBuffer', () => new ArrayBuffer(64), /Uint8Array/],
    ['the bytes of a PEM file', () => new TextEncoder().encode(EC_CERTIFICATE), /PEM text/],
  ])('sends a key-shaped but unusable key (%s) to the error path as a TypeError', async (_, key, message) => {
    const outcome = check({ secret: () => key() as KeyInput }, await sign());
    await expect(outcome).rejects.toThrow(TypeError);
    await expect(check({ secret: () => key() as KeyInput }, await sign())).rejects.toThrow(message);
  });
});

describe('a key function returning several keys', () => {
  const OLD = 'the-old-hmac-secret-being-retired-0123456789abcdef-sixty-four-by';
  const OLD_BYTES = new TextEncoder().encode(OLD);

  it.each<[string, () => Promise<string>, AuthErrorCode | 'ok']>([
    ['verifies a token of the first key', () => sign(), 'ok'],
    ['verifies a token of the second key', () => sign({}, { key: OLD_BYTES }), 'ok'],
    [
      'answers invalid_signature for a key it does not return',
      () => sign({}, { key: new TextEncoder().encode('another-secret-entirely-32-bytes!') }),
      'invalid_signature',
    ],
  ])('%s (an array answered 500 before)', async (_, token, expected) => {
    expect(codeOf(await check({ secret: () => [SECRET, OLD] }, await token()))).toBe(expected);
    expect(codeOf(await check({ secret: async () => [SECRET_BYTES, OLD_BYTES] }, await token()))).toBe(expected);
  });

  it('chooses among the JWKs it returns by kid', async () => {
    const returned = () => [
      { ...publicJwks.RS256, kid: 'one' },
      { ...rsOtherJwk, kid: 'two' },
    ];
    expect(codeOf(await check({ secret: returned }, await sign({}, { alg: 'RS256', key: rsOther.privateKey, header: { kid: 'two' } })))).toBe('ok');
    expect(codeOf(await check({ secret: returned }, await sign({}, { alg: 'RS256', key: rsOther.privateKey, header: { kid: 'one' } })))).toBe(
      'invalid_signature',
    );
  });

  it('skips entries that are not keys, as it does a single answer', async () => {
    expect(codeOf(await check({ secret: () => [undefined, 42, OLD] as unknown as KeyInput[] }, await sign({}, { key: OLD_BYTES })))).toBe('ok');
  });

  it('answers algorithm_not_allowed for HS256 signed with the text of an RSA public key it returns', async () => {
    const token = await sign({ sub: 'admin' }, { key: new TextEncoder().encode(pems.RS256) });
    expect(codeOf(await check({ secret: () => [pems.RS256, publicJwks.ES256] }, token))).toBe('algorithm_not_allowed');
  });

  it.each<[string, () => KeyInput[]]>([
    ['an HMAC secret and an RSA PEM', () => [SECRET, pems.RS256]],
    ['an RSA JWK and HMAC bytes', () => [publicJwks.RS256, SECRET_BYTES]],
  ])('sends %s together to the error path as a TypeError (algorithm confusion)', async (_, keys) => {
    for (const token of [await sign(), await sign({}, { alg: 'RS256', key: pairs.RS256.privateKey })]) {
      await expect(check({ secret: keys }, token)).rejects.toThrow(TypeError);
      await expect(check({ secret: keys }, token)).rejects.toThrow(
        /^jwtAuth: the "secret" function returned keys that cannot be used together: it mixes HMAC secrets with public keys/,
      );
    }
  });

  it('sends an unusable key among them to the error path as a TypeError', async () => {
    await expect(check({ secret: () => [SECRET, 'too-short'] }, await sign())).rejects.toThrow(/unusable key: the HMAC secret is 9 bytes/);
  });
});

describe('key functions receive the framework request', () => {
  const TENANTS: Record<string, string> = {
    'a.example': 'tenant-a-secret-long-enough-for-hs256-signatures',
    'b.example': 'tenant-b-secret-long-enough-for-hs256-signatures',
  };
  /** A framework's request: core reads the Fetch request, the key function gets this object. */
  const frameworkRequest = (host: string) => ({ host, framework: 'test' });
  const byHost = vi.fn((_header: unknown, _token: string, request: { host: string }) => TENANTS[request.host]);
  const tenantToken = (host: string) => sign({}, { key: new TextEncoder().encode(TENANTS[host]) });

  function tenantAuthenticator(options: Partial<JwtAuthOptions<JWTPayload, JWTPayload, { host: string }>> = {}) {
    const authenticator = createAuthenticator<JWTPayload, JWTPayload, { host: string }>({ secret: byHost, currentDate: () => NOW, ...options });
    return async (host: string, token: string) => {
      const result = await authenticator.authenticate(bearer(token), frameworkRequest(host));
      return codeOf(result);
    };
  }
  beforeEach(() => {
    byHost.mockClear();
  });

  it('passes the header, the token and the request given to authenticate', async () => {
    const token = await tenantToken('a.example');
    expect(await tenantAuthenticator()('a.example', token)).toBe('ok');
    expect(byHost.mock.calls).toEqual([[{ alg: 'HS256' }, token, { host: 'a.example', framework: 'test' }]]);
  });

  it.each([
    ['with the verified-token cache', {}],
    ['without it', { cache: false as const }],
  ])("never accepts a tenant's token at another tenant's host (%s)", async (_, options) => {
    const send = tenantAuthenticator(options);
    const token = await tenantToken('a.example');
    expect(await send('a.example', token)).toBe('ok');
    expect(await send('b.example', token)).toBe('invalid_signature');
    expect(await send('unknown.example', token)).toBe('invalid_signature');
    expect(await send('a.example', token)).toBe('ok');
  });

  describe('and the verified-token cache', () => {
    const signatureChecks = vi.fn<SignatureCheck['verify']>();
    let runtimeChecks: SignatureCheck;
    beforeEach(() => {
      signatureChecks.mockReset();
      signatureChecks.mockImplementation((...args) => runtimeChecks.verify(...args));
      runtimeChecks = useSignatureCheck({ name: 'node:crypto', verify: signatureChecks });
    });
    afterEach(() => useSignatureCheck(runtimeChecks));

    it('runs the function for every request, and checks the signature once while it returns the same key', async () => {
      const send = tenantAuthenticator();
      const token = await tenantToken('a.example');
      for (let i = 0; i < 4; i++) expect(await send('a.example', token)).toBe('ok');
      expect(byHost).toHaveBeenCalledTimes(4);
      // Verified twice (a token is kept from its second verification on), then from the cache.
      expect(signatureChecks).toHaveBeenCalledTimes(2);
    });

    it('stops accepting a cached token at once when the function stops returning its key', async () => {
      let keys: string[] = [SECRET, 'another-secret-entirely-32-bytes!'];
      const authenticator = createAuthenticator({ secret: () => keys, currentDate: () => NOW });
      const token = await sign();
      const send = async () => codeOf(await authenticator.authenticate(bearer(token), null));
      expect(await send()).toBe('ok');
      expect(await send()).toBe('ok');
      keys = ['another-secret-entirely-32-bytes!'];
      expect(await send()).toBe('invalid_signature');
    });
  });
});

describe('a PEM however it is laid out', () => {
  const LAYOUTS: ReadonlyArray<[string, (pem: string) => string]> = [
    ['a leading newline', (pem) => `\n${pem}`],
    ['leading spaces', (pem) => `   ${pem}`],
    ['every line indented (a template literal)', (pem) => `\n      ${pem.trim().split('\n').join('\n      ')}\n    `],
    ['trailing spaces and newlines', (pem) => `${pem.trim()}   \n\n`],
    ['CRLF line ends', (pem) => pem.replace(/\n/g, '\r\n')],
    ['CRLF line ends, a leading CRLF and a trailing CRLF', (pem) => `\r\n${pem.trim().replace(/\n/g, '\r\n')}\r\n`],
    ['tabs at the ends of lines', (pem) => pem.replace(/\n/g, '\t\n')],
    [
      'the body on one line',
      (pem) =>
        pem
          .replace(/\n(?!-----END)/g, '')
          .replace('-----BEGIN PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\n')
          .replace('-----BEGIN CERTIFICATE-----', '-----BEGIN CERTIFICATE-----\n'),
    ],
    ['text before the block (openssl output)', (pem) => `subject=CN = api\nissuer=CN = api\n${pem}`],
    ['literal \\n escapes (pasted into an environment variable)', (pem) => pem.trim().replace(/\n/g, '\\n')],
  ];

  it.each(LAYOUTS)('verifies RS256, ES256 and EdDSA tokens with an SPKI PEM with %s', async (_, layout) => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const token = await sign({}, { alg, key: pairs[alg].privateKey });
      expect(codeOf(await check({ secret: layout(pems[alg]) }, token)), alg).toBe('ok');
    }
    // Another key's signature still fails as a bad token, not as a broken key.
    const forged = await sign({}, { alg: 'RS256', key: rsOther.privateKey });
    expect(codeOf(await check({ secret: layout(pems.RS256) }, forged))).toBe('invalid_signature');
  });

  it.each(LAYOUTS)('verifies with a certificate with %s', async (_, layout) => {
    const key = await importPKCS8(EC_CERTIFICATE_KEY, 'ES256');
    expect(codeOf(await check({ secret: layout(EC_CERTIFICATE) }, await sign({}, { alg: 'ES256', key })))).toBe('ok');
  });

  it.each(LAYOUTS)('verifies with a PEM with %s returned by a key function', async (_, layout) => {
    const token = await sign({}, { alg: 'ES256', key: pairs.ES256.privateKey });
    expect(codeOf(await check({ secret: () => layout(pems.ES256) }, token))).toBe('ok');
  });
});

describe('numeric dates that JSON reads as Infinity', () => {
  it.each<[string, AuthErrorCode]>([
    ['exp', 'claim_invalid'],
    ['iat', 'claim_invalid'],
    // jose's own check sees an infinitely distant nbf first.
    ['nbf', 'token_not_yet_valid'],
  ])('refuses %s: 1e400 with %s', async (claim, expected) => {
    const exp = claim === 'exp' ? '' : `"exp":${NOW_S + 300},`;
    const payload = new TextEncoder().encode(`{"sub":"x",${exp}"${claim}":1e400}`);
    const token = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256' }).sign(SECRET_BYTES);
    expect(codeOf(await check({ secret: SECRET }, token))).toBe(expected);
  });
});
