import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import type { JwtAuthOptions } from './options.js';
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

const serving = (documents: Record<string, unknown>): FetchFunction => async (url) => {
  const body = documents[url];
  if (body === undefined) return new Response('not found', { status: 404 });
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
};

async function codeFor(options: JwtAuthOptions, kid: string, claims: Record<string, unknown> = {}) {
  const token = await new SignJWT({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300, ...claims }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
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
