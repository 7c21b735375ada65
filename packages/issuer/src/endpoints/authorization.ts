import { AuthError, internals as coreInternals, isStoreUnavailable, type EndpointAnswer, type EndpointRequest, type VerifiedDpopProof } from '@jwtauth/core';
import type { TokenIssuer, TokenPair } from '../issuer/options.js';
import { authFailure, json, missingField } from './answer.js';
import type { ResolvedAuthorization } from './authorization-options.js';
import { isBodyObject, optionalString, requiredString, type BodyObject } from './body.js';
import type { CredentialCheck } from './credentials.js';
import { errorPage, signInPage } from './authorize-page.js';

const { sha256Base64url } = coreInternals;

/** Where the authorization endpoint is, below the mount point. */
export const AUTHORIZE_PATH = '/authorize';

/** The `typ` of the signed authorization request carried by the sign-in form. */
const REQUEST_TYP = 'authz-request+jwt';
/** The `typ` of an authorization code. */
const CODE_TYP = 'authz-code+jwt';
/** How long the sign-in form may be submitted. */
const REQUEST_TTL = 600;
/** RFC 7636 §4.1: a code verifier, and (S256) a challenge: 43 to 128 unreserved characters. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

type Handler<Request> = (request: EndpointRequest<Request>, body: BodyObject) => Promise<EndpointAnswer>;

/** An RFC 6749 §5.2 error of the token endpoint, in the endpoints' JSON shape (`code` repeats the `error`). */
function grantError(error: string, description: string, status = 400): EndpointAnswer {
  return json(status, { error, error_description: description, code: error });
}

/**
 * `POST /token` by its `grant_type` (RFC 6749 §4.1.3, §4.3, §6): none or `password` is the
 * login, `refresh_token` the refresh of `/token/refresh`, `authorization_code` (with the
 * `authorization` option) the code exchange.
 */
export function tokenGrant<Request>(
  request: EndpointRequest<Request>,
  body: BodyObject,
  grants: { login: Handler<Request>; refresh: Handler<Request>; code: Handler<Request> | undefined },
): Promise<EndpointAnswer> {
  const grant = optionalString(body, 'grant_type');
  if (!grant.ok) return Promise.resolve(grant.answer);
  if (grant.value === undefined || grant.value === 'password') return grants.login(request, body);
  if (grant.value === 'refresh_token') return grants.refresh(request, body);
  if (grant.value === 'authorization_code' && grants.code !== undefined) return grants.code(request, body);
  return Promise.resolve(grantError('unsupported_grant_type', 'The grant_type is not supported here'));
}

/** The headers of every HTML answer of the authorization endpoint. */
const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
} as const;

function html(status: number, body: string, headers: Record<string, string> = {}): EndpointAnswer {
  return { status, headers: { ...HTML_HEADERS, ...headers }, body };
}

/** A redirect to the client; `Cache-Control: no-store` as the code must not be cached. */
function redirect(location: string): EndpointAnswer {
  return { status: 302, headers: { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }, body: '' };
}

/** `redirect_uri` with `params` added to its query (keeping the query it has). */
function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/** The validated authorization request, as the sign-in form carries it (signed). */
interface AuthorizationRequest {
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  state?: string;
  scope?: string;
  resource?: string;
}

export interface AuthorizationEndpointOptions<Request> {
  issuer: TokenIssuer;
  authorization: ResolvedAuthorization;
  checkCredentials: (username: string, password: string, address: string | undefined, request: Request) => Promise<CredentialCheck>;
  tokenAnswer: (tokens: TokenPair, inCookie: boolean) => EndpointAnswer;
  /** The request's DPoP proof, verified (with the `dpop` option), or the `400 invalid_dpop_proof` answer. */
  proofKey: (request: EndpointRequest<Request>) => Promise<{ ok: true; value: VerifiedDpopProof | undefined } | { ok: false; answer: EndpointAnswer }>;
  /** Marks a verified proof used, once the request is accepted: `undefined`, or the answer to a replay. */
  spendProof: (proof: VerifiedDpopProof | undefined) => Promise<EndpointAnswer | undefined>;
}

/** Scopes as a list, without duplicates. */
function scopesOf(value: unknown): string[] {
  return typeof value === 'string' ? [...new Set(value.split(' ').filter((scope) => scope !== ''))] : [];
}

/**
 * The authorization endpoint (`GET`/`POST /authorize`, RFC 6749 §4.1, OAuth 2.1, RFC 9207) and
 * the code exchange of `/token`, for the public clients of the `authorization` option.
 */
export function createAuthorizationEndpoint<Request>(options: AuthorizationEndpointOptions<Request>): {
  handle(request: EndpointRequest<Request>): Promise<EndpointAnswer | undefined>;
  exchange: Handler<Request>;
} {
  const { authorization, checkCredentials, tokenAnswer, proofKey, spendProof } = options;
  const { clients, internals, issuer: iss } = authorization;

  /** The client and redirect URI, checked first: when either is wrong nothing is ever redirected (RFC 6749 §4.1.2.1). */
  function clientOf(clientId: string | undefined, redirectUri: string | undefined): { name: string } | string {
    if (clientId === undefined || clientId === '') return 'The request has no client_id.';
    const client = clients.get(clientId);
    if (client === undefined) return 'The client_id is not registered with this server.';
    if (redirectUri === undefined || redirectUri === '') return 'The request has no redirect_uri.';
    if (!client.redirectUris.includes(redirectUri)) return 'The redirect_uri is not registered for this client.';
    return client;
  }

  /**
   * The sign-in form. Its CSP lets the form post here and lets the redirect that answers the post
   * go to the client's registered `redirect_uri`: Chromium and WebKit check `form-action` against
   * that redirect too (w3c/webappsec-csp#8), and would stop the sign-in at the 302 otherwise.
   */
  async function form(status: number, request: string, client: { name: string }, redirectUri: string, message?: string, headers?: Record<string, string>) {
    const csp = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(redirectUri).origin}; frame-ancestors 'none'`;
    const page = signInPage({ clientName: client.name, request, ...(message === undefined ? {} : { message }) });
    return html(status, page, { 'Content-Security-Policy': csp, ...headers });
  }

  async function start(query: string): Promise<EndpointAnswer> {
    const params = new URLSearchParams(query);
    const single = (name: string): string | undefined | null => {
      const values = params.getAll(name);
      return values.length > 1 ? null : values[0];
    };
    const clientId = single('client_id');
    const redirectUri = single('redirect_uri');
    if (clientId === null || redirectUri === null) return html(400, errorPage('client_id and redirect_uri must each be given once.'));
    const client = clientOf(clientId, redirectUri);
    if (typeof client === 'string') return html(400, errorPage(client));
    // From here on, errors go back to the client (RFC 6749 §4.1.2.1), with `iss` (RFC 9207).
    const state = single('state');
    const back = (error: string, description: string) =>
      redirect(withParams(redirectUri!, { error, error_description: description, ...(typeof state === 'string' ? { state } : {}), iss }));
    for (const name of ['state', 'response_type', 'code_challenge', 'code_challenge_method', 'scope', 'resource']) {
      if (single(name) === null) return back('invalid_request', `The ${name} parameter must be given at most once`);
    }
    const responseType = single('response_type');
    if (responseType === undefined) return back('invalid_request', 'response_type is required');
    if (responseType !== 'code') return back('unsupported_response_type', 'Only response_type=code is supported');
    const challenge = single('code_challenge');
    if (challenge === undefined) return back('invalid_request', 'code_challenge is required (PKCE, RFC 7636)');
    if (single('code_challenge_method') !== 'S256') return back('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
    if (!PKCE_VALUE.test(challenge!)) return back('invalid_request', 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]');
    const resource = single('resource');
    if (typeof resource === 'string' && !authorization.resources.has(resource)) return back('invalid_target', 'The resource is not served by this issuer');
    const scope = single('scope');
    const signed: AuthorizationRequest = {
      client_id: clientId!,
      redirect_uri: redirectUri!,
      code_challenge: challenge!,
      ...(typeof state === 'string' ? { state } : {}),
      ...(typeof scope === 'string' && scope !== '' ? { scope } : {}),
      ...(typeof resource === 'string' ? { resource } : {}),
    };
    const token = await internals.signTyped({ ...signed, aud: iss }, REQUEST_TYP, internals.now() + REQUEST_TTL);
    return form(200, token, client, redirectUri!);
  }

  async function signIn(request: EndpointRequest<Request>): Promise<EndpointAnswer> {
    const body = isBodyObject(request.body) ? request.body : {};
    const token = optionalString(body, 'request');
    if (!token.ok || token.value === undefined || token.value === '')
      return html(400, errorPage('The sign-in form is incomplete; start again from the application.'));
    const verified = await internals.verifyTyped(token.value, REQUEST_TYP);
    if (!verified.ok) return html(400, errorPage('The sign-in request has expired or is invalid; start again from the application.'));
    const signed = verified.payload as unknown as AuthorizationRequest;
    const client = clientOf(signed.client_id, signed.redirect_uri);
    if (typeof client === 'string') return html(400, errorPage(client));
    const username = requiredString(body, 'username');
    const password = requiredString(body, 'password');
    if (!username.ok || !password.ok) return form(400, token.value, client, signed.redirect_uri, 'Enter your username and password.');
    const checked = await checkCredentials(username.value, password.value, request.address, request.request);
    if (!checked.ok) {
      if (checked.reason === 'invalid') return form(401, token.value, client, signed.redirect_uri, 'The username or password is incorrect.');
      const message = checked.reason === 'throttled' ? 'Too many sign-in attempts; try again later.' : 'The server is busy; try again shortly.';
      return form(checked.reason === 'throttled' ? 429 : 503, token.value, client, signed.redirect_uri, message, { 'Retry-After': String(checked.retryAfter) });
    }
    const { user } = checked;
    const claims: Record<string, unknown> = { ...(user.claims ?? {}) };
    // The granted scope: the user's own `scope` claim (from verifyCredentials) bounds it; what the
    // client asked for narrows it. A user without a `scope` claim gets no scope, whatever was asked.
    const asked = scopesOf(signed.scope);
    const allowed = Object.hasOwn(claims, 'scope') ? scopesOf(claims.scope) : undefined;
    const granted = allowed === undefined ? undefined : asked.length === 0 ? allowed : asked.filter((scope) => allowed.includes(scope));
    delete claims.scope;
    // `scp` (read as scopes when there is no `scope`) must not carry the user's full set past the narrowing.
    delete claims.scp;
    const code = await internals.signTyped(
      {
        // Never usable as an access token, even by a verifier that does not check `typ`: its
        // audience is the issuer itself, and it has no `sub` or `scope` (the user is `user`).
        aud: iss,
        user: user.subject,
        client_id: signed.client_id,
        redirect_uri: signed.redirect_uri,
        code_challenge: signed.code_challenge,
        ...(granted === undefined ? {} : { granted_scope: granted.join(' ') }),
        ...(signed.resource === undefined ? {} : { resource: signed.resource }),
        user_claims: claims,
      },
      CODE_TYP,
      internals.now() + authorization.codeTtl,
    );
    return redirect(withParams(signed.redirect_uri, { code, ...(signed.state === undefined ? {} : { state: signed.state }), iss }));
  }

  /** `grant_type=authorization_code` at `/token` (RFC 6749 §4.1.3, RFC 7636 §4.6). */
  async function exchange(request: EndpointRequest<Request>, body: BodyObject): Promise<EndpointAnswer> {
    const clientId = requiredString(body, 'client_id');
    if (!clientId.ok) return clientId.answer;
    if (!clients.has(clientId.value)) return grantError('invalid_client', 'The client_id is not registered with this server', 401);
    const code = requiredString(body, 'code');
    if (!code.ok) return code.answer;
    const verifier = requiredString(body, 'code_verifier');
    if (!verifier.ok) return verifier.answer;
    const redirectUri = requiredString(body, 'redirect_uri');
    if (!redirectUri.ok) return redirectUri.answer;
    const resource = optionalString(body, 'resource');
    if (!resource.ok) return resource.answer;
    if (!PKCE_VALUE.test(verifier.value)) return missingField('code_verifier', 'must be 43 to 128 characters of [A-Za-z0-9-._~]');
    const verified = await internals.verifyTyped(code.value, CODE_TYP);
    if (!verified.ok) return grantError('invalid_grant', 'The code is invalid or has expired');
    const payload = verified.payload;
    if (payload.client_id !== clientId.value) return grantError('invalid_grant', 'The code was issued to another client');
    if (payload.redirect_uri !== redirectUri.value) return grantError('invalid_grant', 'The redirect_uri differs from the authorization request');
    // The S256 challenge is base64url(SHA-256(ASCII(verifier))) (RFC 7636 §4.2); the verifier is ASCII, checked above.
    if ((await sha256Base64url(verifier.value)) !== payload.code_challenge)
      return grantError('invalid_grant', 'The code_verifier does not match the code_challenge');
    if (resource.value !== undefined && resource.value !== payload.resource) {
      return grantError('invalid_target', 'The resource differs from the authorization request');
    }
    if (typeof payload.jti !== 'string' || typeof payload.user !== 'string' || typeof payload.exp !== 'number' || payload.aud !== iss) {
      return grantError('invalid_grant', 'The code is invalid or has expired');
    }
    // With `dpop`, a proof binds the tokens to its key (RFC 9449 §5); a bad one is refused before
    // the code is spent, so that the client can retry with a good proof.
    const proof = await proofKey(request);
    if (!proof.ok) return proof.answer;
    let first: boolean;
    try {
      first = await authorization.markUsed(`authz-code:${payload.jti}`, payload.exp);
    } catch (error) {
      if (isStoreUnavailable(error)) return authFailure(new AuthError('store_unavailable', { cause: error }));
      throw error;
    }
    if (!first) return grantError('invalid_grant', 'The code has already been used');
    const replayed = await spendProof(proof.value);
    if (replayed !== undefined) return replayed;
    const claims = typeof payload.user_claims === 'object' && payload.user_claims !== null ? { ...(payload.user_claims as Record<string, unknown>) } : {};
    const scope = typeof payload.granted_scope === 'string' ? payload.granted_scope : undefined;
    if (scope !== undefined) claims.scope = scope;
    const tokens = await internals.issueFor(payload.user, claims, typeof payload.resource === 'string' ? payload.resource : undefined, proof.value?.jkt);
    const answer = tokenAnswer(tokens, false);
    // RFC 6749 §5.1: the granted scope, which may be narrower than the request's.
    if (scope !== undefined && typeof answer.body === 'object') answer.body = { ...answer.body, scope };
    return answer;
  }

  return {
    async handle(request) {
      const method = request.method.toUpperCase();
      if (method === 'GET' || method === 'HEAD') return start(request.query ?? '');
      if (method === 'POST') return signIn(request);
      return undefined;
    },
    exchange,
  };
}
