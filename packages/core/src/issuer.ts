import { SignJWT, type JWSHeaderParameters, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { resolveConfig, type AuthConfig } from './config.js';
import { toSeconds, type Duration } from './duration.js';
import { AuthError } from './errors.js';
import type { KeyInput } from './keys.js';
import { markRevocationGrace, MemoryRevocationStore, type RevocationStore } from './revocation-store.js';
import { prepareSigningKey, type SigningKey, type SigningKeyInput } from './signing-key.js';
import { verifyError, verifyToken } from './verify.js';

/** Options of {@link createTokenIssuer}. */
export interface TokenIssuerOptions {
  /** The signing key: an HMAC secret (32+ bytes), or a private key (PKCS #8 PEM, JWK, `KeyObject`, extractable `CryptoKey`). */
  key: SigningKeyInput;
  /** The algorithm to sign with. Default: HS256, RS256, PS256 (RSA-PSS key), the curve's ES*, or EdDSA. */
  algorithm?: string;
  /** `kid` header of every token, for verifiers that pick keys from a JWK Set. Default: none. */
  kid?: string;
  /** `iss` claim of every token, and checked on refresh. Default: none. */
  issuer?: string;
  /** `aud` claim of every token, and checked on refresh. Default: none. */
  audience?: string | string[];
  /** Access token lifetime. Default `"5m"`. */
  accessTokenTtl?: Duration;
  /** Refresh token lifetime. Default `"1d"`. */
  refreshTokenTtl?: Duration;
  /** `refresh()` returns a new refresh token and revokes the one it was given. Default `true`. */
  rotateRefreshTokens?: boolean;
  /** A refresh token used again after rotation revokes its whole session (RFC 9700 §4.14.2). Default `true`. */
  revokeFamilyOnReuse?: boolean;
  /** Where revocations are kept. Default: a new {@link MemoryRevocationStore}. */
  store?: RevocationStore;
  /**
   * How long a revocation outlives the token it names: at least the largest `clockTolerance` of
   * any verifier of these tokens, which would otherwise accept a revoked token again once its
   * revocation is forgotten. `jwtAuth()` refuses a `clockTolerance` larger than this when its
   * `isRevoked` is this issuer's. Default `"5m"`.
   */
  revocationGrace?: Duration;
  /** The clock, for tests. Default `() => new Date()`. */
  currentDate?: () => Date;
}

/** An access + refresh pair, with lifetimes in seconds. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn: number;
}

/** A token verified by its issuer. */
export interface IssuedTokenInfo {
  tokenType: 'access' | 'refresh';
  header: JWSHeaderParameters;
  payload: JWTPayload;
}

export type RefreshResult = { ok: true; tokens: TokenPair } | { ok: false; error: AuthError };
export type IssuedTokenResult = ({ ok: true } & IssuedTokenInfo) | { ok: false; error: AuthError };
/** Revocation always succeeds (RFC 7009 §2.2): there is nothing a client could do about a refusal. */
export type RevokeResult = { ok: true };

/** The `jwtAuth()` options that verify this issuer's access tokens (spread them in). */
export interface VerifierOptions {
  secret: (header: JWSHeaderParameters) => Promise<KeyInput>;
  algorithms: string[];
  issuer?: string;
  audience?: string | string[];
  typ: 'at+jwt';
  isRevoked: (payload: JWTPayload) => Promise<boolean>;
}

/** Issues, refreshes, verifies and revokes the tokens of an app that is its own identity provider. */
export interface TokenIssuer {
  /** A new session: an access token (`typ: at+jwt`, `token_type: access`) and a refresh token (`token_type: refresh`). */
  issue(subject: string, claims?: Record<string, unknown>): Promise<TokenPair>;
  /** Exchanges a refresh token for a new pair (rotation on) or a new access token and the same refresh token. */
  refresh(refreshToken: string): Promise<RefreshResult>;
  /** Verifies a token this issuer made (either type) and that it is not revoked. */
  verify(token: string): Promise<IssuedTokenResult>;
  /**
   * Logout: either token of a session (access or refresh) revokes the whole session. Succeeds
   * also for a token that is already revoked, expired or invalid, as RFC 7009 §2.2 asks.
   */
  revoke(token: string): Promise<RevokeResult>;
  /** Whether a verified payload's `jti` or session (`sid`) is revoked: the `isRevoked` option of `jwtAuth()`. */
  isRevoked(payload: JWTPayload): Promise<boolean>;
  /** `jwtAuth({ ...issuer.verifierOptions })` accepts exactly this issuer's live access tokens. */
  readonly verifierOptions: VerifierOptions;
  readonly store: RevocationStore;
}

/**
 * Seconds a revocation outlives the token it names by default, so that a verifier's
 * `clockTolerance` (up to five minutes) cannot make a revoked token acceptable again after its `exp`.
 */
const DEFAULT_REVOCATION_GRACE = 300;

/** Claims the issuer sets itself; `issue()` refuses them in `claims`. */
const RESERVED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'token_type'];

function fail(message: string): never {
  throw new TypeError(`createTokenIssuer: ${message}`);
}

function lifetime(name: string, value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = toSeconds(value);
  if (seconds === undefined || seconds <= 0) fail(`"${name}" must be a positive duration such as "15m".`);
  return seconds;
}

/**
 * Creates a token issuer. Options are checked here and a mistake throws a `TypeError`; bad tokens
 * given to `refresh`, `verify` and `revoke` are answered with the contract's `AuthError`s.
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  if (typeof options !== 'object' || options === null) fail('options are required: { key }.');
  const prepared = prepareSigningKey(options.key, options.algorithm);
  if (typeof prepared === 'string') fail(`"key": ${prepared}.`);
  const signing: SigningKey = prepared;
  const accessTtl = lifetime('accessTokenTtl', options.accessTokenTtl, 300);
  const refreshTtl = lifetime('refreshTokenTtl', options.refreshTokenTtl, 86400);
  const rotate = options.rotateRefreshTokens ?? true;
  const revokeFamily = options.revokeFamilyOnReuse ?? true;
  const store = options.store ?? new MemoryRevocationStore();
  const revocationGrace = lifetime('revocationGrace', options.revocationGrace, DEFAULT_REVOCATION_GRACE);
  const currentDate = options.currentDate ?? (() => new Date());
  const now = () => Math.floor(currentDate().getTime() / 1000);
  /** Refresh tokens being exchanged right now: a second use while the first is in flight is reuse. */
  const refreshing = new Set<string>();

  async function isRevoked(payload: JWTPayload): Promise<boolean> {
    if (typeof payload.jti === 'string' && (await store.isRevoked(payload.jti))) return true;
    return typeof payload.sid === 'string' && (await store.isRevoked(payload.sid));
  }
  // jwtAuth() reads it to refuse a clockTolerance that outlasts the revocations.
  markRevocationGrace(isRevoked, revocationGrace);

  const verifierOptions: VerifierOptions = {
    secret: () => signing.verificationKey(),
    algorithms: [signing.alg],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    typ: 'at+jwt',
    isRevoked,
  };
  // Both token types verify against the same checks, minus the access-only `typ`.
  const config: AuthConfig<JWTPayload, unknown, unknown> = resolveConfig({
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

  async function sign(claims: JWTPayload, typ: string, ttl: number, iat: number): Promise<string> {
    const header: JWTHeaderParameters = { alg: signing.alg, typ, ...(options.kid === undefined ? {} : { kid: options.kid }) };
    return new SignJWT({
      ...claims,
      ...(options.issuer === undefined ? {} : { iss: options.issuer }),
      ...(options.audience === undefined ? {} : { aud: options.audience }),
      iat,
      exp: iat + ttl,
      jti: crypto.randomUUID(),
    })
      .setProtectedHeader(header)
      .sign((await signing.signingKey()) as Parameters<SignJWT['sign']>[0]);
  }

  async function pair(subject: string, claims: Record<string, unknown>, sid: string, refreshToken?: { token: string; exp: number }) {
    const iat = now();
    const base = { ...claims, sub: subject, sid };
    const accessToken = await sign({ ...base, token_type: 'access' }, 'at+jwt', accessTtl, iat);
    const refresh = refreshToken ?? { token: await sign({ ...base, token_type: 'refresh' }, 'JWT', refreshTtl, iat), exp: iat + refreshTtl };
    return { accessToken, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: accessTtl, refreshExpiresIn: refresh.exp - iat } as const;
  }

  async function verify(token: string): Promise<IssuedTokenResult> {
    const verified = await verifyToken(token, config);
    if (!verified.ok) return { ok: false, error: verifyError(verified, undefined) };
    const { header, payload } = verified;
    const tokenType = payload.token_type;
    const wellTyped =
      (tokenType === 'access' && /^(application\/)?at\+jwt$/i.test(String(header.typ))) ||
      (tokenType === 'refresh' && header.typ === 'JWT');
    if (!wellTyped || typeof payload.sid !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') {
      return { ok: false, error: new AuthError('claim_invalid', { description: 'The token was not issued as an access or refresh token' }) };
    }
    if (await isRevoked(payload)) return { ok: false, error: new AuthError('token_revoked') };
    return { ok: true, tokenType, header, payload };
  }

  function userClaims(payload: JWTPayload): Record<string, unknown> {
    return Object.fromEntries(Object.entries(payload).filter(([name]) => !RESERVED_CLAIMS.includes(name)));
  }

  /**
   * A revoked session must stay revoked while any of its tokens can still be accepted: the
   * longest lifetime, plus the clock tolerance verifiers may grant.
   */
  const sessionRevocationEnd = () => now() + Math.max(accessTtl, refreshTtl) + revocationGrace;
  const revokeSession = (sid: string) => store.revoke(sid, sessionRevocationEnd());

  /**
   * Marks a refresh token used. With a store that has an atomic `consume` (Redis `SET NX`), only
   * one caller across all processes wins; otherwise one per process (check, then revoke).
   */
  async function consumeOnce(jti: string, expiresAt: number): Promise<boolean> {
    if (store.consume !== undefined) return store.consume(jti, expiresAt);
    if (refreshing.has(jti) || (await store.isRevoked(jti))) return false;
    refreshing.add(jti);
    try {
      await store.revoke(jti, expiresAt);
    } finally {
      refreshing.delete(jti);
    }
    return true;
  }

  async function refresh(refreshToken: string): Promise<RefreshResult> {
    const verified = await verify(refreshToken);
    if (!verified.ok) {
      // A rotated refresh token presented again: someone else holds a copy, so end the session.
      if (verified.error.code === 'token_revoked' && revokeFamily) await revokeSessionOf(refreshToken, ['refresh']);
      return verified;
    }
    const { payload } = verified;
    if (verified.tokenType !== 'refresh') {
      return { ok: false, error: new AuthError('wrong_token_type', { description: 'An access token cannot be used as a refresh token' }) };
    }
    const sid = payload.sid as string;
    if (!rotate) {
      // Without rotation the same refresh token is meant to be used many times, concurrently too.
      return { ok: true, tokens: await pair(payload.sub!, userClaims(payload), sid, { token: refreshToken, exp: payload.exp! }) };
    }
    if (!(await consumeOnce(payload.jti as string, payload.exp! + revocationGrace))) {
      if (revokeFamily) await revokeSession(sid);
      return { ok: false, error: new AuthError('token_revoked') };
    }
    const tokens = await pair(payload.sub!, userClaims(payload), sid);
    // A logout or reuse detection may have revoked the session while this refresh ran.
    if (await store.isRevoked(sid)) return { ok: false, error: new AuthError('token_revoked') };
    return { ok: true, tokens };
  }

  /**
   * The checks of `config` except time: an expired or revoked token of this issuer is still
   * recognised as one (its signature, `iss` and `aud` verified), so that it can end its session.
   */
  const anyTime = { ...config, clockTolerance: Number.MAX_SAFE_INTEGER };

  /** Revokes the session of a token this issuer signed, of the given types, whether or not it is still valid. */
  async function revokeSessionOf(token: string, types: readonly unknown[]): Promise<void> {
    const verified = await verifyToken(token, anyTime);
    if (verified.ok && typeof verified.payload.sid === 'string' && types.includes(verified.payload.token_type)) {
      await revokeSession(verified.payload.sid);
    }
  }

  return {
    async issue(subject, claims = {}) {
      if (typeof subject !== 'string' || subject === '') fail('issue(): the subject must be a non-empty string.');
      if (typeof claims !== 'object' || claims === null) fail('issue(): claims must be an object.');
      const reserved = Object.keys(claims).filter((name) => RESERVED_CLAIMS.includes(name));
      if (reserved.length > 0) fail(`issue(): ${reserved.join(', ')} ${reserved.length === 1 ? 'is' : 'are'} set by the issuer.`);
      return pair(subject, claims, crypto.randomUUID());
    },
    refresh,
    verify,
    async revoke(token) {
      // Either token ends its session: logging out with the access token must not leave the
      // refresh token working (RFC 7009 §2.1 allows revoking related tokens). A token already
      // revoked (a refresh token rotated, perhaps by a thief) or expired still ends the session
      // it belongs to, and the answer is success whatever the token was (RFC 7009 §2.2).
      await revokeSessionOf(token, ['access', 'refresh']);
      return { ok: true };
    },
    isRevoked,
    verifierOptions,
    store,
  };
}
