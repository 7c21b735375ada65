import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import type { AuthEvent } from '../events.js';
import { classifyFetchError } from './fetch-document.js';
import type { JwtAuthOptions } from '../options.js';
import type { FetchFunction } from './remote-jwks.js';

// The key set's own decisions, with documents served through the `fetch` option. Behaviour over
// real HTTP (outages, hangs, rotation, backoff) is covered by test/jwks.test.ts.

let privateKey: CryptoKey;
let goodJwk: Record<string, unknown>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  goodJwk = { ...(await exportJWK(pair.publicKey)), kid: 'good', alg: 'ES256' };
});

const serving =
  (documents: Record<string, unknown>): FetchFunction =>
  async (url) => {
    const body = documents[url];
    if (body === undefined) return new Response('not found', { status: 404 });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };

async function codeFor(options: JwtAuthOptions, kid: string, claims: Record<string, unknown> = {}) {
  const token = await new SignJWT({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid })
    .sign(privateKey);
  const authenticator = createAuthenticator({ cache: false, ...options });
  const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
  return result.ok ? 'ok' : result.error.code;
}

const JWKS = 'https://idp.example/jwks.json';

describe('keys a remote set cannot use', () => {
  it('answers 503 key_unavailable, not an error, for a published EC key with broken coordinates', async () => {
    const broken = { ...goodJwk, kid: 'broken', x: 'AAAA', y: 'AAAA' };
    expect(await codeFor({ jwks: { uri: JWKS }, fetch: serving({ [JWKS]: { keys: [goodJwk, broken] } }) }, 'broken')).toBe('key_unavailable');
  });

  it('drops a published RSA key that is too small, so its kid matches nothing', async () => {
    const tiny = { kty: 'RSA', kid: 'tiny', n: 'AA', e: 'AQAB' };
    const options = { jwks: { uri: JWKS, cooldownDuration: 0 }, fetch: serving({ [JWKS]: { keys: [goodJwk, tiny] } }) };
    expect(await codeFor(options, 'tiny')).toBe('invalid_signature');
    expect(await codeFor(options, 'good')).toBe('ok');
  });

  it('refuses a document larger than 512 KiB', async () => {
    const padded = JSON.stringify({ keys: [goodJwk], padding: 'x'.repeat(600 * 1024) });
    expect(await codeFor({ jwks: { uri: JWKS }, fetch: serving({ [JWKS]: padded }) }, 'good')).toBe('key_unavailable');
  });
});

describe('where keys may come from', () => {
  it.each([
    ['an http:// JWK Set on another host', { jwks: { uri: 'http://idp.example/jwks.json' } }],
    ['discovery of an http:// issuer on another host', { issuer: 'http://idp.example', discovery: true }],
  ])('refuses %s at creation', (_, options) => {
    expect(() => createAuthenticator(options as JwtAuthOptions)).toThrow(/https:\/\//);
  });

  it.each(['http://127.0.0.1:9/jwks.json', 'http://localhost:9/jwks.json', 'http://[::1]:9/jwks.json'])('accepts plain http on loopback: %s', (uri) => {
    expect(() => createAuthenticator({ jwks: { uri } })).not.toThrow();
  });

  it('does not follow metadata of an https issuer to an http jwks_uri', async () => {
    const issuer = 'https://idp.example';
    const fetchImpl = serving({
      [`${issuer}/.well-known/openid-configuration`]: { issuer, jwks_uri: 'http://127.0.0.1:9/jwks.json' },
    });
    expect(await codeFor({ issuer, discovery: true, fetch: fetchImpl }, 'good', { iss: issuer })).toBe('key_unavailable');
  });

  it('uses the jwks_uri of matching https metadata', async () => {
    const issuer = 'https://idp.example';
    const fetchImpl = serving({ [`${issuer}/.well-known/openid-configuration`]: { issuer, jwks_uri: JWKS }, [JWKS]: { keys: [goodJwk] } });
    expect(await codeFor({ issuer, discovery: true, fetch: fetchImpl }, 'good', { iss: issuer })).toBe('ok');
  });
});

describe('why a fetch failed', () => {
  const nodeError = (code: string) =>
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code }) });
  const named = (name: string, message = name) => Object.assign(new Error(message), { name });
  it.each([
    ['Node: connection refused', 'connection_refused', nodeError('ECONNREFUSED')],
    ['Node: host not found', 'dns', nodeError('ENOTFOUND')],
    ['Node: DNS server unreachable', 'dns', nodeError('EAI_AGAIN')],
    ['Node: connect timeout', 'timeout', nodeError('UND_ERR_CONNECT_TIMEOUT')],
    ['Node: reset', 'network', nodeError('ECONNRESET')],
    [
      'Node: refused on every address (AggregateError)',
      'connection_refused',
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), { code: undefined }),
      }),
    ],
    ['AbortSignal.timeout', 'timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['Deno without --allow-net (1.x)', 'permission_denied', named('PermissionDenied', 'Requires net access to "idp.example:443"')],
    ['Deno without --allow-net (2.x)', 'permission_denied', named('NotCapable', 'Requires net access to "idp.example:443"')],
    [
      'Deno: connection refused',
      'connection_refused',
      new TypeError('error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)'),
    ],
    [
      'Deno: DNS',
      'dns',
      new TypeError('error sending request for url (https://nope.invalid/): client error (Connect): dns error: failed to lookup address information'),
    ],
    [
      'Bun: connection refused',
      'connection_refused',
      Object.assign(new Error('Unable to connect. Is the computer able to access the url?'), { code: 'ConnectionRefused' }),
    ],
    ['something else', 'network', new Error('boom')],
    ['a thrown string', 'network', 'boom'],
  ])('%s is %s', (_, cause, error) => {
    expect(classifyFetchError(error)).toBe(cause);
  });

  it('reports the cause and keeps the rejected fetch as the cause of KeysUnavailable', async () => {
    const events: AuthEvent[] = [];
    const refused = nodeError('ECONNREFUSED');
    const authenticator = createAuthenticator({
      jwks: { uri: JWKS },
      fetch: () => Promise.reject(refused),
      cache: false,
      onEvent: (event) => void events.push(event),
    });
    const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'good' }).sign(privateKey);
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
    expect(result.ok).toBe(false);
    const cause = (result as { error: { cause: Error & { cause: unknown; failure: string } } }).error.cause;
    expect(cause.message).toBe(`the JWK Set ${JWKS} refused the connection (ECONNREFUSED)`);
    expect(cause.failure).toBe('connection_refused');
    expect(cause.cause).toBe(refused);
    expect(events[0]).toMatchObject({ type: 'jwks.fetch', outcome: 'failed', cause: 'connection_refused', reason: cause.message, error: cause });
  });

  it('says "permission denied" when Deno refuses the fetch (no --allow-net for the host), in the cause and the event', async () => {
    const events: AuthEvent[] = [];
    // What Deno 2 rejects with: an own `name`, no `cause` (test/runtimes/deno-permissions.test.ts sees the real one).
    const denied = named('NotCapable', 'Requires net access to "idp.example:443", run again with the --allow-net flag');
    const authenticator = createAuthenticator({
      jwks: { uri: JWKS },
      fetch: () => Promise.reject(denied),
      cache: false,
      onEvent: (event) => void events.push(event),
    });
    const token = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'good' }).sign(privateKey);
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
    expect(result).toMatchObject({ ok: false, error: { status: 503, code: 'key_unavailable' } });
    const cause = (result as { error: { cause: Error & { cause: unknown; failure: string } } }).error.cause;
    expect(cause.message).toBe(`the JWK Set ${JWKS} may not be fetched: permission denied by the runtime (Deno: --allow-net) (${denied.message})`);
    expect(cause.failure).toBe('permission_denied');
    expect(cause.cause).toBe(denied);
    expect(events[0]).toMatchObject({ type: 'jwks.fetch', outcome: 'failed', cause: 'permission_denied', reason: cause.message, error: cause });
  });
});

describe('candidate keys for a token without kid', () => {
  let others: CryptoKey[];
  let set: Record<string, unknown>[];
  beforeAll(async () => {
    const pairs = await Promise.all(Array.from({ length: 11 }, () => generateKeyPair('ES256', { extractable: true })));
    others = pairs.map((pair) => pair.privateKey);
    set = [...(await Promise.all(pairs.map((pair) => exportJWK(pair.publicKey)))), { ...goodJwk, kid: undefined }].map((jwk) => ({ ...jwk, alg: 'ES256' }));
  });

  async function refusal(options: JwtAuthOptions, key: CryptoKey) {
    const events: AuthEvent[] = [];
    const token = await new SignJWT({ iss: 'https://idp.example', exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'ES256' }).sign(key);
    const authenticator = createAuthenticator({ cache: false, ...options, onEvent: (event) => void events.push(event) });
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
    return { code: result.ok ? 'ok' : result.error.code, reason: events.find((event) => event.type === 'auth.failed')?.reason };
  }

  it('tries only the first 10 keys of a remote set by default', async () => {
    const options = { jwks: { uri: JWKS }, fetch: serving({ [JWKS]: { keys: set } }) };
    expect(await refusal(options, others[0]!)).toEqual({ code: 'ok', reason: undefined });
    expect(await refusal(options, others[9]!)).toEqual({ code: 'ok', reason: undefined });
    const past = await refusal(options, others[10]!);
    expect(past.code).toBe('invalid_signature');
    expect(past.reason).toMatch(/none of the 10 tried verified it \(at most maxCandidates = 10 are tried\)/);
  });

  it('tries as many as maxCandidates allows, for a remote and a discovered set', async () => {
    const issuer = 'https://idp.example';
    const remote = { jwks: { uri: JWKS, maxCandidates: 12 }, fetch: serving({ [JWKS]: { keys: set } }) };
    const discovered = {
      issuer,
      discovery: true,
      jwks: { maxCandidates: 12 },
      fetch: serving({ [`${issuer}/.well-known/openid-configuration`]: { issuer, jwks_uri: JWKS }, [JWKS]: { keys: set } }),
    };
    expect((await refusal(remote, privateKey)).code).toBe('ok');
    expect((await refusal(discovered, privateKey)).code).toBe('ok');
    expect((await refusal({ ...remote, jwks: { uri: JWKS, maxCandidates: 1 } }, others[1]!)).reason).toMatch(/none of the 1 tried/);
  });

  it('tries the first 10 keys of a local set too', async () => {
    expect((await refusal({ jwks: { keys: set } }, others[9]!)).code).toBe('ok');
    expect((await refusal({ jwks: { keys: set } }, others[10]!)).code).toBe('invalid_signature');
  });

  it('bounds what a forged token costs against a set of 1,200 keys', async () => {
    const large = Array.from({ length: 1200 }, () => ({ ...set[0] }));
    const { code, reason } = await refusal({ jwks: { uri: JWKS }, fetch: serving({ [JWKS]: { keys: large } }) }, privateKey);
    expect(code).toBe('invalid_signature');
    expect(reason).toMatch(/none of the 10 tried/);
  });
});

describe('remote set options checked at creation', () => {
  it.each([
    [{ jwks: { uri: JWKS, maxStale: 1000 } }, /"jwks.maxStale" \(1000 ms\) must be at least "jwks.cacheMaxAge" \(600000 ms\)/],
    [{ jwks: { uri: JWKS, cacheMaxAge: 5000, maxStale: 4000 } }, /"jwks.maxStale" \(4000 ms\) must be at least "jwks.cacheMaxAge" \(5000 ms\)/],
    [{ jwks: { uri: JWKS, maxStale: -1 } }, /"jwks.maxStale" must be milliseconds/],
    [{ jwks: { uri: JWKS, maxCandidates: 0 } }, /"jwks.maxCandidates" must be a whole number of keys, at least 1/],
    [{ jwks: { uri: JWKS, maxCandidates: 2.5 } }, /"jwks.maxCandidates"/],
    [{ jwks: { uri: 'https://user:secret@idp.example/jwks.json' } }, /"jwks.uri" must not contain a user name or password/],
    [{ issuer: 'https://user@idp.example', discovery: true }, /"issuer" must not contain a user name or password/],
    [{ issuer: 'https://idp.example/?tenant=a', discovery: true }, /"issuer" must be an issuer URL without query or fragment/],
    [{ issuer: 'https://idp.example/#x', discovery: true }, /"issuer" must be an issuer URL without query or fragment/],
    [
      { issuers: { 'https://idp.example/?': { discovery: true } } },
      /the issuer "https:\/\/idp.example\/\?" of "issuers" must be an issuer URL without query or fragment/,
    ],
    [
      { issuers: { 'https://a:b@idp.example': { discovery: true } } },
      /the issuer "https:\/\/a:b@idp.example" of "issuers" must not contain a user name or password/,
    ],
    [
      { issuers: { 'https://idp.example': { discovery: true, jwks: { cacheMaxAge: 10, maxStale: 5 } } } },
      /"issuers\["https:\/\/idp.example"\].jwks.maxStale" \(5 ms\)/,
    ],
  ])('refuses %j', (options, message) => {
    expect(() => createAuthenticator(options as JwtAuthOptions)).toThrow(TypeError);
    expect(() => createAuthenticator(options as JwtAuthOptions)).toThrow(message);
  });

  it.each([
    { jwks: { uri: JWKS, cacheMaxAge: 1000, maxStale: 1000, maxCandidates: 1 } },
    { jwks: { uri: `${JWKS}?tenant=a` } },
    { issuer: 'https://idp.example/realms/acme', discovery: true, jwks: { maxStale: 7_200_000, maxCandidates: 50 } },
    // An issuer with a query is a plain string to compare when nothing is discovered from it.
    { issuers: { 'https://idp.example/?tenant=a': { jwks: { uri: JWKS } } } },
  ])('accepts %j', (options) => {
    expect(() => createAuthenticator(options as JwtAuthOptions)).not.toThrow();
  });
});
