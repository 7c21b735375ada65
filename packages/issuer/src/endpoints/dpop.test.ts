import { request as httpRequest, type IncomingMessage } from 'node:http';
import { accessTokenHash, createAuthenticator, MemoryRevocationStore, StoreUnavailable, type RevocationStore } from '@jwtauth/core';
import { createTokenEndpoints, createTokenIssuer, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, serve, type Answer, type TestServer } from './test-server.js';

// DPoP-bound tokens (RFC 9449 §5) at the token endpoints, over real HTTP: real proofs signed with
// jose, the tokens then used at a resource server (core's authenticator with `dpop`).

const KEY = 'a-test-secret-of-at-least-32-bytes!!';
const ALICE = { username: 'alice', password: 'alice-password' };

/** A proof key pair, its public JWK and its thumbprint. */
interface ProofKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

async function proofKey(): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

let alicesKey: ProofKey;
let otherKey: ProofKey;
beforeAll(async () => {
  alicesKey = await proofKey();
  otherKey = await proofKey();
});

const now = () => Math.floor(Date.now() / 1000);

/** A DPoP proof for POST `htu` (RFC 9449 §4.2). */
function proof(htu: string, key: ProofKey = alicesKey, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm: 'POST', htu, iat: now(), jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk })
    .sign(key.privateKey);
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const issuerOf = (store: RevocationStore = new MemoryRevocationStore()) => createTokenIssuer({ key: KEY, issuer: 'urn:test', reuseInterval: 0, store });

async function start(options: Partial<TokenEndpointsOptions<IncomingMessage>> = { dpop: {} }, issuer = issuerOf()) {
  server = await serve(
    createTokenEndpoints<IncomingMessage>({
      issuer,
      verifyCredentials: (username, password) =>
        username === ALICE.username && password === ALICE.password ? { subject: 'alice', claims: { scope: 'read' } } : null,
      ...options,
    }),
  );
  return { api: server.url, issuer };
}

/** POSTs JSON with each `DPoP` line as its own header line (fetch would join them). */
function postWithLines(url: string, body: unknown, lines: string[]): Promise<Answer> {
  // A header array is sent as it is: Node adds no Host to it.
  const headers: string[] = ['Host', new URL(url).host, 'Content-Type', 'application/json'];
  for (const line of lines) headers.push('DPoP', line);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        resolve({ status: response.statusCode!, headers: answerHeaders, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(body));
  });
}

function expectInvalidProof(answer: Answer, description?: string | RegExp) {
  expect(answer.status).toBe(400);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.body).toEqual({ error: 'invalid_dpop_proof', error_description: expect.any(String), code: 'invalid_dpop_proof' });
  if (description !== undefined) expect(answer.body.error_description).toMatch(description);
}

describe('login with a DPoP proof', () => {
  it('answers token_type DPoP, with both tokens bound to the proof key (cnf.jkt)', async () => {
    const { api } = await start();
    const answer = await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/token`) });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'DPoP', expires_in: 300 });
    const access = decodeJwt(answer.body.access_token as string);
    expect(access.cnf).toEqual({ jkt: alicesKey.jkt });
    expect(access).toMatchObject({ sub: 'alice', scope: 'read', token_type: 'access' });
    expect(decodeJwt(answer.body.refresh_token as string).cnf).toEqual({ jkt: alicesKey.jkt });
    // /token/verify (issuer.verify) knows a bound token as well as a Bearer one, and says it is
    // bound: a service that asks here must then want a proof of that key.
    const verified = await post(`${api}/token/verify`, { token: answer.body.access_token });
    expect(verified.body).toMatchObject({ valid: true, token_type: 'access', sub: 'alice', cnf: { jkt: alicesKey.jkt } });
  });

  it('gives a token a DPoP resource server accepts with a proof of the key, and refuses as a Bearer token', async () => {
    const { api, issuer } = await start();
    const login = await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/token`) });
    const token = login.body.access_token as string;
    const resource = createAuthenticator({ ...issuer.verifierOptions, dpop: { mode: 'allowed' } });
    const url = 'https://api.example/orders';
    const withProof = await resource.authenticate(
      { method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: await dpopFor('GET', url, token) } },
      undefined,
    );
    expect(withProof.ok).toBe(true);
    expect(withProof.ok && withProof.auth?.payload.sub).toBe('alice');
    const asBearer = await resource.authenticate({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } }, undefined);
    expect(asBearer.ok).toBe(false);
    expect(!asBearer.ok && asBearer.error.code).toBe('token_bound');
    expect(!asBearer.ok && asBearer.error.status).toBe(401);
  });

  it('answers Bearer and an unbound token without a proof', async () => {
    const { api } = await start();
    const answer = await post(`${api}/token`, ALICE);
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('Bearer');
    expect(decodeJwt(answer.body.access_token as string).cnf).toBeUndefined();
    expect(decodeJwt(answer.body.refresh_token as string).cnf).toBeUndefined();
  });

  it('ignores DPoP headers when the dpop option is off', async () => {
    const { api } = await start({});
    const answer = await post(`${api}/token`, ALICE, { DPoP: 'not-a-proof' });
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('Bearer');
  });

  const badProofs: [string, (htu: string) => Promise<string>, RegExp][] = [
    ['another method (htm)', (htu) => proof(htu, alicesKey, { htm: 'GET' }), /htm/],
    ['another URL (htu)', (htu) => proof(htu.replace('/token', '/token/verify')), /htu/],
    ['another host (htu)', (htu) => proof(htu.replace('127.0.0.1', 'localhost')), /htu/],
    ['a stale iat', (htu) => proof(htu, alicesKey, { iat: now() - 600 }), /iat/],
    ['an iat in the future', (htu) => proof(htu, alicesKey, { iat: now() + 600 }), /iat/],
    ['no jti', (htu) => proof(htu, alicesKey, { jti: undefined }), /jti/],
    [
      'an HMAC alg (HS256)',
      (htu) =>
        new SignJWT({ htm: 'POST', htu, iat: now(), jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: alicesKey.publicJwk })
          .sign(new TextEncoder().encode(KEY)),
      /alg/,
    ],
    [
      'a private key in its jwk',
      async (htu) =>
        new SignJWT({ htm: 'POST', htu, iat: now(), jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(alicesKey.privateKey) })
          .sign(alicesKey.privateKey),
      /does not verify/,
    ],
    [
      'the wrong typ',
      (htu) =>
        new SignJWT({ htm: 'POST', htu, iat: now(), jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: alicesKey.publicJwk })
          .sign(alicesKey.privateKey),
      /typ/,
    ],
    [
      'a signature of another key',
      (htu) =>
        new SignJWT({ htm: 'POST', htu, iat: now(), jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: alicesKey.publicJwk })
          .sign(otherKey.privateKey),
      /signature/,
    ],
    ['not a JWT', () => Promise.resolve('not-a-proof'), /does not verify/],
  ];

  it.each(badProofs)('answers 400 invalid_dpop_proof for a proof with %s', async (_name, make, reason) => {
    const { api } = await start();
    const answer = await post(`${api}/token`, ALICE, { DPoP: await make(`${api}/token`) });
    expectInvalidProof(answer, reason);
  });

  it('answers 400 invalid_dpop_proof for two DPoP header lines, and for two joined in one', async () => {
    const { api } = await start();
    const [first, second] = [await proof(`${api}/token`), await proof(`${api}/token`)];
    expectInvalidProof(await postWithLines(`${api}/token`, ALICE, [first, second]), /exactly one/);
    expectInvalidProof(await post(`${api}/token`, ALICE, { DPoP: `${first}, ${second}` }), /exactly one/);
    // One line through the same client is accepted: the refusal is the second proof's.
    expect((await postWithLines(`${api}/token`, ALICE, [await proof(`${api}/token`)])).status).toBe(200);
  });

  it('refuses a proof before the password is checked or counted by the throttle', async () => {
    let checks = 0;
    const { api } = await start({
      dpop: {},
      verifyCredentials: () => {
        checks += 1;
        return { subject: 'alice' };
      },
    });
    expectInvalidProof(await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/elsewhere`) }));
    expect(checks).toBe(0);
  });

  it('with required: true, refuses a login and a refresh without a proof', async () => {
    const { api } = await start({ dpop: { required: true } });
    expectInvalidProof(await post(`${api}/token`, ALICE), /A DPoP proof is required/);
    const login = await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/token`) });
    expect(login.body.token_type).toBe('DPoP');
    expectInvalidProof(await post(`${api}/token/refresh`, { refresh_token: login.body.refresh_token }), /A DPoP proof is required/);
  });
});

describe('refresh of a DPoP-bound session', () => {
  async function boundSession() {
    const started = await start();
    const login = await post(`${started.api}/token`, ALICE, { DPoP: await proof(`${started.api}/token`) });
    return { ...started, refreshToken: login.body.refresh_token as string };
  }

  it('refuses a refresh without a proof, or with a proof of another key, and leaves the session usable', async () => {
    const { api, refreshToken } = await boundSession();
    expectInvalidProof(await post(`${api}/token/refresh`, { refresh_token: refreshToken }), /bound to a DPoP key/);
    expectInvalidProof(
      await post(`${api}/token/refresh`, { refresh_token: refreshToken }, { DPoP: await proof(`${api}/token/refresh`, otherKey) }),
      /not signed with the key/,
    );
    // Neither refusal used up the refresh token (reuseInterval 0: a second use would be a replay).
    const refreshed = await post(`${api}/token/refresh`, { refresh_token: refreshToken }, { DPoP: await proof(`${api}/token/refresh`) });
    expect(refreshed.status).toBe(200);
  });

  it('issues a new bound pair with a proof of the same key', async () => {
    const { api, refreshToken } = await boundSession();
    const refreshed = await post(`${api}/token/refresh`, { refresh_token: refreshToken }, { DPoP: await proof(`${api}/token/refresh`) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(decodeJwt(refreshed.body.access_token as string).cnf).toEqual({ jkt: alicesKey.jkt });
    expect(decodeJwt(refreshed.body.refresh_token as string).cnf).toEqual({ jkt: alicesKey.jkt });
    // And the next one again needs the key.
    expectInvalidProof(await post(`${api}/token/refresh`, { refresh_token: refreshed.body.refresh_token }));
  });

  it('binds the access token of an unbound session refreshed with a proof; its refresh token stays unbound', async () => {
    const { api } = await start();
    const login = await post(`${api}/token`, ALICE);
    const refreshed = await post(`${api}/token/refresh`, { refresh_token: login.body.refresh_token }, { DPoP: await proof(`${api}/token/refresh`) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(decodeJwt(refreshed.body.access_token as string).cnf).toEqual({ jkt: alicesKey.jkt });
    expect(decodeJwt(refreshed.body.refresh_token as string).cnf).toBeUndefined();
    const again = await post(`${api}/token/refresh`, { refresh_token: refreshed.body.refresh_token });
    expect(again.status).toBe(200);
    expect(again.body.token_type).toBe('Bearer');
  });
});

describe('proof replay at the token endpoints', () => {
  it('spends a proof only on a login that succeeds: a wrong password leaves it good, so that made-up proofs cannot fill the store', async () => {
    const store = new MemoryRevocationStore();
    const { api } = await start({ dpop: {} }, issuerOf(store));
    const once = await proof(`${api}/token`);
    expect((await post(`${api}/token`, { username: 'alice', password: 'wrong' }, { DPoP: once })).status).toBe(401);
    expect(store.size).toBe(0);
    expect((await post(`${api}/token`, ALICE, { DPoP: once })).status).toBe(200);
    expectInvalidProof(await post(`${api}/token`, ALICE, { DPoP: once }), /used before/);
  });

  it('refuses a proof used before (the issuer store marks its jti)', async () => {
    const { api } = await start({ dpop: {} }, issuerOf());
    const once = await proof(`${api}/token`);
    expect((await post(`${api}/token`, ALICE, { DPoP: once })).status).toBe(200);
    expectInvalidProof(await post(`${api}/token`, ALICE, { DPoP: once }), /used before/);
  });

  it('answers 503 store_unavailable when the store cannot remember the proof', async () => {
    class DownStore extends MemoryRevocationStore {
      override markUsed(): boolean {
        throw new StoreUnavailable('the store is down');
      }
    }
    const { api } = await start({ dpop: {} }, issuerOf(new DownStore()));
    const answer = await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/token`) });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ error: 'temporarily_unavailable', code: 'store_unavailable' });
    expect(answer.headers.get('retry-after')).toEqual(expect.any(String));
  });

  it('refuses at start-up a store that cannot mark proofs used, which could not refuse a replay', () => {
    const memory = new MemoryRevocationStore();
    const withoutMarks: RevocationStore = {
      revoke: (id, expiresAt) => memory.revoke(id, expiresAt),
      isRevoked: (id) => memory.isRevoked(id),
      rotate: (sid, generation, options) => memory.rotate(sid, generation, options),
    };
    const verifyCredentials = () => ({ subject: 'alice' });
    expect(() => createTokenEndpoints({ issuer: issuerOf(withoutMarks), verifyCredentials, dpop: {} })).toThrow(TypeError);
    expect(() => createTokenEndpoints({ issuer: issuerOf(withoutMarks), verifyCredentials, dpop: {} })).toThrow(/markUsed/);
    expect(() => createTokenEndpoints({ issuer: issuerOf(withoutMarks), verifyCredentials })).not.toThrow();
  });
});

describe('the URL a proof names (htu)', () => {
  it('checks htu against dpop.origin with the request path when set', async () => {
    const { api } = await start({ dpop: { origin: 'https://auth.example' } });
    expect((await post(`${api}/token`, ALICE, { DPoP: await proof('https://auth.example/api/token') })).status).toBe(200);
    expectInvalidProof(await post(`${api}/token`, ALICE, { DPoP: await proof(`${api}/token`) }), /htu/);
  });

  it('checks htu against publicUrl when set, and names the algorithms in the RFC 8414 metadata', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const issuer = createTokenIssuer({ key: privateKey, issuer: 'https://auth.example' });
    const endpoints = createTokenEndpoints<IncomingMessage>({
      issuer,
      verifyCredentials: () => ({ subject: 'alice' }),
      publicUrl: 'https://auth.example/api',
      dpop: { algorithms: ['ES256', 'EdDSA'] },
    });
    expect(endpoints.metadata().body).toMatchObject({ dpop_signing_alg_values_supported: ['ES256', 'EdDSA'] });
    server = await serve(endpoints);
    expect((await post(`${server.url}/token`, ALICE, { DPoP: await proof('https://auth.example/api/token') })).status).toBe(200);
    expectInvalidProof(await post(`${server.url}/token`, ALICE, { DPoP: await proof(`${server.url}/token`) }), /htu/);
  });

  it('leaves dpop_signing_alg_values_supported out of the metadata without the dpop option', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const issuer = createTokenIssuer({ key: privateKey, issuer: 'https://auth.example' });
    const endpoints = createTokenEndpoints({ issuer, verifyCredentials: () => null, publicUrl: 'https://auth.example/api' });
    expect(endpoints.metadata().body).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it('rejects handle() with a TypeError when the adapter gives no URL and neither origin nor publicUrl is set', async () => {
    const endpoints = createTokenEndpoints({ issuer: issuerOf(), verifyCredentials: () => ({ subject: 'alice' }), dpop: {} });
    await expect(
      endpoints.handle({ method: 'POST', path: '/token', body: ALICE, dpop: [await proof('https://auth.example/token')], request: undefined }),
    ).rejects.toThrow(/dpop.origin/);
  });
});

describe('the dpop option', () => {
  const make = (dpop: unknown) => () => createTokenEndpoints({ issuer: issuerOf(), verifyCredentials: () => null, dpop: dpop as never });
  it.each([
    ['not an object', 'yes', /"dpop" must be an object/],
    ['an unknown option', { mode: 'allowed' }, /unknown option "dpop.mode"/],
    ['an HMAC algorithm', { algorithms: ['HS256'] }, /only asymmetric algorithms/],
    ['no algorithms', { algorithms: [] }, /non-empty array/],
    ['an iatWindow over an hour', { iatWindow: '2h' }, /between 1 second and 1 hour/],
    ['a required that is not a boolean', { required: 'yes' }, /"dpop.required" must be true or false/],
    ['an origin with a path', { origin: 'https://auth.example/auth' }, /"dpop.origin" must be an origin/],
    ['an origin that is not a URL', { origin: 'auth.example' }, /"dpop.origin" must be an origin/],
  ])('refuses %s at start-up with a TypeError', (_name, dpop, message) => {
    expect(make(dpop)).toThrow(TypeError);
    expect(make(dpop)).toThrow(message);
  });
});

describe('the issuer API', () => {
  it('binds issue() with confirmation, and refresh() needs the same key', async () => {
    const issuer = issuerOf();
    const tokens = await issuer.issue('alice', {}, { confirmation: { jkt: alicesKey.jkt } });
    expect(tokens.tokenType).toBe('DPoP');
    expect(decodeJwt(tokens.accessToken).cnf).toEqual({ jkt: alicesKey.jkt });
    const verified = await issuer.verify(tokens.accessToken);
    expect(verified.ok && verified.payload.cnf).toEqual({ jkt: alicesKey.jkt });
    const without = await issuer.refresh(tokens.refreshToken);
    expect(!without.ok && without.error.code).toBe('dpop_binding_mismatch');
    const other = await issuer.refresh(tokens.refreshToken, { confirmation: { jkt: otherKey.jkt } });
    expect(!other.ok && other.error.code).toBe('dpop_binding_mismatch');
    const same = await issuer.refresh(tokens.refreshToken, { confirmation: { jkt: alicesKey.jkt } });
    expect(same.ok && same.tokens.tokenType).toBe('DPoP');
  });

  it('refuses a confirmation that is not a thumbprint, and cnf among the claims', async () => {
    const issuer = issuerOf();
    await expect(issuer.issue('alice', {}, { confirmation: { jkt: 'short' } })).rejects.toThrow(/confirmation.jkt/);
    await expect(issuer.issue('alice', { cnf: { jkt: alicesKey.jkt } })).rejects.toThrow(/cnf is set by the issuer/);
  });
});

/** A proof for a resource request, with `ath` (RFC 9449 §4.2). */
async function dpopFor(htm: string, htu: string, accessToken: string): Promise<string> {
  return new SignJWT({ htm, htu, iat: now(), jti: crypto.randomUUID(), ath: await accessTokenHash(accessToken) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: alicesKey.publicJwk })
    .sign(alicesKey.privateKey);
}
