import { AuthError, readCookie } from '@jwtauth/core';
import { clearRefreshCookie, refreshCookie } from '../issuer/cookies.js';
import type { TokenPair } from '../issuer/options.js';
import { authFailure, failure, json, missingField } from './answer.js';
import type { EndpointAnswer, EndpointRequest, TokenEndpoints } from '@jwtauth/core';
import { isBodyObject, isJson, optionalString, requiredString, type BodyObject, type Parsed } from './body.js';
import { resolveOptions, type IssuerMetadata, type TokenEndpointsOptions } from './options.js';
import { JWKS_PATH, jwksAnswer, metadataAnswer, publishesKeys } from './publish.js';
import { Semaphore } from './semaphore.js';
import { claimedTokenType } from './token-type.js';
import { credentialChecker } from './credentials.js';
import { AUTHORIZE_PATH, createAuthorizationEndpoint, tokenGrant } from './authorization.js';

const WRONG_TYPE_AT_VERIFY = 'Only access tokens are verified here; a refresh token is only ever sent to the refresh endpoint';

/**
 * Login, refresh, verify and revoke over a token issuer, for any framework: it parses the body,
 * the framework sends the answer. An issuer that signs with a private key also publishes its JWK
 * Set (`GET /.well-known/jwks.json`), and with `publicUrl` its RFC 8414 metadata
 * (`metadataPath`, `metadata()`). Options are checked here; a mistake throws a `TypeError`.
 */
export function createTokenEndpoints<Request = unknown>(
  options: TokenEndpointsOptions<Request> & { publicUrl: string },
): TokenEndpoints<Request> & IssuerMetadata;
export function createTokenEndpoints<Request = unknown>(options: TokenEndpointsOptions<Request>): TokenEndpoints<Request>;
export function createTokenEndpoints<Request = unknown>(
  options: TokenEndpointsOptions<Request>,
): TokenEndpoints<Request> | (TokenEndpoints<Request> & IssuerMetadata) {
  const { issuer, verifyCredentials, cookie, throttle, concurrency, queue, metadata, authorization } = resolveOptions(options);
  const publishing = publishesKeys(issuer);
  const hashing = new Semaphore(concurrency, queue);
  const checkCredentials = credentialChecker(verifyCredentials, throttle, hashing);

  /** The token response (RFC 6749 §5.1); in cookie mode the refresh token travels in the cookie only. */
  function tokenAnswer(tokens: TokenPair, inCookie: boolean): EndpointAnswer {
    const access = { access_token: tokens.accessToken, token_type: tokens.tokenType, expires_in: tokens.expiresIn };
    if (!inCookie || cookie === undefined) {
      return json(200, { ...access, refresh_token: tokens.refreshToken, refresh_expires_in: tokens.refreshExpiresIn });
    }
    return json(200, access, { 'Set-Cookie': refreshCookie(tokens.refreshToken, { ...cookie, maxAge: tokens.refreshExpiresIn }) });
  }

  /** The token named in the body's `field`, else (cookie mode, JSON requests only) the refresh cookie. */
  function tokenOf(request: EndpointRequest<Request>, body: BodyObject, field: string): Parsed<{ token: string; fromCookie: boolean }> {
    const named = optionalString(body, field);
    if (!named.ok) return named;
    if (named.value !== undefined && named.value !== '') return { ok: true, value: { token: named.value, fromCookie: false } };
    const fromCookie = cookie === undefined ? undefined : readCookie({ headers: { cookie: request.cookie } }, cookie.name ?? 'refresh_token');
    if (fromCookie === undefined) {
      return {
        ok: false,
        answer: missingField(field, cookie === undefined ? 'is required and must be a string' : 'is required (or the refresh cookie) and must be a string'),
      };
    }
    if (!isJson(request.contentType)) return { ok: false, answer: cookieNeedsJson() };
    return { ok: true, value: { token: fromCookie, fromCookie: true } };
  }

  async function login(request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const username = requiredString(body, 'username');
    if (!username.ok) return username.answer;
    const password = requiredString(body, 'password');
    if (!password.ok) return password.answer;
    const refreshIn = optionalString(body, 'refresh_in');
    if (!refreshIn.ok) return refreshIn.answer;
    const inCookie = refreshIn.value === 'cookie';
    if (refreshIn.value !== undefined && refreshIn.value !== 'body' && !(inCookie && cookie !== undefined)) {
      return missingField('refresh_in', cookie === undefined ? 'must be "body" (cookie mode is off)' : 'must be "body" or "cookie"');
    }
    if (inCookie && !isJson(request.contentType)) return cookieNeedsJson();

    // Cheap refusals first: the throttle, then the bounded queue, and only then the password hash.
    const checked = await checkCredentials(username.value, password.value, request.address, request.request);
    if (!checked.ok) return checked.answer;
    const user = checked.user;
    return tokenAnswer(await issuer.issue(user.subject, user.claims ?? {}), inCookie);
  }

  async function refresh(request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const source = tokenOf(request, body, 'refresh_token');
    if (!source.ok) return source.answer;
    const result = await issuer.refresh(source.value.token);
    return result.ok ? tokenAnswer(result.tokens, source.value.fromCookie) : authFailure(result.error);
  }

  /**
   * Verifies access tokens only. A refresh token is refused from what it claims to be, before its
   * signature or revocation is looked at: otherwise a thief could ask here, without using it (and
   * without the rotation noticing), whether a stolen refresh token still works.
   */
  async function verify(_request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const token = requiredString(body, 'token');
    if (!token.ok) return token.answer;
    if (claimedTokenType(token.value) === 'refresh') return authFailure(new AuthError('wrong_token_type', { description: WRONG_TYPE_AT_VERIFY }));
    const result = await issuer.verify(token.value);
    if (!result.ok) return authFailure(result.error);
    if (result.tokenType !== 'access') return authFailure(new AuthError('wrong_token_type', { description: WRONG_TYPE_AT_VERIFY }));
    return json(200, { valid: true, token_type: result.tokenType, sub: result.payload.sub, exp: result.payload.exp });
  }

  async function revoke(request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const source = tokenOf(request, body, 'token');
    if (!source.ok) return source.answer;
    // Success whatever the token was (RFC 7009 §2.2); either token of a session ends it. Only a
    // store that cannot record the revocation fails it: 503, never a success that did nothing.
    const result = await issuer.revoke(source.value.token);
    if (!result.ok) return authFailure(result.error);
    // Logging out with the cookie ends with the cookie gone, whether or not it was still valid.
    const headers: Record<string, string> = source.value.fromCookie && cookie !== undefined ? { 'Set-Cookie': clearRefreshCookie(cookie) } : {};
    return json(200, { revoked: true }, headers);
  }

  // The authorization code grant (with `authorization`): GET/POST /authorize, and its grant at /token.
  const authorize = authorization && createAuthorizationEndpoint({ issuer, authorization, checkCredentials, tokenAnswer });
  const routes = new Map([
    ['/token', (request: EndpointRequest<Request>, body: BodyObject) => tokenGrant(request, body, { login, refresh, code: authorize?.exchange })],
    ['/token/refresh', refresh],
    ['/token/verify', verify],
    ['/token/revoke', revoke],
  ]);

  /** The public documents, for GET (and HEAD, whose body the framework leaves out); the body is never read. */
  function document(path: string): Promise<EndpointAnswer> | undefined {
    if (publishing && path === JWKS_PATH) return jwksAnswer(issuer);
    if (metadata?.mountPath !== undefined && path === metadata.mountPath) return Promise.resolve(metadataAnswer(metadata));
    return undefined;
  }

  const endpoints: TokenEndpoints<Request> = {
    async handle(request) {
      if (typeof request !== 'object' || request === null || typeof request.method !== 'string' || typeof request.path !== 'string') return undefined;
      const method = request.method.toUpperCase();
      if (authorize !== undefined && request.path === AUTHORIZE_PATH) return authorize.handle(request);
      if (method === 'GET' || method === 'HEAD') return document(request.path);
      const endpoint = routes.get(request.path);
      if (endpoint === undefined || method !== 'POST') return undefined;
      if (!isBodyObject(request.body)) return failure('invalid_json', 'The request body must be a JSON object or a urlencoded form');
      return endpoint(request, request.body);
    },
  };
  if (metadata === undefined) return endpoints;
  return { ...endpoints, metadataPath: metadata.path, metadata: () => metadataAnswer(metadata) };
}

/** 400 for cookie mode over a request that is not JSON (see {@link EndpointRequest.contentType}). */
function cookieNeedsJson(): EndpointAnswer {
  return failure('invalid_json', 'The refresh cookie is only used with a JSON request body (Content-Type: application/json)');
}
