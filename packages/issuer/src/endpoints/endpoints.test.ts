import type { IncomingMessage } from 'node:http';
import { MemoryRevocationStore, StoreUnavailable, type RevocationStore, type RotateOptions } from '@jwtauth/core';
import { createTokenIssuer } from '@jwtauth/issuer';
import { createTokenEndpoints, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { afterEach, describe, expect, it } from 'vitest';
import { post, serve, type TestServer } from './test-server.js';

const KEY = 'a-test-secret-of-at-least-32-bytes!!';
const USERS = new Map([['alice', { password: 'alice-password', scope: 'read' }]]);

/** A store that can be taken down, as a Redis server can: every call then throws StoreUnavailable. */
class OutageStore implements RevocationStore {
  down = false;
  readonly #memory = new MemoryRevocationStore();
  #check() {
    if (this.down) throw new StoreUnavailable('the store is down');
  }
  revoke(id: string, expiresAt: number) {
    this.#check();
    return this.#memory.revoke(id, expiresAt);
  }
  isRevoked(id: string) {
    this.#check();
    return this.#memory.isRevoked(id);
  }
  rotate(sid: string, generation: number, options: RotateOptions) {
    this.#check();
    return this.#memory.rotate(sid, generation, options);
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<TokenEndpointsOptions<IncomingMessage>> = {}, store: RevocationStore = new MemoryRevocationStore()) {
  const issuer = createTokenIssuer({ key: KEY, issuer: 'urn:test', store });
  server = await serve(
    createTokenEndpoints<IncomingMessage>({
      issuer,
      verifyCredentials: (username, password) => {
        const user = USERS.get(username);
        return user !== undefined && user.password === password ? { subject: username, claims: { scope: user.scope } } : null;
      },
      ...options,
    }),
  );
  return server.url;
}

const ALICE = { username: 'alice', password: 'alice-password' };

describe('POST /token (login)', () => {
  it('answers an RFC 6749 token response with Cache-Control: no-store', async () => {
    const api = await start();
    const answer = await post(`${api}/token`, ALICE);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
      refresh_expires_in: 86400,
    });
    const verified = await post(`${api}/token/verify`, { token: answer.body.access_token });
    expect(verified.body).toMatchObject({ valid: true, token_type: 'access', sub: 'alice' });
  });

  it('accepts a urlencoded form body', async () => {
    const api = await start();
    const answer = await post(`${api}/token`, new URLSearchParams(ALICE));
    expect(answer.status).toBe(200);
    expect(answer.body.refresh_token).toEqual(expect.any(String));
  });

  it('answers 401 invalid_grant / invalid_credentials for a wrong password or an unknown user', async () => {
    const api = await start();
    for (const body of [
      { ...ALICE, password: 'wrong' },
      { username: 'mallory', password: 'x' },
    ]) {
      const answer = await post(`${api}/token`, body);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String), code: 'invalid_credentials' });
    }
  });

  it.each([
    ['no username', { password: 'x' }],
    ['an empty username', { username: '', password: 'x' }],
    ['a password that is not a string', { username: 'alice', password: 42 }],
    ['refresh_in that is neither body nor cookie', { ...ALICE, refresh_in: 'header' }],
  ])('answers 400 invalid_request / missing_field for %s', async (_name, body) => {
    const api = await start();
    const answer = await post(`${api}/token`, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', code: 'missing_field' });
  });

  it.each([
    ['a JSON array', '[1,2]', 'application/json'],
    ['a JSON string', '"alice"', 'application/json'],
    ['a JSON null', 'null', 'application/json'],
    ['raw bytes', 'username=alice', 'text/plain'],
  ])('answers 400 invalid_request / invalid_json for %s', async (_name, body, type) => {
    const api = await start();
    const answer = await post(`${api}/token`, body, { 'Content-Type': type });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: expect.any(String), code: 'invalid_json' });
  });

  it('does not read members from the prototype (__proto__ in JSON)', async () => {
    const api = await start();
    const answer = await post(`${api}/token`, '{"__proto__":{"username":"alice","password":"alice-password"}}');
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('missing_field');
  });

  it('leaves other methods and paths to the framework (handle answers undefined)', async () => {
    const api = await start();
    expect((await fetch(`${api}/token`)).status).toBe(404);
    expect((await post(`${api}/token/other`, ALICE)).status).toBe(404);
    expect((await post(`${api}/token/`, ALICE)).status).toBe(404);
  });
});

describe('POST /token/refresh', () => {
  it('exchanges a refresh token for a new pair, and refuses the old one after the reuse interval', async () => {
    const api = await start();
    const login = await post(`${api}/token`, ALICE);
    const answer = await post(`${api}/token/refresh`, { refresh_token: login.body.refresh_token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(answer.body.refresh_token).not.toBe(login.body.refresh_token);
  });

  it.each([
    ['an access token', async (api: string) => (await post(`${api}/token`, ALICE)).body.access_token, 'wrong_token_type'],
    ['a string that is no JWT', async () => 'not-a-jwt', 'malformed_token'],
    [
      'a revoked refresh token',
      async (api: string) => {
        const token = (await post(`${api}/token`, ALICE)).body.refresh_token;
        await post(`${api}/token/revoke`, { token });
        return token;
      },
      'token_revoked',
    ],
  ])('answers 401 invalid_token for %s, with a challenge', async (_name, tokenOf, code) => {
    const api = await start();
    const answer = await post(`${api}/token/refresh`, { refresh_token: await tokenOf(api) });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ error: 'invalid_token', code });
  });

  it('answers 400 missing_field without a token in the body or a cookie', async () => {
    const api = await start();
    const answer = await post(`${api}/token/refresh`, {});
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'missing_field' });
  });

  it('answers 503 store_unavailable with Retry-After when the store is down', async () => {
    const store = new OutageStore();
    const api = await start({}, store);
    const login = await post(`${api}/token`, ALICE);
    store.down = true;
    const answer = await post(`${api}/token/refresh`, { refresh_token: login.body.refresh_token });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(answer.body).toMatchObject({ error: 'temporarily_unavailable', code: 'store_unavailable' });
  });
});

describe('POST /token/verify', () => {
  it('answers 401 token_revoked for an access token of a revoked session', async () => {
    const api = await start();
    const login = await post(`${api}/token`, ALICE);
    await post(`${api}/token/revoke`, { token: login.body.access_token });
    const answer = await post(`${api}/token/verify`, { token: login.body.access_token });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 'token_revoked' });
  });

  it('refuses every refresh token alike (wrong_token_type), so it never tells whether a stolen one is live', async () => {
    const store = new OutageStore();
    const api = await start({}, store);
    const live = (await post(`${api}/token`, ALICE)).body.refresh_token as string;
    const revoked = (await post(`${api}/token`, ALICE)).body.refresh_token as string;
    await post(`${api}/token/revoke`, { token: revoked });
    const [header, payload] = live.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    const answers = [
      await post(`${api}/token/verify`, { token: live }),
      await post(`${api}/token/verify`, { token: revoked }),
      await post(`${api}/token/verify`, { token: forged }),
    ];
    // Not even a store outage shows: the store is never asked about a refresh token here.
    store.down = true;
    answers.push(await post(`${api}/token/verify`, { token: live }));
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(answers[0]!.body);
      expect(answer.body.code).toBe('wrong_token_type');
    }
  });

  it('answers 400 missing_field without a token', async () => {
    const api = await start();
    expect((await post(`${api}/token/verify`, { token: 1 })).body.code).toBe('missing_field');
  });
});

describe('POST /token/revoke', () => {
  it('revokes the whole session with either token: the refresh token stops working', async () => {
    const api = await start();
    const login = await post(`${api}/token`, ALICE);
    const answer = await post(`${api}/token/revoke`, { token: login.body.access_token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ revoked: true });
    expect((await post(`${api}/token/refresh`, { refresh_token: login.body.refresh_token })).body.code).toBe('token_revoked');
  });

  it('succeeds for a token that is not valid (RFC 7009 §2.2)', async () => {
    const api = await start();
    const answer = await post(`${api}/token/revoke`, { token: 'garbage' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ revoked: true });
  });

  it('answers 503 store_unavailable when the store cannot record it, never a success that did nothing', async () => {
    const store = new OutageStore();
    const api = await start({}, store);
    const login = await post(`${api}/token`, ALICE);
    store.down = true;
    const answer = await post(`${api}/token/revoke`, { token: login.body.refresh_token });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(answer.body).toMatchObject({ code: 'store_unavailable' });
  });
});

describe('the refresh cookie', () => {
  const cookieOf = (setCookie: string | null) => setCookie!.split(';')[0]!;

  it('logs in with the refresh token in an HttpOnly, Secure, SameSite=Strict cookie only, refreshes and logs out with it', async () => {
    const api = await start({ refreshCookie: { path: '/api/token' } });
    const login = await post(`${api}/token`, { ...ALICE, refresh_in: 'cookie' });
    expect(login.status).toBe(200);
    expect(login.body).not.toHaveProperty('refresh_token');
    expect(login.body).not.toHaveProperty('refresh_expires_in');
    const setCookie = login.headers.get('set-cookie');
    expect(setCookie).toMatch(/^refresh_token=[\w.-]+; Path=\/api\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);

    const refreshed = await post(`${api}/token/refresh`, {}, { Cookie: cookieOf(setCookie) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refresh_token');
    const next = refreshed.headers.get('set-cookie');
    expect(cookieOf(next)).not.toBe(cookieOf(setCookie));

    const revoked = await post(`${api}/token/revoke`, {}, { Cookie: cookieOf(next) });
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('set-cookie')).toMatch(/^refresh_token=; Path=\/api\/token; Max-Age=0; HttpOnly; Secure; SameSite=Strict$/);
    expect((await post(`${api}/token/refresh`, {}, { Cookie: cookieOf(next) })).body.code).toBe('token_revoked');
  });

  it('is neither set nor read for a form body, which another site could post without a preflight', async () => {
    const api = await start();
    const login = await post(`${api}/token`, new URLSearchParams({ ...ALICE, refresh_in: 'cookie' }));
    expect(login.status).toBe(400);
    expect(login.body).toMatchObject({ error: 'invalid_request', code: 'invalid_json' });
    const jsonLogin = await post(`${api}/token`, { ...ALICE, refresh_in: 'cookie' });
    const cookie = cookieOf(jsonLogin.headers.get('set-cookie'));
    const refresh = await post(`${api}/token/refresh`, new URLSearchParams(), { Cookie: cookie });
    expect(refresh.status).toBe(400);
    expect(refresh.body.code).toBe('invalid_json');
    expect((await post(`${api}/token/revoke`, new URLSearchParams(), { Cookie: cookie })).body.code).toBe('invalid_json');
  });

  it('uses the configured name, and refreshCookie: false turns cookie mode off', async () => {
    const named = await start({ refreshCookie: { name: 'rt', path: '/auth' } });
    expect((await post(`${named}/token`, { ...ALICE, refresh_in: 'cookie' })).headers.get('set-cookie')).toMatch(/^rt=[\w.-]+; Path=\/auth;/);
    await server!.close();
    server = undefined;

    const off = await start({ refreshCookie: false });
    const login = await post(`${off}/token`, { ...ALICE, refresh_in: 'cookie' });
    expect(login.status).toBe(400);
    expect(login.body.code).toBe('missing_field');
    const token = (await post(`${off}/token`, ALICE)).body.refresh_token as string;
    const refresh = await post(`${off}/token/refresh`, {}, { Cookie: `refresh_token=${token}` });
    expect(refresh.status).toBe(400);
    expect(refresh.body.code).toBe('missing_field');
  });
});
