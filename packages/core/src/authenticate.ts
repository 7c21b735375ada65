import type { JWTPayload } from 'jose';
import { attachSettings, authInfoMaker, type AuthInfo } from './auth-info.js';
import { resolveConfig } from './config.js';
import { AuthError, type AuthErrorCode, type AuthErrorDetails } from './errors.js';
import type { JwtAuthOptions } from './options.js';
import type { RequestLike } from './http/request.js';
import { isStoreUnavailable } from './revocation-store.js';
import { toErrorResponse, type AuthErrorResponse } from './http/response.js';
import { asError } from './thrown.js';
import { parseScopes } from './scopes.js';
import { findToken } from './http/token-source.js';
import { authFailed, claimedBy, type Claimed } from './events.js';
import { withoutStack } from './without-stack.js';
import { verifyToken, type VerifiedToken } from './jwt/verify.js';
import { headerValues } from './http/request.js';
import { verifyDpopProof, type VerifiedDpopProof } from './dpop/proof.js';
import { requestUrl } from './dpop/request-url.js';

/** The outcome of authenticating one request. Failures are values, never thrown. */
export type AuthResult<Payload extends JWTPayload = JWTPayload, User = Payload> =
  /** The token was verified. */
  | {
      /** The request goes on. */
      ok: true;
      /** The verified token. */
      auth: AuthInfo<Payload>;
      /** What `resolveUser` returned for the token; the payload when it is not set. */
      user: User;
      /** Never set on success. */
      error?: undefined;
    }
  /**
   * The request goes on unauthenticated: it matched `unless`, or it sent no token and none is
   * required, or (with `passthrough`) it failed, and `error` says why.
   */
  | {
      /** The request goes on. */
      ok: true;
      /** No verified token. */
      auth: undefined;
      /** No user. */
      user: undefined;
      /** Why authentication failed, when `passthrough` let the request through. */
      error?: AuthError;
    }
  /** The request is refused. */
  | {
      /** The request does not go on. */
      ok: false;
      /** Why, and what to answer. */
      error: AuthError;
    };

/** The framework-neutral engine every adapter wraps. */
export interface Authenticator<Payload extends JWTPayload = JWTPayload, User = Payload, Request = unknown> {
  /**
   * Authenticates a request. `input` is the request as core reads it (a Node `IncomingMessage` or
   * a Fetch `Request`); `request` is the framework's own object, handed to `getToken`,
   * `resolveUser`, and `secret` and `issuers` functions. Rejects only when one of your hooks throws.
   */
  authenticate(input: RequestLike, request: Request): Promise<AuthResult<Payload, User>>;
  /** Whether failures go down the framework's error path instead of being answered. */
  readonly forwardErrors: boolean;
  /** The status, headers and body to answer a failure with. */
  respond(error: AuthError, method?: string): AuthErrorResponse;
}

const ANONYMOUS = { ok: true, auth: undefined, user: undefined } as const;

/** The key a token is bound to (RFC 7800 `cnf`, RFC 9449 §6 `jkt`), if any. */
function boundKey(payload: JWTPayload): string | undefined {
  const { cnf } = payload as { cnf?: unknown };
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const { jkt } = cnf as { jkt?: unknown };
  // A `jkt` that is not a string still binds the token: no proof can match it.
  return jkt === undefined ? undefined : typeof jkt === 'string' ? jkt : '';
}

const LOOKUP_REASONS = {
  malformed_header: 'the Authorization header is not "Bearer <token>"',
  multiple_tokens: 'more than one token was sent',
  malformed_token: 'the cookie or query value is not a token',
} as const;

/**
 * Creates an authenticator. Every option is checked here, so a mistake throws a `TypeError` at
 * start-up rather than on the first request.
 */
export function createAuthenticator<Payload extends JWTPayload = JWTPayload, User = Payload, Request = unknown>(
  options: JwtAuthOptions<Payload, User, Request>,
): Authenticator<Payload, User, Request> {
  const config = resolveConfig(options);
  const { emit, messages } = config;
  const resourceMetadata = config.protectedResource?.metadataUrl;
  const { dpop } = config;
  const dpopSettings = dpop && { algorithms: dpop.algorithms, bearer: !dpop.required };
  const settings = { realm: config.realm, resourceMetadata, forwardErrors: config.forwardErrors, emit, messages, dpop: dpopSettings };
  const makeAuthInfo = authInfoMaker(settings);

  /**
   * An error with this code; `messages` replaces its description. `scheme` is the one the
   * request used (its challenge carries the error), `nonce` a fresh DPoP nonce.
   */
  // Without a stack trace: a refused request is an answer, not a bug (see withoutStack).
  const makeError = (code: AuthErrorCode, details: AuthErrorDetails = {}, scheme: 'Bearer' | 'DPoP' = 'Bearer', nonce?: string) =>
    withoutStack(
      () =>
        new AuthError(code, {
          realm: config.realm,
          resourceMetadata,
          description: messages[code] ?? details.description,
          scopes: details.scopes,
          cause: details.cause,
          dpop: dpopSettings && { ...dpopSettings, scheme, nonce },
        }),
    );
  /** A failed result; the event hook hears why. */
  function refuse(error: AuthError, reason: string, claimed?: Claimed) {
    emit?.(authFailed(error.code, error.status, reason, claimed));
    return { ok: false, error } as const;
  }
  const failure = (code: AuthErrorCode, reason: string, description?: string, verified?: VerifiedToken<Payload>, scheme?: 'Bearer' | 'DPoP') =>
    refuse(makeError(code, { description }, scheme), reason, verified && claimedBy(verified));

  async function tokenOf(input: RequestLike, request: Request) {
    if (config.getToken === undefined) return findToken(input, config.tokenFrom, dpop !== undefined);
    const token = await config.getToken(request);
    if (token === undefined || token === null || token === '') return { kind: 'none' } as const;
    if (typeof token !== 'string') throw new TypeError('jwtAuth: "getToken" must return a string or undefined.');
    return { kind: 'token', token, scheme: 'Bearer' } as const;
  }

  /**
   * RFC 9449 §4.3 and §7.1: the one `DPoP` header, a valid proof of this request and of the token,
   * carrying a recent server nonce when nonces are on. Replay is checked once the token is known
   * good (a store write per forged token would be a cheap flood).
   */
  async function checkProof(
    input: RequestLike,
    token: string,
  ): Promise<{ ok: true; proof: VerifiedDpopProof } | { ok: false; error: AuthError; reason: string }> {
    const lines = headerValues(input, 'dpop');
    // A compact JWS has no comma: one means a Fetch `Headers` joined several lines.
    if (lines.length !== 1 || lines[0]!.includes(',')) {
      const reason = lines.length === 0 ? 'the DPoP header is missing' : 'more than one DPoP header was sent';
      return { ok: false, error: makeError('invalid_dpop_proof', {}, 'DPoP'), reason };
    }
    const now = Math.floor(config.currentDate().getTime() / 1000);
    const url = requestUrl(input, dpop!.origin);
    const proof = await verifyDpopProof(
      lines[0]!.trim(),
      { method: input.method ?? 'GET', url, accessToken: token },
      { algorithms: dpop!.algorithms, iatWindow: dpop!.iatWindow, now },
    );
    if (!proof.ok) return { ok: false, error: makeError('invalid_dpop_proof', {}, 'DPoP'), reason: proof.reason };
    if (dpop!.nonces !== undefined && (proof.nonce === undefined || !(await dpop!.nonces.isValid(proof.nonce, now)))) {
      const fresh = await dpop!.nonces.current(now);
      const reason = proof.nonce === undefined ? 'the DPoP proof carries no nonce' : 'the DPoP proof nonce is not a current one';
      return { ok: false, error: makeError('use_dpop_nonce', {}, 'DPoP', fresh), reason };
    }
    return { ok: true, proof };
  }

  async function authenticate(input: RequestLike, request: Request): Promise<AuthResult<Payload, User>> {
    if (config.unless !== undefined && (await config.unless(input, request))) return ANONYMOUS;
    const result = await verifyRequest(input, request);
    // passthrough: onEvent has heard of the failure; the request goes on without auth, carrying why.
    if (!result.ok && config.passthrough) {
      // Guards refusing such a request answer with this error (its realm, messages, forwardErrors).
      attachSettings(result.error, settings);
      return { ok: true, auth: undefined, user: undefined, error: result.error };
    }
    return result;
  }

  async function verifyRequest(input: RequestLike, request: Request): Promise<AuthResult<Payload, User>> {
    const found = await tokenOf(input, request);
    if (found.kind === 'none') return config.credentialsRequired ? failure('missing_token', 'no token was sent') : ANONYMOUS;
    if (found.kind !== 'token') return failure(found.kind, 'reason' in found ? found.reason : LOOKUP_REASONS[found.kind]);
    const { scheme } = found;
    if (dpop?.required && scheme === 'Bearer') return failure('dpop_required', 'a Bearer token was sent where DPoP is required');
    let proof: VerifiedDpopProof | undefined;
    if (scheme === 'DPoP') {
      const checked = await checkProof(input, found.token);
      if (!checked.ok) return refuse(checked.error, checked.reason);
      proof = checked.proof;
    }

    // Signature and claim checks (reusing a recent verification, see TokenCache); the request goes
    // to a `secret` or `issuers` function.
    const verified = await verifyToken<Payload>(found.token, config, request);
    if (!verified.ok) {
      const refused = makeError(verified.code, { description: verified.description, cause: verified.cause }, scheme);
      return refuse(refused, verified.reason ?? verified.code, verified.claimed);
    }
    const { header, payload } = verified;
    if (payload.token_type === 'refresh') return failure('wrong_token_type', 'token_type is "refresh"', undefined, verified, scheme);
    // RFC 9449 §7.2 / RFC 7800: a token bound to a key is no bearer token, whatever this server's mode.
    const jkt = boundKey(payload);
    if (proof === undefined && jkt !== undefined) return failure('token_bound', 'a DPoP-bound token (cnf.jkt) was sent as Bearer', undefined, verified);
    if (proof !== undefined) {
      if (jkt !== proof.jkt) {
        const reason = jkt === undefined ? 'the token has no cnf.jkt' : 'the DPoP proof key is not the cnf.jkt of the token';
        return failure('dpop_binding_mismatch', reason, undefined, verified, scheme);
      }
      let firstUse: boolean;
      try {
        firstUse = await dpop!.replayStore.markUsed(`dpop:${proof.jkt}:${proof.jti}`, proof.iat + dpop!.iatWindow + 1);
      } catch (thrown) {
        if (!isStoreUnavailable(thrown)) throw thrown;
        const unavailable = makeError('store_unavailable', { cause: thrown }, scheme);
        return refuse(unavailable, `the DPoP replay store cannot answer: ${thrown.message}`, claimedBy(verified));
      }
      if (!firstUse) return failure('invalid_dpop_proof', 'the DPoP proof jti was used before', undefined, verified, scheme);
    }
    const scopes = parseScopes(payload, config.scopeClaims);
    if (scopes === undefined) {
      const claim = config.scopeClaims.find((name) => Object.hasOwn(payload, name));
      return failure('claim_invalid', `the ${claim} claim is neither a string nor an array of strings`, 'The scope claim is invalid', verified, scheme);
    }
    // Any truthy answer (a revocation record, 1) counts as revoked: fail closed.
    if (config.isRevoked !== undefined) {
      let revoked: boolean;
      try {
        revoked = Boolean(await config.isRevoked(payload, header));
      } catch (thrown) {
        // The revocation store cannot answer: never let the token through, never a 500.
        if (!isStoreUnavailable(thrown)) throw thrown;
        const unavailable = makeError('store_unavailable', { cause: thrown }, scheme);
        return refuse(unavailable, `the revocation store cannot answer: ${thrown.message}`, claimedBy(verified));
      }
      if (revoked) return failure('token_revoked', 'isRevoked returned true', undefined, verified, scheme);
    }
    let user = payload as unknown as User;
    if (config.resolveUser !== undefined) {
      const resolved = await config.resolveUser(payload, request);
      if (resolved === null || resolved === undefined || resolved === false) {
        return failure('user_not_found', 'resolveUser found no user', undefined, verified, scheme);
      }
      user = resolved;
    }
    const auth = makeAuthInfo<Payload>(found.token, header, payload, scopes, proof?.jkt);
    return { ok: true, auth, user };
  }

  return {
    forwardErrors: config.forwardErrors,
    respond: toErrorResponse,
    authenticate: (input, request) =>
      authenticate(input, request).catch((thrown: unknown) => {
        throw asError(thrown);
      }),
  };
}
