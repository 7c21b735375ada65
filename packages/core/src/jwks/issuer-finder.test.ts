import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import type { AuthErrorCode } from '../errors.js';
import type { AuthEvent } from '../events.js';
import { createIssuerFinder, MAX_KEPT_ISSUERS } from './issuer-finder.js';
import type { TrustedIssuer } from '../keys/key-source.js';
import type { IssuerKeys, IssuerResolver, JwtAuthOptions } from '../options.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const SECRET = 'an-issuer-secret-long-enough-for-hs256-and-hs384-0123456789abcd';
const OTHER_SECRET = 'another-issuer-secret-long-enough-for-hs256-0123456789abcdefgh';
const bytes = (text: string) => new TextEncoder().encode(text);

/** The framework request the function is handed (core reads a Fetch request). */
interface Tenant {
  host: string;
}

let es: { privateKey: CryptoKey; publicKey: CryptoKey };
let server: Server;
let base: string;
/** Paths of the key server fetched, in order. */
const fetched: string[] = [];

beforeAll(async () => {
  es = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(es.publicKey)), kid: 'ec', alg: 'ES256' };
  server = createServer((request, response) => {
    fetched.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  fetched.length = 0;
});

function hsToken(iss: string, key = SECRET, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ sub: 'user-1', iss, iat: NOW_S, exp: NOW_S + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(bytes(key));
}
function esToken(iss: string): Promise<string> {
  return new SignJWT({ sub: 'user-1', iss, iat: NOW_S, exp: NOW_S + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'ec' }).sign(es.privateKey);
}

function authenticatorFor(issuers: IssuerResolver<Tenant>, options: Partial<JwtAuthOptions<JWTPayload, JWTPayload, Tenant>> = {}) {
  const events: AuthEvent[] = [];
  const authenticator = createAuthenticator<JWTPayload, JWTPayload, Tenant>({
    issuers,
    currentDate: () => NOW,
    onEvent: (event) => events.push(event),
    ...options,
  });
  const send = async (host: string, token: string): Promise<AuthErrorCode | 'ok'> => {
    const result = await authenticator.authenticate(new Request(`https://${host}/`, { headers: { authorization: `Bearer ${token}` } }), { host });
    return result.ok ? 'ok' : result.error.code;
  };
  return { send, events };
}

describe('issuers as a function (iss, request)', () => {
  /** Each host trusts its own issuers: a remote JWK Set for the ES issuer, a secret for the HS one. */
  const byHost: IssuerResolver<Tenant> = (iss, request) => {
    if (request.host === 'a.example' && iss === 'https://id.a.example') return { jwks: { uri: `${base}/a/jwks.json` } };
    if (request.host === 'a.example' && iss === 'https://hs.a.example') return { secret: SECRET };
    if (request.host === 'b.example' && iss === 'https://hs.b.example') return { secret: OTHER_SECRET };
    return undefined;
  };

  it('receives the iss and the framework request, and verifies with the keys it returns', async () => {
    const calls: unknown[][] = [];
    const { send } = authenticatorFor((iss, request) => {
      calls.push([iss, request]);
      return byHost(iss, request);
    });
    expect(await send('a.example', await hsToken('https://hs.a.example'))).toBe('ok');
    expect(calls).toEqual([['https://hs.a.example', { host: 'a.example' }]]);
  });

  it.each<[string, string, () => Promise<string>, AuthErrorCode | 'ok']>([
    ['verifies a token of a remote JWK Set it names', 'a.example', () => esToken('https://id.a.example'), 'ok'],
    ['verifies a token of a secret it names', 'b.example', () => hsToken('https://hs.b.example', OTHER_SECRET), 'ok'],
    ['refuses a token of an issuer trusted by another host', 'b.example', () => hsToken('https://hs.a.example'), 'claim_invalid'],
    ['refuses a token whose key belongs to another issuer', 'b.example', () => hsToken('https://hs.b.example', SECRET), 'invalid_signature'],
    ['refuses a token without iss', 'a.example', () => hsToken(undefined as unknown as string), 'claim_invalid'],
    ['refuses an ES256 token of the HMAC issuer', 'a.example', async () => await esToken('https://hs.a.example'), 'algorithm_not_allowed'],
  ])('%s', async (_, host, token, expected) => {
    expect(await authenticatorFor(byHost).send(host, await token())).toBe(expected);
  });

  it('answers claim_invalid for an iss it does not trust, before any key is fetched', async () => {
    const { send, events } = authenticatorFor(byHost);
    expect(await send('b.example', await esToken('https://id.a.example'))).toBe('claim_invalid');
    expect(await send('a.example', await esToken(`${base}/evil`))).toBe('claim_invalid');
    expect(fetched).toEqual([]);
    expect(events).toMatchObject([
      { type: 'auth.failed', code: 'claim_invalid', reason: 'the "issuers" function does not trust this iss' },
      { type: 'auth.failed', code: 'claim_invalid' },
    ]);
  });

  it.each<[string, unknown]>([
    ['Object.prototype (tenants[iss] for iss "__proto__")', Object.prototype],
    ['a function (tenants[iss] for iss "constructor")', Object],
    ['a number', 42],
    ['an empty object', {}],
    ['null', null],
  ])('answers claim_invalid when it returns %s', async (_, answer) => {
    const { send, events } = authenticatorFor(() => answer as IssuerKeys<Tenant>);
    expect(await send('a.example', await hsToken('https://hs.a.example'))).toBe('claim_invalid');
    expect(events[0]).toMatchObject({
      code: 'claim_invalid',
      reason: expect.stringMatching(/^the "issuers" function (does not trust this iss|returned an? [a-z ]+, not an issuer's keys)$/),
    });
  });

  it('sends an answer that cannot be used to the error path as a TypeError', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ secret: 'short' }, /"issuers\(\)\.secret": the HMAC secret is 5 bytes/],
      [{ jwks: 'https://id.example/jwks.json' }, /"issuers\(\)\.jwks" is a string/],
      [{ secret: SECRET, jwks: { uri: `${base}/x` } }, /give exactly one of "issuers\(\)\.secret", "issuers\(\)\.jwks"/],
      [{ secrets: SECRET }, /unknown option "secrets" in "issuers\(\)"/],
      [{ secret: SECRET, algorithms: ['none'] }, /"none" can never be allowed/],
      [{ secret: [SECRET, `${base}`] }, /"issuers\(\)\.secret\[1\]"/],
    ];
    for (const [answer, message] of cases) {
      const { send } = authenticatorFor(() => answer as IssuerKeys<Tenant>);
      const outcome = send('a.example', await hsToken('https://hs.a.example'));
      await expect(outcome).rejects.toThrow(TypeError);
      await expect(send('a.example', await hsToken('https://hs.a.example'))).rejects.toThrow(
        /^jwtAuth: the "issuers" function returned keys that cannot be used: /,
      );
      await expect(send('a.example', await hsToken('https://hs.a.example'))).rejects.toThrow(message);
    }
  });

  it('rejects with the very error the function throws', async () => {
    const failure = new Error('tenant store down');
    const { send } = authenticatorFor(async () => {
      throw failure;
    });
    await expect(send('a.example', await hsToken('https://hs.a.example'))).rejects.toBe(failure);
  });

  it('fetches a remote JWK Set once, though the function returns a new object every time', async () => {
    const { send } = authenticatorFor(
      (iss) => (iss === 'https://id.a.example' ? { jwks: { uri: new URL('/a/jwks.json', base), timeoutDuration: 2000 } } : undefined),
      { cache: false },
    );
    for (let i = 0; i < 3; i++) expect(await send('a.example', await esToken('https://id.a.example'))).toBe('ok');
    expect(fetched).toEqual(['/a/jwks.json']);
  });

  it('builds the keys again when the function returns other keys for the iss (a rotated secret)', async () => {
    let current = SECRET;
    const { send } = authenticatorFor(() => ({ secret: current }));
    const oldToken = await hsToken('https://hs.a.example', SECRET);
    expect(await send('a.example', oldToken)).toBe('ok');
    current = OTHER_SECRET;
    expect(await send('a.example', oldToken)).toBe('invalid_signature');
    expect(await send('a.example', await hsToken('https://hs.a.example', OTHER_SECRET))).toBe('ok');
  });

  it('never accepts a token cached for one host at a host that does not trust its issuer', async () => {
    const { send } = authenticatorFor(byHost);
    const token = await hsToken('https://hs.a.example');
    expect(await send('a.example', token)).toBe('ok');
    expect(await send('b.example', token)).toBe('claim_invalid');
    expect(await send('a.example', token)).toBe('ok');
  });

  it('is refused at creation next to a top-level key or issuer', () => {
    expect(() => createAuthenticator({ issuers: () => undefined, secret: SECRET })).toThrow(/with "issuers", give each issuer its own/);
    expect(() => createAuthenticator({ issuers: () => undefined, issuer: 'https://id.example' })).toThrow(TypeError);
  });
});

describe(`the keys kept for an issuers function (at most ${MAX_KEPT_ISSUERS} issuers)`, () => {
  it('keeps the keys of the most recently used issuers only', async () => {
    const built: string[] = [];
    const find = createIssuerFinder(
      () => ({ secret: SECRET }),
      (iss) => {
        built.push(iss);
        return { source: { kind: 'keys', keys: [] }, algorithms: [] } satisfies TrustedIssuer;
      },
      3,
    );
    for (const iss of ['a', 'b', 'c', 'a', 'd']) await find(iss, null);
    // d pushed out b, the least recently used ('a' was used again after 'c').
    expect(built).toEqual(['a', 'b', 'c', 'd']);
    await find('a', null);
    await find('c', null);
    expect(built).toEqual(['a', 'b', 'c', 'd']);
    await find('b', null);
    expect(built).toEqual(['a', 'b', 'c', 'd', 'b']);
  });

  it(`fetches a remote JWK Set again only once ${MAX_KEPT_ISSUERS} other issuers have been used since`, async () => {
    const remote = 'https://id.remote.example';
    const { send } = authenticatorFor((iss) => (iss === remote ? { jwks: { uri: `${base}/remote/jwks.json` } } : { secret: SECRET }), { cache: false });
    expect(await send('a.example', await esToken(remote))).toBe('ok');
    for (let i = 1; i < MAX_KEPT_ISSUERS; i++) expect(await send('a.example', await hsToken(`https://hs-${i}.example`))).toBe('ok');
    expect(await send('a.example', await esToken(remote))).toBe('ok');
    expect(fetched).toEqual(['/remote/jwks.json']);
    for (let i = 0; i < MAX_KEPT_ISSUERS; i++) expect(await send('a.example', await hsToken(`https://hs-other-${i}.example`))).toBe('ok');
    expect(await send('a.example', await esToken(remote))).toBe('ok');
    expect(fetched).toEqual(['/remote/jwks.json', '/remote/jwks.json']);
  });
});
