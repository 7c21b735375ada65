import { AuthError, isStoreUnavailable, readCookie, verifyDpopProof } from '@jwtauth/core';
import { clearRefreshCookie, refreshCookie } from '../issuer/cookies.js';
import type { TokenPair } from '../issuer/options.js';
import { authFailure, failure, json, missingField } from './answer.js';
import type { EndpointAnswer, EndpointRequest, TokenEndpoints, VerifiedDpopProof } from '@jwtauth/core';
import { isBodyObject, isJson, optionalString, requiredString, type BodyObject, type Parsed } from './body.js';
import { resolveOptions, type IssuerMetadata, type TokenEndpointsOptions } from './options.js';
import { JWKS_PATH, jwksAnswer, metadataAnswer, publishesKeys } from './publish.js';
import { Semaphore } from './semaphore.js';
import { claimedTokenType } from './token-type.js';
import { credentialChecker } from './credentials.js';
import { AUTHORIZE_PATH, createAuthorizationEndpoint, tokenGrant } from './authorization.js';

/** "the DPoP proof …" as a sentence, as the other descriptions of the endpoints are written. */
const sentence = (reason: string) => reason.charAt(0).toUpperCase() + reason.slice(1);

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
  const { issuer, verifyCredentials, cookie, throttle, concurrency, queue, metadata, publicBase, dpop, authorization } = resolveOptions(options);
  // Proof jti's are remembered in the issuer's store (RFC 9449 §11.1): a store that cannot would
  // accept a replayed proof, so it is refused here rather than found out in production.
  const replayMarks = dpop === undefined ? undefined : issuer.store;
  if (replayMarks !== undefined && typeof replayMarks.markUsed !== 'function') {
    throw new TypeError(
      'createTokenEndpoints: "dpop" needs an issuer store with markUsed(key, expiresAt), as MemoryRevocationStore and @jwtauth/redis\'s store have, to refuse replayed proofs.',
    );
  }
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

  /**
   * The URL a proof's `htu` must name: `dpop.origin` with the request's path, else `publicUrl`
   * with the path below the mount, else the URL the adapter gives.
   */
  function proofTarget(request: EndpointRequest<Request>): string {
    if (dpop!.origin !== undefined) {
      let pathname: string | undefined;
      try {
        pathname = request.url === undefined ? undefined : new URL(request.url).pathname;
      } catch {
        pathname = undefined;
      }
      // Without the adapter's URL, only the path below the mount is known: right for a mount at the root.
      return `${dpop!.origin}${pathname ?? request.path}`;
    }
    if (publicBase !== undefined) return `${publicBase}${request.path}`;
    if (typeof request.url === 'string') return request.url;
    throw new TypeError(
      'createTokenEndpoints: a DPoP proof needs the URL the client used, which this adapter does not give: set "dpop.origin" ("https://auth.example") or "publicUrl".',
    );
  }

  /**
   * The key of the request's DPoP proof (RFC 9449 §4.3, §5), verified: its `jkt`, `undefined`
   * when no proof was sent (and none is required), or the `400 invalid_dpop_proof` answer. Its
   * `jti` is not remembered yet: {@link spendProof} does that once the request is otherwise
   * accepted, so that proofs made up by anyone cannot fill the issuer's store.
   */
  async function proofKey(request: EndpointRequest<Request>): Promise<Parsed<VerifiedDpopProof | undefined>> {
    if (dpop === undefined) return { ok: true, value: undefined };
    const lines = Array.isArray(request.dpop) ? (request.dpop as readonly unknown[]) : [];
    const refuse = (description: string): Parsed<never> => ({ ok: false, answer: failure('invalid_dpop_proof', description) });
    if (lines.length === 0) return dpop.required ? refuse('A DPoP proof is required') : { ok: true, value: undefined };
    // A proof is a compact JWS, which has no comma: a comma is a Fetch request's join of several headers.
    const proof = lines[0];
    if (lines.length > 1 || typeof proof !== 'string' || proof.includes(',')) return refuse('Send exactly one DPoP header');
    const now = Math.floor(Date.now() / 1000);
    const verified = await verifyDpopProof(
      proof.trim(),
      { method: 'POST', url: proofTarget(request) },
      { algorithms: dpop.algorithms, iatWindow: dpop.iatWindow, now },
    );
    if (!verified.ok) return refuse(sentence(verified.reason));
    return { ok: true, value: verified };
  }

  /**
   * Marks a verified proof's `jti` used in the issuer's store (RFC 9449 §11.1), for as long as its
   * `iat` is accepted: `undefined` on its first use, else the answer (a replay, or the store down).
   */
  async function spendProof(proof: VerifiedDpopProof | undefined): Promise<EndpointAnswer | undefined> {
    if (proof === undefined) return undefined;
    let firstUse: boolean;
    try {
      firstUse = await replayMarks!.markUsed!(`dpop:${proof.jkt}:${proof.jti}`, proof.iat + dpop!.iatWindow + 1);
    } catch (error) {
      if (isStoreUnavailable(error)) return authFailure(new AuthError('store_unavailable', { cause: error }));
      throw error;
    }
    return firstUse ? undefined : failure('invalid_dpop_proof', 'The DPoP proof jti was used before');
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
    // A bad proof is refused before the throttle counts an attempt or the password is hashed.
    const proof = await proofKey(request);
    if (!proof.ok) return proof.answer;

    // Cheap refusals first: the throttle, then the bounded queue, and only then the password hash.
    const checked = await checkCredentials(username.value, password.value, request.address, request.request);
    if (!checked.ok) return checked.answer;
    const replayed = await spendProof(proof.value);
    if (replayed !== undefined) return replayed;
    const { subject, claims = {} } = checked.user;
    const jkt = proof.value?.jkt;
    const tokens = jkt === undefined ? await issuer.issue(subject, claims) : await issuer.issue(subject, claims, { confirmation: { jkt } });
    return tokenAnswer(tokens, inCookie);
  }

  async function refresh(request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const source = tokenOf(request, body, 'refresh_token');
    if (!source.ok) return source.answer;
    const proof = await proofKey(request);
    if (!proof.ok) return proof.answer;
    const { token } = source.value;
    const jkt = proof.value?.jkt;
    const result = jkt === undefined ? await issuer.refresh(token) : await issuer.refresh(token, { confirmation: { jkt } });
    if (result.ok) {
      // Spent once the refresh token was good: a replayed proof then loses the new tokens, and
      // the session has moved on, which its holder's next refresh reports as a replay.
      const replayed = await spendProof(proof.value);
      return replayed ?? tokenAnswer(result.tokens, source.value.fromCookie);
    }
    // A refresh token bound to a key, without a proof of that key: a token endpoint's 400 (RFC 9449 §5).
    if (result.error.code === 'dpop_binding_mismatch') return failure('invalid_dpop_proof', result.error.description);
    return authFailure(result.error);
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
    // A DPoP-bound token says so (`cnf`): whoever asks must want a proof of that key (RFC 9449 §6).
    const { cnf } = result.payload as { cnf?: { jkt?: string } };
    const bound = typeof cnf?.jkt === 'string' ? { cnf: { jkt: cnf.jkt } } : {};
    return json(200, { valid: true, token_type: result.tokenType, sub: result.payload.sub, exp: result.payload.exp, ...bound });
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
  const authorize = authorization && createAuthorizationEndpoint({ issuer, authorization, checkCredentials, tokenAnswer, proofKey, spendProof });
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
