import { isAuthError, jwtAuth, type AuthErrorCode, type KoaJwtAuthOptions } from '@jwtauth/koa';
import { KeysUnavailable, StoreUnavailable, type AuthEvent } from '@jwtauth/core';
import { SignJWT, type JWTPayload } from 'jose';
import Koa from 'koa';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, rawGet } from '../harness/listen.js';
import type { RunningServer } from '../harness/types.js';
import { sendRaw } from '../raw-http.js';

// koa-jwt 4's own test suite (koajs/jwt, test/test.js) ported to @jwtauth/koa, case by case, over
// real HTTP on 127.0.0.1. Each test names the koa-jwt case it keeps; where our answer differs by
// design, the comment says "differs: …" and the test asserts our documented answer (see "Coming
// from koa-jwt" in packages/koa/README.md).
//
// koa-jwt's cases sign with jsonwebtoken and the secret 'shhhhhh', without `exp`. Here the secrets
// are 32 bytes or more (a shorter one is refused at start-up) and tokens carry `exp` (required by
// default), unless the case is about exactly that.

const SECRET = 'koa-jwt-migration-secret-of-32-bytes-at-least';
const OTHER_SECRET = 'another-migration-secret-of-32-bytes-at-least';
const enc = new TextEncoder();

/** What jsonwebtoken's `jwt.sign(claims, secret)` makes, plus `exp` five minutes ahead unless `exp: undefined` is asked for. */
async function sign(claims: JWTPayload, secret = SECRET, alg = 'HS256'): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const body: JWTPayload = { iat, exp: iat + 300, ...claims };
  if ('exp' in claims && claims.exp === undefined) delete body.exp;
  return new SignJWT(body).setProtectedHeader({ alg, typ: 'JWT' }).sign(enc.encode(secret));
}

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Starts `app` (with Koa's own error logging off: some cases end in Koa's error path on purpose). */
async function serve(app: Koa): Promise<string> {
  app.silent = true;
  const server = await listen(createServer(app.callback()));
  servers.push(server);
  return server.url;
}

/** koa-jwt's usual app: the middleware, then `ctx.body = ctx.state.user`. */
function appWith(
  options: KoaJwtAuthOptions<JWTPayload, unknown, string, string>,
  answer: Koa.Middleware = (ctx) => {
    ctx.body = ctx.state.user;
  },
): Koa {
  const app = new Koa();
  app.use(jwtAuth(options));
  app.use(answer);
  return app;
}

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown> | undefined;
  challenge: string | null;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json') && text !== '' ? JSON.parse(text) : undefined;
  return { status: response.status, text, json, challenge: response.headers.get('www-authenticate') };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Our answer to a refused request: the status, and the JSON body with this code. */
function refused(status: number, code: AuthErrorCode) {
  return expect.objectContaining({ status, json: expect.objectContaining({ code }) }) as unknown;
}

describe('koa-jwt failure tests', () => {
  // koa-jwt: "should throw 401 if no authorization header"
  // differs: the body is the JSON error with code missing_token (not the text "Authentication
  // Error"), with the RFC 6750 challenge `Bearer`.
  it('answers 401 missing_token without an Authorization header', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const answer = await get(url);
    expect(answer).toEqual({
      status: 401,
      text: expect.any(String),
      json: { error: 'unauthorized', error_description: 'Authentication is required: send a Bearer token', code: 'missing_token' },
      challenge: 'Bearer',
    });
  });

  // koa-jwt: "should throw 401 if no authorization header" (the case with debug: true)
  // differs: there is no `debug`; it is refused at start-up, and onEvent tells the server why
  // (the client always gets the fixed description).
  it('refuses debug at start-up and tells onEvent the reason instead', async () => {
    expect(() => jwtAuth({ secret: SECRET, debug: true } as never)).toThrow(/"debug" is a koa-jwt option/);
    const events: AuthEvent[] = [];
    const url = await serve(appWith({ secret: SECRET, onEvent: (event) => events.push(event) }));
    expect(await get(url)).toEqual(refused(401, 'missing_token'));
    expect(events).toEqual([{ type: 'auth.failed', code: 'missing_token', status: 401, reason: 'no token was sent' }]);
  });

  // koa-jwt: "should return 401 if authorization header is malformed"
  // differs: `Authorization: wrong` is another scheme, not a bearer token: 401 missing_token (not
  // "Bad Authorization header format").
  it('answers 401 missing_token for an Authorization header without the Bearer scheme', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const answer = await get(url, { Authorization: 'wrong' });
    expect(answer).toEqual(refused(401, 'missing_token'));
    expect(answer.challenge).toBe('Bearer');
  });

  // koa-jwt: "should return 401 if authorization header does not start with Bearer"
  // differs: another scheme (`Bearskin Jacket`) is 401 missing_token, as RFC 6750 §3.1 says.
  it('answers 401 missing_token for another scheme', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    expect(await get(url, { Authorization: 'Bearskin Jacket' })).toEqual(refused(401, 'missing_token'));
  });

  // (koa-jwt answers 401 "Bad Authorization header format" for `Bearer a b` too.)
  // differs: a Bearer header that is not `Bearer <token>` is 400 malformed_header.
  it('answers 400 malformed_header for a Bearer header with extra parts or no token', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    expect(await get(url, { Authorization: `Bearer ${await sign({ foo: 'bar' })} extra` })).toEqual(refused(400, 'malformed_header'));
    expect(await get(url, { Authorization: 'Bearer' })).toEqual(refused(400, 'malformed_header'));
    expect(await get(url, { Authorization: 'Bearer a"b' })).toEqual(refused(400, 'malformed_header'));
  });

  // koa-jwt: "should allow provided getToken function to throw"
  it('lets getToken throw: ctx.throw(401, …) reaches Koa unchanged', async () => {
    const url = await serve(appWith({ secret: SECRET, getToken: (ctx) => ctx.throw(401, 'Bad Authorization') }));
    const answer = await get(url);
    expect([answer.status, answer.text]).toEqual([401, 'Bad Authorization']);
  });

  // koa-jwt: "should throw if getToken function returns invalid jwt"
  it('answers 401 invalid_signature when getToken returns a token signed with another secret', async () => {
    const token = await sign({ foo: 'bar' }, OTHER_SECRET);
    const url = await serve(appWith({ secret: SECRET, getToken: () => token }));
    expect(await get(url)).toEqual(refused(401, 'invalid_signature'));
  });

  // koa-jwt: "should throw if authorization header is not well-formatted jwt"
  it('answers 401 malformed_token for a bearer token that is no JWT', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const answer = await get(url, { Authorization: 'Bearer wrongjwt' });
    expect(answer).toEqual(refused(401, 'malformed_token'));
    expect(answer.challenge).toMatch(/^Bearer error="invalid_token", error_description="/);
  });

  // koa-jwt: "should throw if authorization header is not valid jwt"
  it('answers 401 invalid_signature for a token signed with another secret', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    expect(await get(url, bearer(await sign({ foo: 'bar' }, OTHER_SECRET)))).toEqual(refused(401, 'invalid_signature'));
  });

  // koa-jwt: "should throw if authorization header is not valid jwt according to any secret"
  it('answers 401 invalid_signature when no secret of an array verifies the token', async () => {
    const url = await serve(appWith({ secret: [OTHER_SECRET, 'some-other-migration-secret-of-32-bytes'] }));
    expect(await get(url, bearer(await sign({ foo: 'bar' })))).toEqual(refused(401, 'invalid_signature'));
  });

  // koa-jwt: "should throw non-descriptive errors when debug is false"
  // Descriptions are always fixed texts: never jsonwebtoken's message, the token or the key.
  it('describes a failure with a fixed text, never the underlying error', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const token = await sign({ foo: 'bar' }, OTHER_SECRET);
    const answer = await get(url, bearer(token));
    expect(answer.json).toEqual({ error: 'invalid_token', error_description: 'The token signature is invalid', code: 'invalid_signature' });
    expect(answer.text).not.toContain(token.split('.')[2]);
    expect(answer.text).not.toMatch(/signature verification failed|invalid signature/);
  });

  // koa-jwt: "should throw if opts.cookies is set and the specified cookie is not well-formatted jwt"
  // (koa-jwt's `cookie: 'jwt'` is `tokenFrom: { cookie: 'jwt' }` here, the header staying on.)
  it('answers 401 malformed_token for a token cookie that is no JWT', async () => {
    expect(() => jwtAuth({ secret: SECRET, cookie: 'jwt' } as never)).toThrow(/tokenFrom: \{ cookie: "<name>" \}/);
    const url = await serve(appWith({ secret: SECRET, tokenFrom: { header: true, cookie: 'jwt' } }));
    expect(await get(url, { Cookie: `jwt=bad${await sign({ foo: 'bar' })};` })).toEqual(refused(401, 'malformed_token'));
  });

  // koa-jwt: "should throw if audience is not expected"
  it('answers 401 claim_invalid for another audience', async () => {
    const url = await serve(appWith({ secret: SECRET, audience: 'not-expected-audience' }));
    expect(await get(url, bearer(await sign({ foo: 'bar', aud: 'expected-audience' })))).toEqual(refused(401, 'claim_invalid'));
  });

  // koa-jwt: "should throw if token is expired"
  it('answers 401 token_expired for an expired token', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    expect(await get(url, bearer(await sign({ foo: 'bar', exp: 1382412921 })))).toEqual(refused(401, 'token_expired'));
  });

  // koa-jwt: "should throw with original jsonwebtoken error as originalError property"
  // differs: errors are answered, not thrown, unless forwardErrors: true; the thrown AuthError
  // carries a stable `code` (and jose's error as `cause`) instead of `originalError`.
  it('with forwardErrors, throws an AuthError with status 401, code token_expired and the cause', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (!isAuthError(err)) throw err;
        ctx.status = err.status;
        ctx.body = { code: err.code, status: err.status, expose: err.expose, cause: (err.cause as { code?: string } | undefined)?.code };
      }
    });
    app.use(jwtAuth({ secret: SECRET, forwardErrors: true }));
    const url = await serve(app);
    const answer = await get(url, bearer(await sign({ foo: 'bar', exp: 1382412921 })));
    expect([answer.status, answer.json]).toEqual([401, { code: 'token_expired', status: 401, expose: true, cause: 'ERR_JWT_EXPIRED' }]);
  });

  // koa-jwt: "should throw if token issuer is wrong"
  it('answers 401 claim_invalid for another issuer', async () => {
    const url = await serve(appWith({ secret: SECRET, issuer: 'http://wrong' }));
    expect(await get(url, bearer(await sign({ foo: 'bar', iss: 'http://foo' })))).toEqual(refused(401, 'claim_invalid'));
  });

  // koa-jwt: "should throw if secret neither provided by options or middleware"
  // differs: no key is a TypeError at start-up, not a 401 on every request.
  it('refuses to start without a key', () => {
    expect(() => jwtAuth({})).toThrow(TypeError);
  });

  // koa-jwt: "should throw if secret both provided by options (right secret) and middleware (wrong secret)"
  it('answers 401 invalid_signature for the wrong secret', async () => {
    const url = await serve(appWith({ secret: OTHER_SECRET }));
    expect(await get(url, bearer(await sign({ foo: 'bar', iss: 'http://foo' })))).toEqual(refused(401, 'invalid_signature'));
  });

  // koa-jwt: "should throw 401 if isRevoked throw error"
  // differs: an isRevoked that throws is not an authentication failure: the error goes to Koa's
  // error path unchanged (Koa answers 500). Throw StoreUnavailable for "cannot tell": 503.
  it('sends an error isRevoked throws to Koa, and answers 503 store_unavailable for StoreUnavailable', async () => {
    const token = await sign({ foo: 'bar' });
    const thrower = await serve(appWith({ secret: SECRET, isRevoked: () => Promise.reject(new Error('Token revocation check error')) }));
    const answer = await get(thrower, bearer(token));
    expect([answer.status, answer.text]).toEqual([500, 'Internal Server Error']);
    const unavailable = await serve(appWith({ secret: SECRET, isRevoked: () => Promise.reject(new StoreUnavailable('redis is down')) }));
    const outage = await fetch(unavailable, { headers: bearer(token) });
    expect(outage.status).toBe(503);
    expect(outage.headers.get('retry-after')).toBe('5');
    expect(await outage.json()).toMatchObject({ error: 'temporarily_unavailable', code: 'store_unavailable' });
  });

  // koa-jwt: "should throw 401 if revoked token"
  // (koa-jwt's isRevoked(ctx, decodedToken, token) is isRevoked(payload, header) here.)
  it('answers 401 token_revoked when isRevoked returns true', async () => {
    expect(() => jwtAuth({ secret: SECRET, isRevoked: (_ctx: unknown, _token: unknown, _user: unknown) => Promise.resolve(true) } as never)).toThrow(
      /"isRevoked" receives \(payload, header\)/,
    );
    const url = await serve(appWith({ secret: SECRET, isRevoked: (payload) => Promise.resolve(payload.foo === 'bar') }));
    expect(await get(url, bearer(await sign({ foo: 'bar' })))).toEqual(refused(401, 'token_revoked'));
  });

  // koa-jwt: "should throw if secret provider rejects"
  // differs: a secret function that throws goes to Koa's error path (500), as every hook of
  // yours; throw KeysUnavailable when the keys cannot be had for now: 503 key_unavailable.
  it('sends an error the secret function throws to Koa, and answers 503 key_unavailable for KeysUnavailable', async () => {
    const token = await sign({ foo: 'bar' });
    const rejects = await serve(appWith({ secret: () => Promise.reject(new Error('Not supported')) }));
    const answer = await get(rejects, bearer(token));
    expect([answer.status, answer.text]).toEqual([500, 'Internal Server Error']);
    const down = await serve(appWith({ secret: () => Promise.reject(new KeysUnavailable('the key service is down')) }));
    const outage = await get(down, bearer(token));
    expect(outage).toEqual(refused(503, 'key_unavailable'));
    expect(outage.challenge).toBeNull();
  });

  // koa-jwt: "should throw if secret provider used but token invalid"
  it('answers 401 malformed_token before asking the secret function about a token that is no JWT', async () => {
    let asked = 0;
    const url = await serve(
      appWith({
        secret: () => {
          asked++;
          return Promise.resolve(SECRET);
        },
      }),
    );
    expect(await get(url, { Authorization: 'Bearer dodgytoken' })).toEqual(refused(401, 'malformed_token'));
    expect(asked).toBe(0);
  });

  // koa-jwt: "should throw if secret provider returns a secret that does not match jwt"
  it('answers 401 invalid_signature when the secret function returns another secret', async () => {
    const url = await serve(appWith({ secret: () => Promise.resolve(OTHER_SECRET) }));
    expect(await get(url, bearer(await sign({ foo: 'bar' })))).toEqual(refused(401, 'invalid_signature'));
  });

  // koa-jwt: "should throw if no secret provider returns a secret that matches jwt"
  it('answers 401 invalid_signature when no secret the function returns matches', async () => {
    const url = await serve(appWith({ secret: () => Promise.resolve([OTHER_SECRET, 'still-not-my-secret-of-32-bytes-at-least']) }));
    expect(await get(url, bearer(await sign({ foo: 'bar' })))).toEqual(refused(401, 'invalid_signature'));
  });
});

describe('koa-jwt passthrough tests', () => {
  // koa-jwt: "should continue if `passthrough` is true"
  it('goes on unauthenticated without a token: ctx.state.user is undefined (204), the reason in authError', async () => {
    const url = await serve(appWith({ secret: SECRET, passthrough: true }));
    expect(await get(url)).toEqual({ status: 204, text: '', json: undefined, challenge: null });
    const why = await serve(
      appWith({ secret: SECRET, passthrough: true }, (ctx) => {
        ctx.body = { user: ctx.state.user ?? null, code: (ctx.state as { authError?: { code: string } }).authError?.code };
      }),
    );
    expect((await get(why)).json).toEqual({ user: null, code: 'missing_token' });
  });

  // koa-jwt: "should continue if `passthrough` is true with bad auth header format"
  // (koa-jwt's ctx.state.jwtOriginalError is ctx.state.authError here, an AuthError.)
  it('goes on unauthenticated with another scheme or a bad token', async () => {
    const url = await serve(appWith({ secret: SECRET, passthrough: true }));
    expect(await get(url, { Authorization: 'liver and onions' })).toEqual({ status: 204, text: '', json: undefined, challenge: null });
    const why = await serve(
      appWith({ secret: SECRET, passthrough: true }, (ctx) => {
        ctx.body = { user: ctx.state.user ?? null, code: (ctx.state as { authError?: { code: string } }).authError?.code };
      }),
    );
    expect((await get(why, { Authorization: 'Bearer wrongjwt' })).json).toEqual({ user: null, code: 'malformed_token' });
    expect((await get(why, bearer(await sign({ foo: 'bar' }, OTHER_SECRET)))).json).toEqual({ user: null, code: 'invalid_signature' });
  });
});

describe('koa-jwt success tests', () => {
  // koa-jwt: "should work if authorization header is valid jwt"
  it('sets ctx.state.user to the payload of a valid token', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const answer = await get(url, bearer(await sign({ foo: 'bar' })));
    expect([answer.status, answer.json?.foo]).toEqual([200, 'bar']);
  });

  // koa-jwt: "should work if authorization header contains leading and/or trailing whitespace"
  it('reads a token with whitespace around the header value', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const answer = await sendRaw(url, { target: '/', headers: [['Authorization', `     Bearer ${await sign({ foo: 'bar' })}     `]] });
    expect([answer.status, (JSON.parse(answer.body) as { foo?: unknown }).foo]).toEqual([200, 'bar']);
  });

  // koa-jwt: "should work if authorization header is valid jwt according to one of the secrets"
  it('accepts a token any secret of an array verifies', async () => {
    const url = await serve(appWith({ secret: [SECRET, OTHER_SECRET] }));
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
    expect((await get(url, bearer(await sign({ foo: 'baz' }, OTHER_SECRET)))).json?.foo).toBe('baz');
  });

  // koa-jwt: "should work if the provided getToken function returns a valid jwt"
  it('reads the token getToken returns (or, without code, tokenFrom: { query })', async () => {
    const token = await sign({ foo: 'bar' });
    const viaGetToken = await serve(appWith({ secret: SECRET, getToken: (ctx) => ctx.request.query.token as string | undefined }));
    expect((await get(`${viaGetToken}/?token=${token}`)).json?.foo).toBe('bar');
    const viaQuery = await serve(appWith({ secret: SECRET, tokenFrom: { header: false, query: 'token' } }));
    expect((await get(`${viaQuery}/?token=${token}`)).json?.foo).toBe('bar');
  });

  // koa-jwt: "should use the first resolved token"
  // differs: a token in a cookie and another in the header is 400 multiple_tokens, never "the
  // first one wins" (which one is verified must not depend on the order sources are read in).
  it('answers 400 multiple_tokens for a cookie and a header', async () => {
    const url = await serve(appWith({ secret: SECRET, tokenFrom: { header: true, cookie: 'jwt' } }));
    const answer = await get(url, { Cookie: `jwt=${await sign({ foo: 'bar' })};`, ...bearer(await sign({ foo: 'bar' }, OTHER_SECRET)) });
    expect(answer).toEqual(refused(400, 'multiple_tokens'));
  });

  // koa-jwt: "should work if opts.cookies is set and the specified cookie contains valid jwt"
  it('reads the token cookie (tokenFrom: { cookie })', async () => {
    const url = await serve(appWith({ secret: SECRET, tokenFrom: { header: true, cookie: 'jwt' } }));
    expect((await get(url, { Cookie: `jwt=${await sign({ foo: 'bar' })};` })).json?.foo).toBe('bar');
  });

  // koa-jwt: "should use provided key for decoded data"
  it('puts the payload under ctx.state[key]', async () => {
    const url = await serve(
      appWith({ secret: SECRET, key: 'jwtdata' }, (ctx) => {
        ctx.body = ctx.state.jwtdata;
      }),
    );
    const answer = await get(url, bearer(await sign({ foo: 'bar' })));
    expect([answer.status, answer.json?.foo]).toEqual([200, 'bar']);
  });

  // koa-jwt: "should work if secret is provided by middleware"
  // differs: there is no ctx.state.secret; a secret function receives ctx and returns it.
  it('takes a secret an earlier middleware chose, through a secret function given ctx', async () => {
    const app = new Koa();
    app.use((ctx, next) => {
      ctx.state.secret = SECRET;
      return next();
    });
    app.use(jwtAuth({ secret: (_header, _token, ctx) => ctx.state.secret as string }));
    app.use((ctx) => {
      ctx.body = ctx.state.user;
    });
    const url = await serve(app);
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });

  // koa-jwt: "should work if secret is provided by secret provider function"
  // (koa-jwt calls it with (header, payload); here (header, token, ctx).)
  it('takes the secret from a secret function', async () => {
    const url = await serve(appWith({ secret: ({ alg }) => Promise.resolve(alg === 'HS256' ? SECRET : OTHER_SECRET) }));
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });

  // koa-jwt: "should work if a valid secret is provided by one of the secret provider functions"
  it('accepts a token one of the secrets a secret function returns verifies', async () => {
    const url = await serve(appWith({ secret: () => Promise.resolve([OTHER_SECRET, SECRET]) }));
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });

  // koa-jwt: "should not overwrite ctx.state.token on successful token verification if opts.tokenKey is undefined"
  it('leaves every ctx.state property but its own alone', async () => {
    const app = new Koa();
    app.use((ctx, next) => {
      ctx.state = { token: 'DONT_CLOBBER_ME' };
      return next();
    });
    app.use(jwtAuth({ secret: SECRET, key: 'jwtdata' }));
    app.use((ctx) => {
      ctx.body = { token: ctx.state.token, names: Object.keys(ctx.state).sort() };
    });
    const url = await serve(app);
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json).toEqual({ token: 'DONT_CLOBBER_ME', names: ['auth', 'authError', 'jwtdata', 'token'] });
  });

  // koa-jwt: "should populate the raw token to ctx.state, in key from opts.tokenKey"
  // differs: no tokenKey (refused at start-up, saying where the token is): the raw token is
  // ctx.state.auth.token (ctx.state[authKey].token).
  it('keeps the raw token in ctx.state.auth.token', async () => {
    expect(() => jwtAuth({ secret: SECRET, key: 'jwtdata', tokenKey: 'testTokenKey' } as never)).toThrow(
      /"tokenKey" is a koa-jwt option: the raw token is already ctx\.state\.auth\.token/,
    );
    const token = await sign({ foo: 'bar' });
    const url = await serve(
      appWith({ secret: SECRET, key: 'jwtdata', authKey: 'jwt' }, (ctx) => {
        ctx.body = { token: (ctx.state as { jwt?: { token?: string } }).jwt?.token };
      }),
    );
    expect((await get(url, bearer(token))).json).toEqual({ token });
  });

  // koa-jwt: "should use middleware secret if both middleware and options provided"
  it('prefers the secret an earlier middleware chose, when the secret function says so', async () => {
    const app = new Koa();
    app.use((ctx, next) => {
      ctx.state.secret = SECRET;
      return next();
    });
    app.use(jwtAuth({ secret: (_header, _token, ctx) => (ctx.state.secret as string | undefined) ?? OTHER_SECRET }));
    app.use((ctx) => {
      ctx.body = ctx.state.user;
    });
    const url = await serve(app);
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });
});

describe('koa-jwt unless tests', () => {
  // koa-jwt: "should pass if the route is excluded"
  it('skips an excluded route with .unless({ path }), whatever the Authorization header holds', async () => {
    const app = new Koa();
    app.use(jwtAuth({ secret: SECRET }).unless({ path: ['/public'] }));
    app.use((ctx) => {
      ctx.body = { success: true };
    });
    const url = await serve(app);
    expect(await get(`${url}/public`, { Authorization: 'wrong' })).toEqual({ status: 200, text: '{"success":true}', json: { success: true }, challenge: null });
  });

  // koa-jwt: "should fail if the route is not excluded"
  // differs: `Authorization: wrong` is 401 missing_token (JSON), not "Bad Authorization header format".
  it('authenticates a route that is not excluded', async () => {
    const app = new Koa();
    app.use(jwtAuth({ secret: SECRET }).unless({ path: ['/public', /^\/static\//] }));
    app.use((ctx) => {
      ctx.body = { success: true };
    });
    const url = await serve(app);
    expect(await get(`${url}/private`, { Authorization: 'wrong' })).toEqual(refused(401, 'missing_token'));
    // Not koa-unless's reading: a target that only spells an excluded prefix, and resolves to
    // another path, is authenticated (sent raw: fetch would resolve the `..` itself).
    expect(await rawGet(url, '/static/../private')).toEqual({ status: 401, body: expect.objectContaining({ code: 'missing_token' }) });
    expect(await rawGet(url, '/static/app.css')).toEqual({ status: 200, body: { success: true } });
  });

  // koa-jwt: "should pass if the route is not excluded and the token is present"
  it('verifies the token on a route that is not excluded, with key', async () => {
    const app = new Koa();
    app.use(jwtAuth({ secret: SECRET, key: 'jwtdata' }).unless({ path: ['/public'] }));
    app.use((ctx) => {
      ctx.body = ctx.state.jwtdata;
    });
    const url = await serve(app);
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });

  // koa-jwt: "should work if authorization header is valid jwt and is not revoked"
  // (koa-jwt's three-parameter isRevoked is refused at start-up: see "should throw 401 if revoked token".)
  it('accepts a token isRevoked says is not revoked', async () => {
    const url = await serve(appWith({ secret: SECRET, isRevoked: () => Promise.resolve(false) }));
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).json?.foo).toBe('bar');
  });
});

describe('koa-jwt behaviours its tests do not name', () => {
  // differs: koa-jwt (jsonwebtoken) accepts HS256, HS384 and HS512 for any string secret; here the
  // algorithms follow the secret's length (RFC 7518 §3.2): an HS512 token is refused for a
  // secret shorter than 64 bytes.
  it('refuses an HS512 token for a secret long enough only for HS256', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    expect(await get(url, bearer(await sign({ foo: 'bar' }, SECRET, 'HS512')))).toEqual(refused(401, 'algorithm_not_allowed'));
  });

  // differs: koa-jwt starts with secret 'shhhhhh'; a secret shorter than 32 bytes is refused.
  it('refuses a short secret at start-up', () => {
    expect(() => jwtAuth({ secret: 'shhhhhh' })).toThrow(/32 bytes/);
  });

  // differs: jsonwebtoken accepts a token without exp; here exp is required (requireExp: false to opt out).
  it('refuses a token without exp unless requireExp is false', async () => {
    const token = await sign({ foo: 'bar', exp: undefined });
    const strict = await serve(appWith({ secret: SECRET }));
    expect(await get(strict, bearer(token))).toEqual(refused(401, 'claim_invalid'));
    const lenient = await serve(appWith({ secret: SECRET, requireExp: false }));
    expect((await get(lenient, bearer(token))).json?.foo).toBe('bar');
  });

  // differs: jsonwebtoken has no clock tolerance by default; here 5 s (clockTolerance).
  it('accepts a token expired less than 5 s ago', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const now = Math.floor(Date.now() / 1000);
    expect((await get(url, bearer(await sign({ foo: 'bar', exp: now - 2 })))).status).toBe(200);
    expect(await get(url, bearer(await sign({ foo: 'bar', exp: now - 30 })))).toEqual(refused(401, 'token_expired'));
  });

  // koa-jwt's README: "Custom 401 handling" in a first middleware catching err.status === 401.
  // differs: failures are answered, not thrown, so such a handler sees them only with forwardErrors: true.
  it("reaches an app's own 401 handler with forwardErrors: true", async () => {
    const app = new Koa();
    app.use((ctx, next) =>
      next().catch((err: { status?: number }) => {
        if (err.status !== 401) throw err;
        ctx.status = 401;
        ctx.body = 'Protected resource, use Authorization header to get access\n';
      }),
    );
    app.use(jwtAuth({ secret: SECRET, forwardErrors: true }));
    app.use((ctx) => {
      ctx.body = 'protected\n';
    });
    const url = await serve(app);
    expect(await get(url)).toEqual({ status: 401, text: 'Protected resource, use Authorization header to get access\n', json: undefined, challenge: null });
    expect((await get(url, bearer(await sign({ foo: 'bar' })))).text).toBe('protected\n');
  });

  // differs: koa-jwt answers a secret provider's failed key fetch (jwks-rsa) 401; a JWK Set
  // server that cannot be reached is 503 key_unavailable with Retry-After.
  it('answers 503 key_unavailable when the JWK Set cannot be fetched', async () => {
    const url = await serve(appWith({ jwks: { uri: 'http://127.0.0.1:9/jwks.json', timeoutDuration: 2000 } }));
    const token = await new SignJWT({ foo: 'bar', exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(
        (
          await crypto.subtle.generateKey(
            { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
            true,
            ['sign', 'verify'],
          )
        ).privateKey,
      );
    const response = await fetch(url, { headers: bearer(token) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable', code: 'key_unavailable' });
  });

  // differs: koa-jwt verifies an OPTIONS request like any other, as we do; a CORS preflight is
  // answered by @koa/cors mounted before jwtAuth (see the CORS section of the README).
  it('authenticates an OPTIONS request that reaches it', async () => {
    const url = await serve(appWith({ secret: SECRET }));
    const response = await fetch(url, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' } });
    expect(response.status).toBe(401);
  });
});
