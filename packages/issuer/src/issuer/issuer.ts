import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { AuthError, internals, isStoreUnavailable, MemoryRevocationStore, type Duration, type RotateResult } from '@jwtauth/core';
import type {
  IssueOptions,
  IssuedTokenInfo,
  IssuedTokenResult,
  RefreshOptions,
  RefreshResult,
  RevokeResult,
  TokenConfirmation,
  TokenIssuer,
  TokenIssuerOptions,
  TokenPair,
  VerifierOptions,
} from './options.js';
import { createKeyRing } from './key-ring.js';
import { registerInternals } from './internal.js';
import { audienceOf, typedVerifier } from './audience.js';

const { markRevocationGrace, resolveConfig, toSeconds, verifyError, verifyToken } = internals;

/**
 * Seconds a revocation outlives the token it names by default, so that a verifier's
 * `clockTolerance` (up to five minutes) cannot make a revoked token acceptable again after its `exp`.
 */
const DEFAULT_REVOCATION_GRACE = 300;

/** Default `reuseInterval`: long enough for two tabs or a retried request, short enough to catch a replay. */
const DEFAULT_REUSE_INTERVAL = 10;

/** Claims the issuer sets itself; `issue()` refuses them in `claims`. */
const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'token_type', 'gen', 'auth_time', 'cnf', 'rsc'];

/** An RFC 7638 SHA-256 JWK thumbprint, base64url without padding: 43 characters. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

function fail(message: string): never {
  throw new TypeError(`createTokenIssuer: ${message}`);
}

function lifetime(name: string, value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = toSeconds(value);
  if (seconds === undefined || seconds <= 0) fail(`"${name}" must be a positive duration such as "15m".`);
  return seconds;
}

/** The `jkt` of a `confirmation` option, checked; `undefined` when there is none. */
function confirmedKey(method: string, options: IssueOptions | RefreshOptions | undefined): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) fail(`${method}(): the options must be an object such as { confirmation: { jkt } }.`);
  const confirmation: TokenConfirmation | undefined = options.confirmation;
  if (confirmation === undefined) return undefined;
  if (typeof confirmation !== 'object' || confirmation === null || typeof confirmation.jkt !== 'string' || !JKT.test(confirmation.jkt)) {
    fail(`${method}(): "confirmation.jkt" must be the RFC 7638 SHA-256 thumbprint of the DPoP key (43 base64url characters), as verifyDpopProof() gives it.`);
  }
  return confirmation.jkt;
}

/** The key a token is bound to: its `cnf.jkt`, `undefined` for an unbound token, `false` for a `cnf` that is not one. */
function boundKey(payload: JWTPayload): string | undefined | false {
  const { cnf } = payload;
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || typeof (cnf as { jkt?: unknown }).jkt !== 'string') return false;
  return (cnf as { jkt: string }).jkt;
}

function interval(name: string, value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = toSeconds(value);
  if (seconds === undefined) fail(`"${name}" must be a duration such as "10s" (0 turns it off).`);
  return seconds;
}

/** The store could not answer: the contract's 503, never a thrown error or a 500. */
function storeUnavailable(error: unknown): { ok: false; error: AuthError } {
  return { ok: false, error: new AuthError('store_unavailable', { cause: error }) };
}

/** Runs `work`, turning the store's {@link StoreUnavailable} into the contract's 503 result. */
async function orUnavailable<T>(work: () => Promise<T>): Promise<T | { ok: false; error: AuthError }> {
  try {
    return await work();
  } catch (error) {
    if (isStoreUnavailable(error)) return storeUnavailable(error);
    throw error;
  }
}

/**
 * Creates a token issuer. Options are checked here and a mistake throws a `TypeError`; bad tokens
 * given to `refresh`, `verify` and `revoke` are answered with the contract's `AuthError`s, and a
 * store that cannot answer with `store_unavailable`.
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  if (typeof options !== 'object' || options === null) fail('options are required: { key }.');
  const accessTtl = lifetime('accessTokenTtl', options.accessTokenTtl, 300);
  const refreshTtl = lifetime('refreshTokenTtl', options.refreshTokenTtl, 86400);
  const sessionLifetime = options.sessionLifetime === undefined ? undefined : lifetime('sessionLifetime', options.sessionLifetime, 0);
  const revocationGrace = lifetime('revocationGrace', options.revocationGrace, DEFAULT_REVOCATION_GRACE);
  // How long a retired key's tokens can still be accepted somewhere: the longest a token lives
  // (no token outlives its session), plus the clock tolerance verifiers may grant.
  const longest = Math.min(Math.max(accessTtl, refreshTtl), sessionLifetime ?? Infinity);
  const keys = createKeyRing(options, longest + revocationGrace, fail);
  const rotate = options.rotateRefreshTokens ?? true;
  const reuseInterval = interval('reuseInterval', options.reuseInterval, DEFAULT_REUSE_INTERVAL);
  const revokeFamily = options.revokeFamilyOnReuse ?? true;
  if (options.refreshClaims !== undefined && typeof options.refreshClaims !== 'function') fail('"refreshClaims" must be a function.');
  const store = options.store ?? new MemoryRevocationStore();
  const currentDate = options.currentDate ?? (() => new Date());
  const now = () => Math.floor(currentDate().getTime() / 1000);

  /** The token's `jti` and session, in one store lookup when the store can. */
  async function isRevoked(payload: JWTPayload): Promise<boolean> {
    const ids = [payload.jti, payload.sid].filter((id): id is string => typeof id === 'string');
    if (store.anyRevoked !== undefined) return Boolean(await store.anyRevoked(ids));
    for (const id of ids) if (await store.isRevoked(id)) return true;
    return false;
  }
  // jwtAuth() reads it to refuse a clockTolerance that outlasts the revocations.
  markRevocationGrace(isRevoked, revocationGrace);

  const verifierOptions: VerifierOptions = {
    // The current key and the previous ones still in their window; core picks by the token's kid.
    secret: () => keys.verificationKeys(now()),
    algorithms: keys.algorithms,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    typ: 'at+jwt',
    isRevoked,
  };
  // Both token types verify against the same checks, minus the access-only `typ`.
  const config: internals.AuthConfig<JWTPayload, unknown, unknown> = resolveConfig({
    secret: verifierOptions.secret,
    algorithms: verifierOptions.algorithms,
    currentDate,
    // verify() reads revocations itself on every call; nothing to cache here.
    cache: false,
    // Its own tokens, on its own clock: no skew to allow for.
    clockTolerance: 0,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  });
  /**
   * The checks of `config` except time: an expired or revoked token of this issuer is still
   * recognised as one (its signature, `iss` and `aud` verified), so that it can end its session.
   */
  const anyTime = { ...config, clockTolerance: Number.MAX_SAFE_INTEGER };
  /**
   * What a revocation checks: `anyTime` for a token of any audience this issuer gives, its own or
   * a session's RFC 8707 resource: the signature, `iss`, `sid` and type say it is one of ours.
   */
  const revocable = { ...anyTime, audience: undefined };

  async function sign(claims: JWTPayload, typ: string, iat: number, exp: number): Promise<string> {
    const kid = await keys.kid();
    const header: JWTHeaderParameters = { alg: keys.signing.alg, typ, ...(kid === undefined ? {} : { kid }) };
    return new SignJWT({
      // An `aud` in `claims` (a session's RFC 8707 resource) stands in for the issuer's audience.
      ...(options.audience === undefined ? {} : { aud: options.audience }),
      ...claims,
      ...(options.issuer === undefined ? {} : { iss: options.issuer }),
      iat,
      exp,
      jti: crypto.randomUUID(),
    })
      .setProtectedHeader(header)
      .sign(await keys.signing.signingKey());
  }

  /**
   * One session: its id, when it began (`auth_time`), the claims its tokens carry, and the DPoP
   * key its refresh tokens are bound to (RFC 9449 §5), if any.
   */
  interface Session {
    subject: string;
    claims: Record<string, unknown>;
    sid: string;
    authTime: number;
    jkt?: string | undefined;
    /** The RFC 8707 resource its access tokens name as `aud` instead of the issuer's audience (authorization code grant). */
    audience?: string | undefined;
  }

  /** No token of a session outlives its absolute lifetime. */
  const capped = (session: Session, exp: number) => (sessionLifetime === undefined ? exp : Math.min(exp, session.authTime + sessionLifetime));

  /**
   * An access token (bound to `accessJkt`, the key of this request's DPoP proof, when given), and
   * a refresh token of `generation` (bound to the session's key) unless the one given is kept (rotation off).
   */
  async function pair(session: Session, generation: number, accessJkt: string | undefined, kept?: { token: string; exp: number }): Promise<TokenPair> {
    const iat = now();
    const base = { ...session.claims, sub: session.subject, sid: session.sid, auth_time: session.authTime };
    const accessExp = capped(session, iat + accessTtl);
    const accessCnf = accessJkt === undefined ? {} : { cnf: { jkt: accessJkt } };
    const accessToken = await sign({ ...base, ...accessCnf, token_type: 'access', ...audienceOf(session.audience, undefined) }, 'at+jwt', iat, accessExp);
    let refresh = kept;
    if (refresh === undefined) {
      const exp = capped(session, iat + refreshTtl);
      const refreshCnf = session.jkt === undefined ? {} : { cnf: { jkt: session.jkt } };
      const aud = audienceOf(session.audience, options.audience);
      // The session's resource, by name: its refreshes issue access tokens for it alone, never for
      // the rest of the issuer's audience (RFC 8707; RFC 6749 §6: no wider than the grant).
      const rsc = session.audience === undefined ? {} : { rsc: session.audience };
      refresh = { token: await sign({ ...base, ...refreshCnf, token_type: 'refresh', gen: generation, ...aud, ...rsc }, 'JWT', iat, exp), exp };
    }
    return {
      accessToken,
      refreshToken: refresh.token,
      // RFC 9449 §5.1: a DPoP-bound access token is of type DPoP.
      tokenType: accessJkt === undefined ? 'Bearer' : 'DPoP',
      expiresIn: accessExp - iat,
      refreshExpiresIn: refresh.exp - iat,
    };
  }

  /** A token this issuer made, of either type, with every check but revocation. */
  async function recognise(token: string): Promise<IssuedTokenResult> {
    const verified = await verifyToken(token, config);
    if (!verified.ok) return { ok: false, error: verifyError(verified, undefined) };
    const { header, payload } = verified;
    const tokenType = payload.token_type;
    const wellTyped = (tokenType === 'access' && /^(application\/)?at\+jwt$/i.test(String(header.typ))) || (tokenType === 'refresh' && header.typ === 'JWT');
    const generation = payload.gen ?? 0;
    if (
      !wellTyped ||
      boundKey(payload) === false ||
      typeof payload.sid !== 'string' ||
      typeof payload.jti !== 'string' ||
      !Number.isSafeInteger(generation) ||
      (generation as number) < 0
    ) {
      return { ok: false, error: new AuthError('claim_invalid', { description: 'The token was not issued as an access or refresh token' }) };
    }
    return { ok: true, tokenType, header, payload } satisfies IssuedTokenInfo & { ok: true };
  }

  async function verify(token: string): Promise<IssuedTokenResult> {
    const recognised = await recognise(token);
    if (!recognised.ok) return recognised;
    return orUnavailable(async () => ((await isRevoked(recognised.payload)) ? { ok: false, error: new AuthError('token_revoked') } : recognised));
  }

  function userClaims(payload: JWTPayload): Record<string, unknown> {
    return Object.fromEntries(Object.entries(payload).filter(([name]) => !RESERVED_CLAIMS.includes(name)));
  }

  /**
   * Until when a session's state and revocation must be kept: while any of its tokens can still
   * be accepted (the longest lifetime, or the session's end), plus the clock tolerance verifiers may grant.
   */
  const sessionStateEnd = (session: { authTime: number }) => {
    const longest = now() + Math.max(accessTtl, refreshTtl);
    return (sessionLifetime === undefined ? longest : Math.min(longest, session.authTime + sessionLifetime)) + revocationGrace;
  };

  /** The claims of the next tokens: carried over, or what `refreshClaims` says (`null`: the session ends). */
  async function nextClaims(session: Session): Promise<Record<string, unknown> | null> {
    if (options.refreshClaims === undefined) return session.claims;
    const claims = await options.refreshClaims(session.subject, { ...session.claims }, { sid: session.sid, authTime: session.authTime });
    if (claims === null) return null;
    if (typeof claims !== 'object') throw new TypeError('createTokenIssuer: "refreshClaims" must return an object of claims, or null to end the session.');
    const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.includes(name));
    if (reserved.length > 0) throw new TypeError(`createTokenIssuer: "refreshClaims" returned ${reserved.join(', ')}, which the issuer sets itself.`);
    return claims;
  }

  const ended = () => ({ ok: false, error: new AuthError('token_revoked') }) as const;

  async function refresh(refreshToken: string, refreshOptions?: RefreshOptions): Promise<RefreshResult> {
    const proofJkt = confirmedKey('refresh', refreshOptions);
    const recognised = await recognise(refreshToken);
    if (!recognised.ok) return recognised;
    const { payload } = recognised;
    if (recognised.tokenType !== 'refresh') {
      return { ok: false, error: new AuthError('wrong_token_type', { description: 'An access token cannot be used as a refresh token' }) };
    }
    // A bound refresh token is refused without a proof of its key before the rotation is looked
    // at: a thief who holds the token but not the key must not be able to use up its generation.
    const sessionJkt = boundKey(payload) || undefined;
    if (sessionJkt !== undefined && proofJkt === undefined) {
      return {
        ok: false,
        error: new AuthError('dpop_binding_mismatch', { description: 'The refresh token is bound to a DPoP key: refresh with a DPoP proof of that key' }),
      };
    }
    if (sessionJkt !== undefined && proofJkt !== sessionJkt) {
      return {
        ok: false,
        error: new AuthError('dpop_binding_mismatch', { description: 'The DPoP proof is not signed with the key the refresh token is bound to' }),
      };
    }
    const session: Session = {
      subject: payload.sub!,
      claims: userClaims(payload),
      sid: payload.sid as string,
      authTime: typeof payload.auth_time === 'number' ? payload.auth_time : payload.iat!,
      jkt: sessionJkt,
      audience: typeof payload.rsc === 'string' ? payload.rsc : undefined,
    };
    return orUnavailable(async () => {
      let generation: number;
      if (rotate) {
        // One atomic step decides it, across every process sharing the store.
        const rotated: RotateResult = await store.rotate(session.sid, (payload.gen as number | undefined) ?? 0, {
          now: now(),
          reuseInterval,
          expiresAt: sessionStateEnd(session),
          revokeOnReplay: revokeFamily,
        });
        if (rotated.outcome === 'replayed' || rotated.outcome === 'revoked') return ended();
        generation = rotated.generation;
      } else {
        // Without rotation the same refresh token is meant to be used many times, concurrently too.
        if (await isRevoked(payload)) return ended();
        generation = (payload.gen as number | undefined) ?? 0;
      }
      const claims = await nextClaims(session);
      if (claims === null) {
        await store.revoke(session.sid, sessionStateEnd(session));
        return ended();
      }
      const kept = rotate ? undefined : { token: refreshToken, exp: payload.exp! };
      // The access token is bound to the proof's key when there is one; an unbound session's
      // refresh tokens stay unbound (it is bound at login or never).
      return { ok: true, tokens: await pair({ ...session, claims }, generation, proofJkt, kept) } as const;
    });
  }

  async function issueSession(subject: string, claims: Record<string, unknown>, audience: string | undefined, jkt?: string): Promise<TokenPair> {
    if (typeof subject !== 'string' || subject === '') fail('issue(): the subject must be a non-empty string.');
    if (typeof claims !== 'object' || claims === null) fail('issue(): claims must be an object.');
    const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.includes(name));
    if (reserved.length > 0) fail(`issue(): ${reserved.join(', ')} ${reserved.length === 1 ? 'is' : 'are'} set by the issuer.`);
    // A new session needs nothing stored: its first refresh token is generation 0. Bound to a
    // DPoP key, both its tokens carry `cnf.jkt` (RFC 9449 §6.1, §5).
    return pair({ subject, claims, sid: crypto.randomUUID(), authTime: now(), audience, jkt }, 0, jkt);
  }

  const tokenIssuer: TokenIssuer = {
    async issue(subject, claims = {}, issueOptions) {
      return issueSession(subject, claims, undefined, confirmedKey('issue', issueOptions));
    },
    refresh,
    verify,
    async revoke(token): Promise<RevokeResult> {
      // Either token ends its session: logging out with the access token must not leave the
      // refresh token working (RFC 7009 §2.1 allows revoking related tokens). A token already
      // revoked (a refresh token rotated, perhaps by a thief) or expired still ends the session
      // it belongs to, and the answer is success whatever the token was (RFC 7009 §2.2).
      const verified = await verifyToken(token, revocable);
      const { payload } = verified.ok ? verified : { payload: undefined };
      if (payload === undefined || typeof payload.sid !== 'string' || !['access', 'refresh'].includes(payload.token_type as string)) return { ok: true };
      const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : (payload.iat ?? now());
      const sid = payload.sid;
      return orUnavailable(async () => {
        await store.revoke(sid, sessionStateEnd({ authTime }));
        return { ok: true } as const;
      });
    },
    isRevoked,
    async jwks() {
      if (keys.symmetric) {
        throw new TypeError(
          `createTokenIssuer: this issuer signs with an HMAC secret (${keys.signing.alg}), which has no JWK Set: the secret must never be published. ` +
            'Sign with a private key (RS256, ES256, EdDSA) to let other services verify the tokens with "jwks" or "discovery".',
        );
      }
      return keys.jwks(now());
    },
    algorithm: keys.signing.alg,
    verifierOptions,
    store,
  };
  const verifyTyped = typedVerifier(verifierOptions, currentDate);
  registerInternals(tokenIssuer, {
    now,
    signTyped: (claims, typ, exp) => sign(claims, typ, now(), exp),
    verifyTyped,
    issueFor: issueSession,
  });
  return tokenIssuer;
}
