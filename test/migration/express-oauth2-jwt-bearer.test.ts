import { AuthError, isAuthError, jwtAuth, requireClaims, requireScopes, type ExpressJwtAuthOptions } from '@jwtauth/express';
import type { RequestHandler } from 'express';
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeKeys, type Keys } from '../fixtures.js';
import { rawToken } from '../fixtures.js';
import { at, bearer, call, closeAll, serve, signWith } from './express-app.js';

// express-oauth2-jwt-bearer 1.x's own tests (github.com/auth0/node-oauth2-jwt-bearer:
// packages/express-oauth2-jwt-bearer/test/index.test.ts, and the verifier's
// packages/access-token-jwt/test/jwt-verifier.test.ts), ported to @jwtauth/express over real
// HTTP. Its `issuerBaseURL` (discovery, mocked with nock there) is a local OpenID issuer here.
// Where the answer differs by design, the test asserts ours and says "differs", pointing to
// "Coming from express-oauth2-jwt-bearer" in packages/express/README.md.

const AUDIENCE = 'https://api/';
const ISSUER = 'https://issuer.example.com/';
const SECRET = randomBytes(32).toString('hex');

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});
afterAll(() => keys?.close());
afterEach(closeAll);

/** A token of the local OpenID issuer (ES256, kid `ec-remote`), as `createJwt()` makes there. */
function createJwt(claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ iss: keys.discoveryIssuer, aud: AUDIENCE, sub: 'me', iat: at(0), exp: at(60), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'ec-remote' })
    .sign(keys.es.privateKey);
}

/** `setup()` there: `auth({ issuerBaseURL, audience, ...opts })`, then an optional middleware. */
function setup(options: Partial<ExpressJwtAuthOptions> = {}, ...middleware: RequestHandler[]): Promise<string> {
  const usesSecret = 'secret' in options || 'issuers' in options;
  const base: ExpressJwtAuthOptions = usesSecret
    ? ({ issuer: ISSUER, audience: AUDIENCE, realm: 'api' } as ExpressJwtAuthOptions)
    : { issuer: keys.discoveryIssuer, discovery: true, audience: AUDIENCE, realm: 'api' };
  return serve(jwtAuth({ ...base, ...options } as ExpressJwtAuthOptions), ...middleware);
}

/** A symmetric token for the `secret` cases. */
const symmetric = (claims: JWTPayload = {}, secret = SECRET) => signWith(secret, { iss: ISSUER, aud: AUDIENCE, exp: at(60), ...claims });

describe('express-oauth2-jwt-bearer index', () => {
  // express-oauth2-jwt-bearer: "should fail for anonymous requests"
  it('answers an anonymous request 401 with the realm challenge', async () => {
    const answer = await call(await setup());
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  // express-oauth2-jwt-bearer: "should succeed for anonymous requests when authRequired is false"
  it('lets an anonymous request through with credentialsRequired: false', async () => {
    const answer = await call(await setup({ credentialsRequired: false }));
    expect(answer.status).toBe(200);
    expect(answer.body.auth).toBeNull();
  });

  // express-oauth2-jwt-bearer: "should succeed for invalid requests when authRequired is false"
  // differs: credentialsRequired: false still refuses a bad token; passthrough: true lets it through (README: authRequired).
  it('lets an invalid token through only with passthrough: true, the reason in req.authError', async () => {
    const strict = await call(await setup({ credentialsRequired: false }), bearer('invalid.jwt'));
    expect([strict.status, strict.body.code]).toEqual([401, 'malformed_token']);
    const url = await setup({ credentialsRequired: false, passthrough: true }, (req, res) => {
      res.json({ auth: req.auth ?? null, reason: req.authError?.code });
    });
    const lenient = await call(url, bearer('invalid.jwt'));
    expect(lenient.status).toBe(200);
    expect(lenient.body).toEqual({ auth: null, reason: 'malformed_token' });
  });

  // express-oauth2-jwt-bearer: "should fail for anonymous requests when authRequired is true"
  it('answers an anonymous request 401 with credentialsRequired: true', async () => {
    const answer = await call(await setup({ credentialsRequired: true }));
    expect([answer.status, answer.body.code]).toEqual([401, 'missing_token']);
  });

  // express-oauth2-jwt-bearer: "should accept empty arguments and env vars"
  // differs: nothing is read from the environment; no options is a TypeError (README: environment variables).
  it('refuses empty options, whatever the environment says', () => {
    const saved = { ...process.env };
    try {
      process.env.ISSUER_BASE_URL = 'https://issuer.example.com/';
      process.env.AUDIENCE = 'baz';
      expect(() => jwtAuth(undefined as never)).toThrow(TypeError);
      expect(() => jwtAuth({})).toThrow(/secret|jwks|discovery|issuers/);
    } finally {
      process.env = saved;
    }
  });

  // express-oauth2-jwt-bearer: "should succeed for authenticated requests"
  it('verifies a token of the discovered issuer and attaches { header, payload, token } (and scopes)', async () => {
    const token = await createJwt();
    const answer = await call(await setup(), bearer(token));
    expect(answer.status).toBe(200);
    expect(answer.body.auth).toMatchObject({ token, header: { alg: 'ES256', kid: 'ec-remote' }, payload: { iss: keys.discoveryIssuer }, scopes: [] });
  });

  // express-oauth2-jwt-bearer: "should succeed for authenticated requests signed with symmetric keys"
  it('verifies a symmetric token with secret (no tokenSigningAlg needed)', async () => {
    const answer = await call(await setup({ secret: SECRET }), bearer(await symmetric()));
    expect(answer.status).toBe(200);
    expect(answer.body.auth).toMatchObject({ payload: { iss: ISSUER } });
  });

  // express-oauth2-jwt-bearer: "should fail for requests signed with invalid symmetric keys"
  it('answers a token signed with another secret 401 invalid_token with the challenge', async () => {
    const answer = await call(await setup({ secret: SECRET }), bearer(await symmetric({}, randomBytes(32).toString('hex'))));
    expect([answer.status, answer.body.code]).toEqual([401, 'invalid_signature']);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
  });

  // express-oauth2-jwt-bearer: "should fail for audience mismatch"
  it('answers an audience mismatch 401 invalid_token (claim_invalid)', async () => {
    const answer = await call(await setup({ audience: 'foo' }), bearer(await createJwt({ aud: 'bar' })));
    expect([answer.status, answer.body.error, answer.body.code]).toEqual([401, 'invalid_token', 'claim_invalid']);
  });

  // express-oauth2-jwt-bearer: "should fail when custom validator fails"
  // differs: a custom check is requireClaims: 403 insufficient_scope, not 401 invalid_token (README: validators).
  it('answers a failing custom claim check 403 insufficient_scope', async () => {
    const answer = await call(
      await setup(
        {},
        requireClaims(() => false),
      ),
      bearer(await createJwt()),
    );
    expect([answer.status, answer.body.code]).toEqual([403, 'insufficient_scope']);
  });

  // express-oauth2-jwt-bearer: "should succeed for POST requests with custom character encoding"
  it('reads the token from a form body with a charset (tokenFrom.body)', async () => {
    const url = await setup({ tokenFrom: { header: true, body: 'access_token' } });
    const answer = await call(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: new URLSearchParams({ access_token: await createJwt() }).toString(),
    });
    expect(answer.status).toBe(200);
  });

  // express-oauth2-jwt-bearer: "should fail with custom claim check for anonymous request"
  // differs: without a jwtAuth before it there is no realm to name: the challenge is a bare "Bearer".
  it('answers a claim check on an anonymous request 401', async () => {
    const answer = await call(await serve(requireClaims(() => false)));
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
  });

  // express-oauth2-jwt-bearer: "should fail when custom claim check returns false"
  // differs: 403 insufficient_scope (there 401 invalid_token); the message is messages.insufficient_scope.
  it('answers a claim check returning false 403 with the configured message', async () => {
    const url = await setup(
      { messages: { insufficient_scope: "'num' too small" } },
      requireClaims(({ num }) => typeof num === 'number' && num > 3),
    );
    const answer = await call(url, bearer(await createJwt({ num: 2 })));
    expect([answer.status, answer.body.error_description]).toEqual([403, "'num' too small"]);
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer realm="api", error="insufficient_scope", error_description="'num' too small"`);
  });

  // express-oauth2-jwt-bearer: "should succeed when custom claim check returns true"
  it('lets a request through when the claim check returns true', async () => {
    const url = await setup(
      {},
      requireClaims(({ num }) => typeof num === 'number' && num > 3),
    );
    const answer = await call(url, bearer(await createJwt({ num: 4 })));
    expect(answer.status).toBe(200);
    expect(answer.body.auth).toMatchObject({ payload: { num: 4 } });
  });

  const claimEquals = (claim: string, expected: unknown) => requireClaims((payload) => payload[claim] === expected);

  // express-oauth2-jwt-bearer: "should fail when actual claim does not equal expected claim"
  // differs: 403, not 401 (README: claimEquals).
  it('claimEquals as requireClaims: a different value is refused', async () => {
    const answer = await call(await setup({}, claimEquals('foo', 'bar')), bearer(await createJwt({ foo: 'baz' })));
    expect([answer.status, answer.body.code]).toEqual([403, 'insufficient_scope']);
  });

  // express-oauth2-jwt-bearer: "should succeed when actual claim does equals expected claim"
  it('claimEquals as requireClaims: the expected value passes', async () => {
    const answer = await call(await setup({}, claimEquals('foo', 'bar')), bearer(await createJwt({ foo: 'bar' })));
    expect(answer.status).toBe(200);
  });

  /** claimIncludes there: a space-separated string or an array holding every expected value. */
  const claimIncludes = (claim: string, ...expected: string[]) =>
    requireClaims((payload) => {
      const value = payload[claim];
      const values = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
      return expected.every((item) => values.includes(item));
    });

  // express-oauth2-jwt-bearer: "should fail when actual claim does not include expected claims"
  it('claimIncludes as requireClaims: a missing value is refused (403)', async () => {
    const answer = await call(await setup({}, claimIncludes('foo', 'bar', 'baz')), bearer(await createJwt({ foo: 'bar qux' })));
    expect([answer.status, answer.body.code]).toEqual([403, 'insufficient_scope']);
  });

  // express-oauth2-jwt-bearer: "should succeed when actual claim includes expected claims"
  it('claimIncludes as requireClaims: every value present passes', async () => {
    const answer = await call(await setup({}, claimIncludes('foo', 'bar', 'baz')), bearer(await createJwt({ foo: ['bar', 'baz'] })));
    expect(answer.status).toBe(200);
  });

  // express-oauth2-jwt-bearer: "should fail when required scopes are not included"
  it('requireScopes: a missing scope is 403 insufficient_scope naming every required scope', async () => {
    const answer = await call(await setup({}, requireScopes('foo', 'bar', 'baz')), bearer(await createJwt({ scope: 'foo bar' })));
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="foo bar baz"$/);
  });

  // express-oauth2-jwt-bearer: "should succeed when required scopes are included"
  it('requireScopes: scopes from an array scope claim pass', async () => {
    const answer = await call(await setup({}, requireScopes('foo', 'bar')), bearer(await createJwt({ scope: ['foo', 'bar', 'baz'] })));
    expect(answer.status).toBe(200);
    expect(answer.body.auth).toMatchObject({ scopes: ['foo', 'bar', 'baz'] });
  });

  // express-oauth2-jwt-bearer: "should replace double quotes in header with single quotes"
  it('keeps the challenge a well-formed quoted string for a claim of the wrong type', async () => {
    const answer = await call(await setup(), bearer(await createJwt({ nbf: false as unknown as number })));
    expect([answer.status, answer.body.code]).toEqual([401, 'claim_invalid']);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token", error_description="(?:[^"\\]|\\.)*"$/);
  });

  // express-oauth2-jwt-bearer: "should export errors"
  // differs: one AuthError class with a code instead of four classes (README: errors).
  it('exports one AuthError whose code gives the status', () => {
    expect(new AuthError('malformed_header').status).toBe(400);
    expect(new AuthError('invalid_signature').status).toBe(401);
    expect(new AuthError('insufficient_scope').status).toBe(403);
    expect(new AuthError('missing_token').headers['WWW-Authenticate']).toBe('Bearer');
    expect(isAuthError(new AuthError('token_expired'))).toBe(true);
    expect(() => {
      throw new AuthError('invalid_signature');
    }).toThrow(AuthError);
  });

  const scopeIncludesAny = (...scopes: string[]) => requireClaims((_payload, auth) => scopes.some((scope) => auth.scopes.includes(scope)));

  // express-oauth2-jwt-bearer: "should fail when required scopes are not included" (scopeIncludesAny)
  // differs: as a requireClaims check the 403 names no scope (README: scopeIncludesAny).
  it('scopeIncludesAny as requireClaims: none of the scopes is refused (403)', async () => {
    const answer = await call(await setup({}, scopeIncludesAny('foo', 'bar', 'baz')), bearer(await createJwt({ scope: 'qux quxx' })));
    expect([answer.status, answer.body.code]).toEqual([403, 'insufficient_scope']);
  });

  // express-oauth2-jwt-bearer: "should succeed when required scopes are included" (scopeIncludesAny)
  it('scopeIncludesAny as requireClaims: one of the scopes passes', async () => {
    const answer = await call(await setup({}, scopeIncludesAny('foo', 'bar')), bearer(await createJwt({ scope: ['foo', 'baz'] })));
    expect(answer.status).toBe(200);
  });

  // express-oauth2-jwt-bearer: "for full coverage: should use req.url when req.originalUrl is undefined"
  it('authenticates a request whose originalUrl was removed', async () => {
    const dropOriginalUrl: RequestHandler = (req, _res, next) => {
      delete (req as { originalUrl?: string }).originalUrl;
      next();
    };
    const url = await serve(dropOriginalUrl, jwtAuth({ issuer: keys.discoveryIssuer, discovery: true, audience: AUDIENCE }));
    expect((await call(`${url}/test-url`, bearer(await createJwt()))).status).toBe(200);
    expect((await call(`${url}/test-url`)).status).toBe(401);
  });

  // express-oauth2-jwt-bearer: "DPoP" and "mTLS (RFC 8705) certificate-bound tokens" describe blocks
  // differs: neither is supported; a DPoP-scheme request carries no Bearer token (README: dpop, mtls).
  it('answers an Authorization: DPoP request 401 missing_token', async () => {
    const answer = await call(await setup(), { headers: { authorization: `DPoP ${await createJwt()}` } });
    expect([answer.status, answer.body.code]).toEqual([401, 'missing_token']);
  });
});

describe('express-oauth2-jwt-bearer jwt-verifier', () => {
  // access-token-jwt: "should throw when configured with no jwksUri or issuerBaseURL and issuer"
  it('refuses options without a key source (TypeError)', () => {
    expect(() => jwtAuth({ issuer: ISSUER, audience: AUDIENCE })).toThrow(TypeError);
  });

  // access-token-jwt: "should throw when configured with no audience"
  // differs: audience is optional here (README: audience).
  it('accepts options without an audience', () => {
    expect(() => jwtAuth({ issuer: ISSUER, secret: SECRET })).not.toThrow();
  });

  // access-token-jwt: "should throw when configured with secret and no token signing alg"
  // differs: the algorithm follows from the secret (README: secret + tokenSigningAlg).
  it('accepts a secret without an algorithm', () => {
    expect(() => jwtAuth({ secret: SECRET })).not.toThrow();
  });

  // access-token-jwt: "should throw when configured with secret and invalid token signing alg"
  it('refuses an asymmetric algorithm for a secret (TypeError)', () => {
    expect(() => jwtAuth({ secret: SECRET, algorithms: ['RS256'] })).toThrow(TypeError);
  });

  // access-token-jwt: "should throw when configured with JWKS uri and invalid token signing alg"
  it('refuses an HMAC algorithm for a JWK Set (TypeError)', () => {
    expect(() => jwtAuth({ jwks: { uri: 'https://issuer.example.com/jwks.json' }, algorithms: ['HS256'] })).toThrow(TypeError);
    expect(() => jwtAuth({ jwks: { uri: 'https://issuer.example.com/jwks.json' }, algorithms: ['none'] })).toThrow(TypeError);
  });

  // access-token-jwt: "should verify the token"
  it('verifies a token of a JWK Set given by URI (jwksUri)', async () => {
    const url = await serve(jwtAuth({ jwks: { uri: keys.jwksUri }, issuer: keys.discoveryIssuer, audience: AUDIENCE }));
    expect((await call(url, bearer(await createJwt()))).status).toBe(200);
  });

  // access-token-jwt: "should throw for unexpected issuer"
  it('answers an unexpected issuer 401 claim_invalid', async () => {
    const answer = await call(await setup(), bearer(await createJwt({ iss: 'https://other.example/' })));
    expect([answer.status, answer.body.code]).toEqual([401, 'claim_invalid']);
  });

  // access-token-jwt: "should throw for an expired token"
  it('answers an expired token 401 token_expired', async () => {
    const answer = await call(await setup(), bearer(await createJwt({ iat: at(-600), exp: at(-300) })));
    expect([answer.status, answer.body.code]).toEqual([401, 'token_expired']);
  });

  // access-token-jwt: "should throw for invalid nbf"
  it('answers a token not valid yet 401 token_not_yet_valid', async () => {
    const answer = await call(await setup(), bearer(await createJwt({ nbf: at(600) })));
    expect([answer.status, answer.body.code]).toEqual([401, 'token_not_yet_valid']);
  });

  // access-token-jwt: "should validate nbf claim with clockTolerance"
  it('accepts an nbf within clockTolerance', async () => {
    const answer = await call(await setup({ clockTolerance: 30 }), bearer(await createJwt({ nbf: at(20) })));
    expect(answer.status).toBe(200);
  });

  // access-token-jwt: "should throw unexpected token signing alg"
  it('answers an algorithm outside algorithms 401 algorithm_not_allowed', async () => {
    const long = randomBytes(64).toString('hex');
    const url = await setup({ secret: long, algorithms: ['HS256'] });
    const answer = await call(url, bearer(await signWith(long, { iss: ISSUER, aud: AUDIENCE, exp: at(60) }, 'HS512')));
    expect([answer.status, answer.body.code]).toEqual([401, 'algorithm_not_allowed']);
  });

  // access-token-jwt: "should fail with invalid_token error"
  it('answers a token that is not a JWS 401 invalid_token', async () => {
    const answer = await call(await setup(), bearer('foo'));
    expect([answer.status, answer.body.error, answer.body.code]).toEqual([401, 'invalid_token', 'malformed_token']);
  });

  // express-oauth2-jwt-bearer: maxTokenAge option (AuthOptions)
  it('answers a token older than maxTokenAge 401 token_too_old', async () => {
    const answer = await call(await setup({ maxTokenAge: 60 }), bearer(await createJwt({ iat: at(-120), exp: at(60) })));
    expect([answer.status, answer.body.code]).toEqual([401, 'token_too_old']);
  });

  // express-oauth2-jwt-bearer: strict option (RFC 9068 profile)
  it('strict as typ + requiredClaims: a JWT without typ at+jwt or jti is refused', async () => {
    const strict = { typ: 'at+jwt', requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'] };
    const url = await setup(strict);
    const plain = await call(url, bearer(await createJwt({ jti: '1', client_id: 'c' })));
    expect([plain.status, plain.body.code]).toEqual([401, 'claim_invalid']);
    const profiled = await new SignJWT({ iss: keys.discoveryIssuer, aud: AUDIENCE, sub: 'me', iat: at(0), exp: at(60), jti: '1', client_id: 'c' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-remote', typ: 'at+jwt' })
      .sign(keys.es.privateKey);
    expect((await call(url, bearer(profiled))).status).toBe(200);
  });

  // express-oauth2-jwt-bearer: an unreachable jwksUri
  // differs: 503 key_unavailable with Retry-After, not 401 invalid_token (README: key outages).
  it('answers 503 key_unavailable when the JWK Set cannot be fetched', async () => {
    const url = await serve(jwtAuth({ jwks: { uri: keys.deadJwksUri }, audience: AUDIENCE }));
    const answer = await call(url, bearer(await createJwt()));
    expect([answer.status, answer.body.code]).toEqual([503, 'key_unavailable']);
    expect(answer.headers.get('retry-after')).toBe('5');
  });

  describe('MCD (Multiple Custom Domains) as issuers', () => {
    const OTHER_SECRET = randomBytes(32).toString('hex');
    const issuers = () => ({ [keys.discoveryIssuer]: { discovery: true as const }, 'https://b.example/': { secret: OTHER_SECRET } });

    // access-token-jwt: "should verify token with MCD issuer config object (asymmetric)" and "… symmetric issuer config"
    it('verifies tokens of each listed issuer with its own keys', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      expect((await call(url, bearer(await createJwt()))).status).toBe(200);
      expect((await call(url, bearer(await signWith(OTHER_SECRET, { iss: 'https://b.example/', aud: AUDIENCE, exp: at(60) })))).status).toBe(200);
    });

    // access-token-jwt: "should throw when token issuer not in MCD allowed list"
    it('answers an issuer not listed 401 claim_invalid', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const answer = await call(url, bearer(await signWith(OTHER_SECRET, { iss: 'https://c.example/', aud: AUDIENCE, exp: at(60) })));
      expect([answer.status, answer.body.code]).toEqual([401, 'claim_invalid']);
    });

    // access-token-jwt: "should throw when token missing iss claim in MCD mode"
    it('answers a token without iss 401 claim_invalid', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const answer = await call(url, bearer(await signWith(OTHER_SECRET, { aud: AUDIENCE, exp: at(60) })));
      expect([answer.status, answer.body.code]).toEqual([401, 'claim_invalid']);
    });

    // access-token-jwt: "should pass real request context to dynamic resolver"
    it('decides per request with an issuers function given the request', async () => {
      const url = await serve(
        jwtAuth({
          issuers: (iss, req) => (req.get('host')?.startsWith('127.0.0.1') && iss === 'https://b.example/' ? { secret: OTHER_SECRET } : undefined),
          audience: AUDIENCE,
        }),
      );
      expect((await call(url, bearer(await signWith(OTHER_SECRET, { iss: 'https://b.example/', aud: AUDIENCE, exp: at(60) })))).status).toBe(200);
      const other = await call(url, bearer(await signWith(OTHER_SECRET, { iss: 'https://c.example/', aud: AUDIENCE, exp: at(60) })));
      expect([other.status, other.body.code]).toEqual([401, 'claim_invalid']);
    });

    // access-token-jwt: "should reject algorithm "none" early"
    it('answers alg none 401 algorithm_not_allowed', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const answer = await call(url, bearer(rawToken({ alg: 'none' }, { iss: 'https://b.example/', aud: AUDIENCE, exp: at(60) })));
      expect([answer.status, answer.body.code]).toEqual([401, 'algorithm_not_allowed']);
    });

    // access-token-jwt: "should reject RS256 token when expecting symmetric algorithm with secret"
    it('answers an asymmetric token for a secret issuer 401 algorithm_not_allowed', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const token = await new SignJWT({ iss: 'https://b.example/', aud: AUDIENCE, exp: at(60) }).setProtectedHeader({ alg: 'RS256' }).sign(keys.rs.privateKey);
      const answer = await call(url, bearer(token));
      expect([answer.status, answer.body.code]).toEqual([401, 'algorithm_not_allowed']);
    });

    // access-token-jwt: "should throw InvalidTokenError (not raw SyntaxError) for malformed JWT header"
    it('answers a header that is not JSON 401 malformed_token', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const answer = await call(url, bearer(`${Buffer.from('{not json').toString('base64url')}.e30.c2ln`));
      expect([answer.status, answer.body.code]).toEqual([401, 'malformed_token']);
    });

    // access-token-jwt: "should reject token with missing alg header"
    it('answers a token without alg 401 invalid_token', async () => {
      const url = await serve(jwtAuth({ issuers: issuers(), audience: AUDIENCE }));
      const answer = await call(url, bearer(rawToken({ typ: 'JWT' }, { iss: 'https://b.example/', aud: AUDIENCE, exp: at(60) }, 'c2ln')));
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe('invalid_token');
    });
  });
});
