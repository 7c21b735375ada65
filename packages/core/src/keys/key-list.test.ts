import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import type { AuthErrorCode } from '../errors.js';
import type { AuthEvent } from '../events.js';
import { MAX_KEY_CANDIDATES, selectKeys } from './key-list.js';
import type { KeyInput, PreparedKey } from './keys.js';
import type { JwtAuthOptions } from '../options.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
/** Two HMAC secrets: the one being retired and its successor. */
const OLD = 'the-old-hmac-secret-being-retired-0123456789abcdef-sixty-four-by';
const NEW = 'the-new-hmac-secret-taking-over-now-0123456789abcdef-sixty-four!';
const STRANGER = 'a-secret-this-app-never-trusted-0123456789abcdef-sixty-four-byt';
const bytes = (text: string) => new TextEncoder().encode(text);

interface Pair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
let rsA: Pair;
let rsB: Pair;
let es: Pair;
let ed: Pair;
let rsAPem: string;
let rsBJwk: JWK;
let esJwk: JWK;

beforeAll(async () => {
  rsA = await generateKeyPair('RS256', { extractable: true });
  rsB = await generateKeyPair('RS256', { extractable: true });
  es = await generateKeyPair('ES256', { extractable: true });
  ed = await generateKeyPair('EdDSA');
  rsAPem = await exportSPKI(rsA.publicKey);
  rsBJwk = await exportJWK(rsB.publicKey);
  esJwk = await exportJWK(es.publicKey);
});

function sign(claims: JWTPayload = {}, options: { alg?: string; key?: CryptoKey | Uint8Array; kid?: string } = {}): Promise<string> {
  return new SignJWT({ sub: 'user-1', iat: NOW_S, exp: NOW_S + 300, ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid === undefined ? {} : { kid: options.kid }) })
    .sign(options.key ?? bytes(NEW));
}

async function outcome(options: JwtAuthOptions, token: string): Promise<{ code: AuthErrorCode | 'ok'; events: AuthEvent[] }> {
  const events: AuthEvent[] = [];
  const request = new Request('https://api.example/', { headers: { authorization: `Bearer ${token}` } });
  const result = await createAuthenticator({ currentDate: () => NOW, onEvent: (event) => events.push(event), ...options }).authenticate(request, request);
  return { code: result.ok ? 'ok' : result.error.code, events };
}
const codeFor = async (options: JwtAuthOptions, token: string) => (await outcome(options, token)).code;

describe('selectKeys: which of several keys a token is tried against', () => {
  const nameOf = new Map<PreparedKey, string>();
  const key = (name: string, algorithms: string[], kid?: string): PreparedKey => {
    const prepared = { algorithms, ...(kid === undefined ? {} : { kid }), keyFor: () => Promise.reject(new Error('not used')) };
    nameOf.set(prepared, name);
    return prepared;
  };
  const names = (selection: ReturnType<typeof selectKeys>) => ('none' in selection ? selection.none : selection.keys.map((k) => nameOf.get(k)));
  const HS = ['HS256'];
  const RS = ['RS256', 'PS256'];
  const ES = ['ES256'];

  it.each<[string, PreparedKey[], { alg: string; kid?: string }, string[] | 'kid' | 'alg']>([
    ['every key, in order, for a token without kid', [key('a', HS), key('b', HS)], { alg: 'HS256' }, ['a', 'b']],
    ['keys with a kid too, for a token without kid', [key('a', RS, 'k1'), key('b', RS)], { alg: 'RS256' }, ['a', 'b']],
    ['only the keys that verify the alg', [key('rsa', RS), key('ec', ES), key('rsa2', RS)], { alg: 'ES256' }, ['ec']],
    ["the key with the token's kid only", [key('a', RS, 'k1'), key('b', RS, 'k2'), key('c', RS)], { alg: 'RS256', kid: 'k2' }, ['b']],
    ["every key with the token's kid", [key('a', RS, 'k1'), key('b', RS, 'k1')], { alg: 'RS256', kid: 'k1' }, ['a', 'b']],
    ['the keys without kid for a kid no key has', [key('a', RS, 'k1'), key('b', RS), key('c', RS)], { alg: 'RS256', kid: 'k9' }, ['b', 'c']],
    ['every key for a kid when no key has one', [key('a', HS), key('b', HS)], { alg: 'HS256', kid: 'k9' }, ['a', 'b']],
    ['none (kid) for a kid no key has when every key has another', [key('a', RS, 'k1'), key('b', RS, 'k2')], { alg: 'RS256', kid: 'k9' }, 'kid'],
    ['none (alg) when the key with the kid cannot verify the alg', [key('a', RS, 'k1'), key('b', ES, 'k2')], { alg: 'ES256', kid: 'k1' }, 'alg'],
    ['none (alg) for an alg no key verifies', [key('a', RS), key('b', ES)], { alg: 'HS256' }, 'alg'],
    [
      'keys for a kid named like an Object.prototype member only if a key has it',
      [key('a', RS, 'k1'), key('b', RS)],
      { alg: 'RS256', kid: '__proto__' },
      ['b'],
    ],
  ])('tries %s', (_, keys, header, expected) => {
    expect(names(selectKeys(keys, header))).toEqual(expected);
  });

  it(`tries at most ${MAX_KEY_CANDIDATES} keys, saying how many were left out`, () => {
    const keys = Array.from({ length: 14 }, (_, index) => key(`k${index}`, HS, `kid-${index}`));
    const selection = selectKeys(keys, { alg: 'HS256' });
    expect('keys' in selection && selection.keys.length).toBe(MAX_KEY_CANDIDATES);
    expect('keys' in selection && selection.skipped).toBe(4);
    expect(names(selection)).toEqual(keys.slice(0, MAX_KEY_CANDIDATES).map((k) => nameOf.get(k)));
  });
});

describe('secret as an array: key rotation', () => {
  it.each<[string, () => Promise<string>, AuthErrorCode | 'ok']>([
    ['accepts a token signed with the new secret', () => sign({}, { key: bytes(NEW) }), 'ok'],
    ['accepts a token signed with the old secret (tried in turn, no kid)', () => sign({}, { key: bytes(OLD) }), 'ok'],
    ['accepts an old-secret token with a kid no key has (keys without kid are tried)', () => sign({}, { key: bytes(OLD), kid: 'v1' }), 'ok'],
    ['accepts HS512 with either', () => sign({}, { alg: 'HS512', key: bytes(OLD) }), 'ok'],
    ['answers invalid_signature for a secret it does not hold', () => sign({}, { key: bytes(STRANGER) }), 'invalid_signature'],
    [
      'answers token_expired (not invalid_signature) for an expired token of the second secret',
      () => sign({ exp: NOW_S - 60 }, { key: bytes(OLD) }),
      'token_expired',
    ],
    ['answers algorithm_not_allowed for RS256', () => sign({}, { alg: 'RS256', key: rsA.privateKey }), 'algorithm_not_allowed'],
  ])('%s', async (_, token, expected) => {
    expect(await codeFor({ secret: [NEW, OLD] }, await token())).toBe(expected);
    expect(await codeFor({ secret: [bytes(NEW), bytes(OLD)], cache: false }, await token())).toBe(expected);
  });

  it('tells operators how many keys were tried when none verifies', async () => {
    const { events } = await outcome({ secret: [NEW, OLD] }, await sign({}, { key: bytes(STRANGER) }));
    expect(events).toMatchObject([{ type: 'auth.failed', code: 'invalid_signature', reason: 'none of the 2 keys tried verified the signature' }]);
  });

  it('keeps the HMAC allowlist narrowed by the algorithms option', async () => {
    expect(await codeFor({ secret: [NEW, OLD], algorithms: ['HS256'] }, await sign({}, { alg: 'HS512', key: bytes(OLD) }))).toBe('algorithm_not_allowed');
  });
});

describe('secret as an array of public keys', () => {
  const keys = (): KeyInput[] => [{ ...esJwk, kid: 'ec-1' }, { ...rsBJwk, kid: 'rs-b' }, rsAPem];

  it.each<[string, () => Promise<string>, AuthErrorCode | 'ok']>([
    ['selects the JWK by kid', () => sign({}, { alg: 'RS256', key: rsB.privateKey, kid: 'rs-b' }), 'ok'],
    ['selects an EC JWK by kid (several asymmetric families may be mixed)', () => sign({}, { alg: 'ES256', key: es.privateKey, kid: 'ec-1' }), 'ok'],
    [
      'never tries another key for a kid one key has: a token of key A under the kid of key B fails',
      () => sign({}, { alg: 'RS256', key: rsA.privateKey, kid: 'rs-b' }),
      'invalid_signature',
    ],
    ['tries the keys without kid for a kid no key has', () => sign({}, { alg: 'RS256', key: rsA.privateKey, kid: 'unknown' }), 'ok'],
    ['never tries a key carrying another kid', () => sign({}, { alg: 'RS256', key: rsB.privateKey, kid: 'unknown' }), 'invalid_signature'],
    ['tries every key that verifies the alg for a token without kid', () => sign({}, { alg: 'RS256', key: rsA.privateKey }), 'ok'],
    ['tries every key for a token without kid, JWKs with a kid included', () => sign({}, { alg: 'RS256', key: rsB.privateKey }), 'ok'],
    [
      'answers algorithm_not_allowed when the key of the kid cannot verify the alg',
      () => sign({}, { alg: 'ES256', key: es.privateKey, kid: 'rs-b' }),
      'algorithm_not_allowed',
    ],
    [
      'answers algorithm_not_allowed for HS256 signed with the RSA public key text (algorithm confusion)',
      () => sign({ sub: 'admin' }, { key: bytes(rsAPem) }),
      'algorithm_not_allowed',
    ],
    [
      'answers algorithm_not_allowed for HS256 signed with the text of a JWK of the list',
      () => sign({ sub: 'admin' }, { key: bytes(JSON.stringify(rsBJwk)) }),
      'algorithm_not_allowed',
    ],
    ['answers algorithm_not_allowed for an algorithm no key verifies', () => sign({}, { alg: 'EdDSA', key: ed.privateKey }), 'algorithm_not_allowed'],
  ])('%s', async (_, token, expected) => {
    expect(await codeFor({ secret: keys() }, await token())).toBe(expected);
  });

  it('answers invalid_signature "No key matches the token" for a kid no key has when every key has another', async () => {
    const { code, events } = await outcome(
      {
        secret: [
          { ...rsBJwk, kid: 'rs-b' },
          { ...esJwk, kid: 'ec-1' },
        ],
      },
      await sign({}, { alg: 'RS256', key: rsB.privateKey, kid: 'rs-old' }),
    );
    expect(code).toBe('invalid_signature');
    expect(events).toMatchObject([{ code: 'invalid_signature', reason: 'no key has the kid of the token' }]);
  });

  it(`tries at most ${MAX_KEY_CANDIDATES} keys for a token without kid, and says so`, async () => {
    const pairs = await Promise.all(Array.from({ length: MAX_KEY_CANDIDATES + 1 }, () => generateKeyPair('ES256', { extractable: true })));
    const list = await Promise.all(pairs.map(async (pair, index) => ({ ...(await exportJWK(pair.publicKey)), kid: `k${index}` })));
    const last = pairs[MAX_KEY_CANDIDATES]!;
    // Its kid finds it at once; without one it is past the limit.
    expect(await codeFor({ secret: list }, await sign({}, { alg: 'ES256', key: last.privateKey, kid: `k${MAX_KEY_CANDIDATES}` }))).toBe('ok');
    const { code, events } = await outcome({ secret: list }, await sign({}, { alg: 'ES256', key: last.privateKey }));
    expect(code).toBe('invalid_signature');
    expect(events).toMatchObject([
      { reason: `none of the ${MAX_KEY_CANDIDATES} keys tried verified the signature (at most ${MAX_KEY_CANDIDATES} are tried: 1 more were not)` },
    ]);
  });
});

describe('a key function that changes the key it returns in place', () => {
  const b64url = (text: string) => btoa(text).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

  it('verifies with the new JWK material and no longer with the old', async () => {
    const jwk: JWK = { kty: 'oct', k: b64url(OLD) };
    // One authenticator for the whole rotation, so its token cache sees both tokens.
    const authenticator = createAuthenticator({ currentDate: () => NOW, secret: () => jwk });
    const check = async (token: string) => {
      const request = new Request('https://api.example/', { headers: { authorization: `Bearer ${token}` } });
      const result = await authenticator.authenticate(request, request);
      return result.ok ? 'ok' : result.error.code;
    };
    const oldToken = await sign({}, { key: bytes(OLD) });
    const newToken = await sign({ sub: 'user-2' }, { key: bytes(NEW) });
    expect([await check(oldToken), await check(newToken)]).toEqual(['ok', 'invalid_signature']);
    jwk.k = b64url(NEW);
    expect([await check(newToken), await check(oldToken)]).toEqual(['ok', 'invalid_signature']);
  });

  it('verifies with the new bytes and no longer with the old', async () => {
    const secret = bytes(OLD);
    const options: JwtAuthOptions = { secret: () => secret };
    expect(await codeFor(options, await sign({}, { key: bytes(OLD) }))).toBe('ok');
    secret.set(bytes(NEW));
    expect([await codeFor(options, await sign({}, { key: bytes(NEW) })), await codeFor(options, await sign({}, { key: bytes(OLD) }))]).toEqual([
      'ok',
      'invalid_signature',
    ]);
  });
});
