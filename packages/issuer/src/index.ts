/**
 * Issue tokens for `@jwtauth`: a token issuer (access + refresh, rotation, revocation, logout), token endpoints (login, refresh, verify, revoke) with login throttling, and a bound on concurrent password checks.
 *
 * @packageDocumentation
 * @module @jwtauth/issuer
 */
export { createTokenIssuer } from './issuer/issuer.js';
export type {
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
} from './issuer/options.js';
export type { SigningKeyInput } from './issuer/signing-key.js';
export type { PreviousKey, PublicJwk, PublicJwkSet } from './issuer/key-ring.js';
export { clearRefreshCookie, refreshCookie, type RefreshCookieOptions } from './issuer/cookies.js';
export { createTokenEndpoints } from './endpoints/endpoints.js';
export type { EndpointAnswer, EndpointRequest, JsonValue, TokenEndpoints } from '@jwtauth/core';
export type { EndpointErrorCode } from './endpoints/answer.js';
export type {
  HashingOptions,
  IssuerMetadata,
  JsonEndpointAnswer,
  TokenEndpointsDpopOptions,
  TokenEndpointsOptions,
  VerifiedUser,
  VerifyCredentials,
} from './endpoints/options.js';
export type { AuthorizationClient, AuthorizationOptions } from './endpoints/authorization-options.js';
export type { LoginLimit, ThrottleOptions, ThrottleRedisClient } from './endpoints/throttle.js';
