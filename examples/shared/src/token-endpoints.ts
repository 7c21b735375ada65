import { readCookie, type RevocationStore } from '@jwtauth/core';
import { clearRefreshCookie, createTokenIssuer, refreshCookie, type TokenIssuer, type TokenPair, type VerifierOptions } from '@jwtauth/issuer';
import { NO_STORE, authFailure, failure, json, type Answer } from './answer.js';
import { missingField, optionalString, parseJsonObject, requiredString, type TokenRequest } from './body.js';
import type { Config } from './config.js';
import { checkCredentials } from './users.js';

/** `iss` of every token the examples issue, and `aud`: the API they protect (RFC 9068 §2.2). */
export const ISSUER = 'urn:jwtauth:example';
export const AUDIENCE = 'urn:jwtauth:example:api';
export const REFRESH_COOKIE = 'refresh_token';

export type TokenEndpoint = (request: TokenRequest) => Promise<Answer>;

export interface TokenEndpoints {
  /** `jwtAuth({ ...verifierOptions })` accepts exactly the live access tokens issued here. */
  verifierOptions: VerifierOptions;
  /** The four `POST` routes, by path. */
  routes: ReadonlyMap<string, TokenEndpoint>;
}

function withNoStore(answer: Answer): Answer {
  return { ...answer, headers: { ...answer.headers, ...NO_STORE } };
}

/**
 * The login, refresh, verify and revoke endpoints of examples/README.md, over one token issuer
 * that keeps revocations and rotation state in `store` (`openStore()`: Redis or memory).
 */
export function createTokenEndpoints(config: Config, store: RevocationStore): TokenEndpoints {
  const issuer: TokenIssuer = createTokenIssuer({
    key: config.secret,
    issuer: ISSUER,
    audience: AUDIENCE,
    accessTokenTtl: config.accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl,
    reuseInterval: config.reuseInterval,
    store,
  });

  /** The token response; in cookie mode the refresh token travels in the cookie only. */
  function tokenAnswer(tokens: TokenPair, inCookie: boolean): Answer {
    const access = { access_token: tokens.accessToken, token_type: tokens.tokenType, expires_in: tokens.expiresIn };
    if (!inCookie) {
      return json(200, { ...access, refresh_token: tokens.refreshToken, refresh_expires_in: tokens.refreshExpiresIn });
    }
    return json(200, access, { 'Set-Cookie': refreshCookie(tokens.refreshToken, { name: REFRESH_COOKIE, maxAge: tokens.refreshExpiresIn }) });
  }

  /** The token named in the body's `field`, else the refresh cookie. */
  function tokenOf(request: TokenRequest, body: Record<string, unknown>, field: string) {
    const named = optionalString(body, field);
    if (!named.ok) return named;
    if (named.value !== undefined) return { ok: true as const, value: { token: named.value, fromCookie: false } };
    const cookie = readCookie({ headers: { cookie: request.cookie } }, REFRESH_COOKIE);
    if (cookie === undefined) return { ok: false as const, answer: missingField(field, 'is required (or the refresh cookie) and must be a string') };
    return { ok: true as const, value: { token: cookie, fromCookie: true } };
  }

  async function login(request: TokenRequest): Promise<Answer> {
    const body = parseJsonObject(request);
    if (!body.ok) return body.answer;
    const username = requiredString(body.value, 'username');
    if (!username.ok) return username.answer;
    const password = requiredString(body.value, 'password');
    if (!password.ok) return password.answer;
    const refreshIn = optionalString(body.value, 'refresh_in');
    if (!refreshIn.ok) return refreshIn.answer;
    if (refreshIn.value !== undefined && refreshIn.value !== 'body' && refreshIn.value !== 'cookie') {
      return missingField('refresh_in', 'must be "body" or "cookie"');
    }
    const user = await checkCredentials(username.value, password.value);
    if (user === undefined) return failure('invalid_credentials', 'The username or password is incorrect');
    return tokenAnswer(await issuer.issue(user.username, { scope: user.scope }), refreshIn.value === 'cookie');
  }

  async function refresh(request: TokenRequest): Promise<Answer> {
    const body = parseJsonObject(request);
    if (!body.ok) return body.answer;
    const source = tokenOf(request, body.value, 'refresh_token');
    if (!source.ok) return source.answer;
    const result = await issuer.refresh(source.value.token);
    return result.ok ? tokenAnswer(result.tokens, source.value.fromCookie) : authFailure(result.error);
  }

  async function verify(request: TokenRequest): Promise<Answer> {
    const body = parseJsonObject(request);
    if (!body.ok) return body.answer;
    const token = requiredString(body.value, 'token');
    if (!token.ok) return token.answer;
    const result = await issuer.verify(token.value);
    if (!result.ok) return authFailure(result.error);
    return json(200, { valid: true, token_type: result.tokenType, sub: result.payload.sub, exp: result.payload.exp });
  }

  async function revoke(request: TokenRequest): Promise<Answer> {
    const body = parseJsonObject(request);
    if (!body.ok) return body.answer;
    const source = tokenOf(request, body.value, 'token');
    if (!source.ok) return source.answer;
    // Success whatever the token was (RFC 7009 §2.2); either token of a session ends it. Only a
    // store that cannot record the revocation fails it: 503, never a success that did nothing.
    const result = await issuer.revoke(source.value.token);
    if (!result.ok) return authFailure(result.error);
    const answer = json(200, { revoked: true });
    // Logging out with the cookie ends with the cookie gone, whether or not it was still valid.
    if (!source.value.fromCookie) return answer;
    return { ...answer, headers: { ...answer.headers, 'Set-Cookie': clearRefreshCookie({ name: REFRESH_COOKIE }) } };
  }

  const routes = new Map<string, TokenEndpoint>([
    ['/api/token', login],
    ['/api/token/refresh', refresh],
    ['/api/token/verify', verify],
    ['/api/token/revoke', revoke],
  ]);
  for (const [path, endpoint] of routes) routes.set(path, async (request) => withNoStore(await endpoint(request)));
  return { verifierOptions: issuer.verifierOptions, routes };
}
