import type { JWSHeaderParameters, JWTPayload } from 'jose';
// MemoryRevocationStore and StoreUnavailable are imported for the {@link} tags in the TSDoc below.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
import type { AuthError, Duration, KeyInput, MemoryRevocationStore, RevocationStore, StoreUnavailable } from '@jwtauth/core';
import type { PreviousKey, PublicJwkSet } from './key-ring.js';
import type { SigningKeyInput } from './signing-key.js';

/** Options of {@link createTokenIssuer}. */
export interface TokenIssuerOptions {
  /** The signing key: an HMAC secret (32+ bytes), or a private key (PKCS #8 PEM, JWK, `KeyObject`, extractable `CryptoKey`). */
  key: SigningKeyInput;
  /** The algorithm to sign with. Default: HS256, RS256, PS256 (RSA-PSS key), the curve's ES*, or EdDSA. */
  algorithm?: string;
  /**
   * `kid` header of every token, for verifiers that pick keys from a JWK Set. Default: the key's
   * RFC 7638 JWK thumbprint (SHA-256) for a private key, none for an HMAC secret.
   */
  kid?: string;
  /**
   * Keys that signed before `key` (key rotation): their tokens stay accepted by `refresh`,
   * `verify`, `revoke` and `verifierOptions`, and (asymmetric) stay in `jwks()`, until each key's
   * `retiredAt` plus the longest token lifetime (capped by `sessionLifetime`) plus
   * `revocationGrace`; then the key drops out by itself. Of the same kind as `key` (HMAC secrets,
   * or private / public keys), each listed once, every `kid` different. Default: none.
   */
  previousKeys?: readonly PreviousKey[];
  /** `iss` claim of every token, and checked on refresh. Default: none. */
  issuer?: string;
  /** `aud` claim of every token, and checked on refresh. Default: none. */
  audience?: string | string[];
  /** Access token lifetime. Default `"5m"`. */
  accessTokenTtl?: Duration;
  /** Refresh token lifetime. Default `"1d"`. */
  refreshTokenTtl?: Duration;
  /**
   * Absolute lifetime of a session, from login: refreshing never extends it, and no token of the
   * session expires after it. Default: none (a session lasts as long as it is refreshed).
   */
  sessionLifetime?: Duration;
  /** `refresh()` returns a new refresh token and retires the one it was given. Default `true`. */
  rotateRefreshTokens?: boolean;
  /**
   * How long after a rotation the previous refresh token may be presented again without counting
   * as theft: two tabs (or a retried request) refreshing at the same moment all get working tokens
   * at the session's current generation. After it, reuse detection applies. `0`: strict, exactly
   * one refresh of a token succeeds. Default `"10s"`.
   */
  reuseInterval?: Duration;
  /** A refresh token used again after rotation (outside `reuseInterval`) revokes its whole session (RFC 9700 §4.14.2). Default `true`. */
  revokeFamilyOnReuse?: boolean;
  /**
   * Called at each refresh with the subject and the session's current claims; returns the claims
   * of the new tokens (a demoted admin loses `admin` at the next refresh), or `null` to end the
   * session (a deleted or blocked user): the refresh then fails with `token_revoked`. Default:
   * the claims are carried over unchanged.
   */
  refreshClaims?(
    subject: string,
    claims: Record<string, unknown>,
    session: { sid: string; authTime: number },
  ): Record<string, unknown> | null | Promise<Record<string, unknown> | null>;
  /**
   * Where revocations and each session's rotation state are kept. Default: a new
   * {@link MemoryRevocationStore} (one process; share a store such as `@jwtauth/redis` between processes).
   */
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

/**
 * The DPoP key (RFC 9449) tokens are bound to: the RFC 7638 SHA-256 thumbprint of a verified
 * proof's public key, as `verifyDpopProof()` of `@jwtauth/core` returns it (`jkt`).
 */
export interface TokenConfirmation {
  /** The key's thumbprint (43 base64url characters): the tokens' `cnf.jkt`. */
  jkt: string;
}

/** Options of {@link TokenIssuer.issue}. */
export interface IssueOptions {
  /**
   * Binds the session to a DPoP key, whose proof the caller verified: the access token and the
   * refresh token carry `cnf: { jkt }`, `tokenType` is `"DPoP"`, and every refresh of the session
   * needs a proof of the same key. Default: unbound (Bearer) tokens.
   */
  confirmation?: TokenConfirmation;
}

/** Options of {@link TokenIssuer.refresh}. */
export interface RefreshOptions {
  /**
   * The key of the DPoP proof that came with the refresh, verified by the caller. Required for a
   * refresh token bound to a key, and it must be that key (else `dpop_binding_mismatch`). The new
   * access token is bound to it; the refresh token of an unbound session stays unbound.
   */
  confirmation?: TokenConfirmation;
}

/** An access + refresh pair, with lifetimes in seconds. */
export interface TokenPair {
  /** The access token (a JWT with `typ: at+jwt`), to send as `Authorization: Bearer …` (`Authorization: DPoP …` when bound). */
  accessToken: string;
  /** The refresh token: a new one when rotation is on, else the one that was refreshed. */
  refreshToken: string;
  /** `"DPoP"` for an access token bound to a DPoP key (`cnf.jkt`, RFC 9449 §5.1), else `"Bearer"`. */
  tokenType: 'Bearer' | 'DPoP';
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
}

/** A token verified by its issuer. */
export interface IssuedTokenInfo {
  /** Which of the issuer's tokens it is (its `token_type` claim). */
  tokenType: 'access' | 'refresh';
  /** The token's protected header. */
  header: JWSHeaderParameters;
  /** The token's verified claims. */
  payload: JWTPayload;
}

/** The outcome of {@link TokenIssuer.refresh}. Failures are values, never thrown. */
export type RefreshResult =
  | {
      /** The refresh token was accepted. */
      ok: true;
      /** The new tokens. */
      tokens: TokenPair;
    }
  | {
      /** The refresh token was refused. */
      ok: false;
      /** Why, and what to answer. */
      error: AuthError;
    };
/** The outcome of {@link TokenIssuer.verify}. Failures are values, never thrown. */
export type IssuedTokenResult =
  | ({
      /** The token is this issuer's, valid and not revoked. */
      ok: true;
    } & IssuedTokenInfo)
  | {
      /** The token was refused. */
      ok: false;
      /** Why, and what to answer. */
      error: AuthError;
    };
/**
 * Revocation succeeds whatever the token was (RFC 7009 §2.2: there is nothing a client could do
 * about a refusal); it fails only with `store_unavailable` when the store cannot record it.
 */
export type RevokeResult =
  | {
      /** The session is revoked, or there was nothing to revoke. */
      ok: true;
    }
  | {
      /** The store could not record the revocation. */
      ok: false;
      /** `store_unavailable`, and what to answer. */
      error: AuthError;
    };

/** The `jwtAuth()` options that verify this issuer's access tokens (spread them in). */
export interface VerifierOptions {
  /** The current key and the previous keys still in their window (core picks by the token's `kid`). */
  secret: (header: JWSHeaderParameters) => Promise<KeyInput[]>;
  /** Every algorithm a live token can be signed with, the current key's first. */
  algorithms: string[];
  /** The issuer's `issuer` option, when set: the `iss` tokens must carry. */
  issuer?: string;
  /** The issuer's `audience` option, when set: the `aud` tokens must carry. */
  audience?: string | string[];
  /** The `typ` header of access tokens (RFC 9068): refresh tokens, typed `JWT`, are refused. */
  typ: 'at+jwt';
  /** The issuer's {@link TokenIssuer.isRevoked}: refuses tokens of revoked sessions. */
  isRevoked: (payload: JWTPayload) => Promise<boolean>;
}

/** Issues, refreshes, verifies and revokes the tokens of an app that is its own identity provider. */
export interface TokenIssuer {
  /**
   * A new session: an access token (`typ: at+jwt`, `token_type: access`) and a refresh token
   * (`token_type: refresh`); both bound to a DPoP key (`cnf.jkt`) with `options.confirmation`.
   */
  issue(subject: string, claims?: Record<string, unknown>, options?: IssueOptions): Promise<TokenPair>;
  /**
   * Exchanges a refresh token for a new pair (rotation on) or a new access token and the same
   * refresh token. A refresh token bound to a DPoP key needs `options.confirmation` with that key.
   */
  refresh(refreshToken: string, options?: RefreshOptions): Promise<RefreshResult>;
  /** Verifies a token this issuer made (either type) and that it is not revoked. */
  verify(token: string): Promise<IssuedTokenResult>;
  /**
   * Logout: either token of a session (access or refresh) revokes the whole session. Succeeds
   * also for a token that is already revoked, expired or invalid, as RFC 7009 §2.2 asks.
   */
  revoke(token: string): Promise<RevokeResult>;
  /**
   * Whether a verified payload's `jti` or session (`sid`) is revoked, in one store lookup: the
   * `isRevoked` option of `jwtAuth()`. Throws {@link StoreUnavailable} when the store cannot answer.
   */
  isRevoked(payload: JWTPayload): Promise<boolean>;
  /**
   * The public JWK Set to publish (`GET /.well-known/jwks.json` of the token endpoints), so that
   * other services verify the tokens with `jwks: { uri }` or `discovery`: the current key first,
   * then the previous keys still in their window, each with `kid`, `alg` and `use: "sig"` and
   * only its public members. Rejects with a `TypeError` for an HMAC issuer, whose secret must never be published.
   */
  jwks(): Promise<PublicJwkSet>;
  /** The algorithm new tokens are signed with (`alg` of the current key). */
  readonly algorithm: string;
  /** `jwtAuth({ ...issuer.verifierOptions })` accepts exactly this issuer's live access tokens. */
  readonly verifierOptions: VerifierOptions;
  /** Where revocations and rotation state are kept: the `store` option, or the memory store made by default. */
  readonly store: RevocationStore;
}
