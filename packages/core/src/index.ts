export { createAuthenticator } from './authenticate.js';
export type { Authenticator, AuthResult } from './authenticate.js';
export type { AuthInfo } from './auth-info.js';
export { recordAuth, recordedAuth, type RecordedAuth } from './recorded-auth.js';
export { AuthError, isAuthError, KEY_UNAVAILABLE_RETRY_AFTER } from './errors.js';
export type { AuthErrorCode, AuthErrorDetails, OAuthErrorValue } from './errors.js';
export { buildChallenge } from './challenge.js';
export type { ChallengeParams } from './challenge.js';
export { toErrorResponse } from './response.js';
export type { AuthErrorResponse } from './response.js';
export { parseAuthorization } from './bearer.js';
export type { BearerParse } from './bearer.js';
export { parseScopes } from './scopes.js';
export { createClaimGuard, createScopeGuard } from './guards.js';
export type { ClaimCheck, Guard, GuardResult } from './guards.js';
export { SUPPORTED_ALGORITHMS } from './algorithms.js';
export type { Duration } from './duration.js';
export type {
  AuthEvent,
  AuthFailedEvent,
  KeySetFailureCause,
  KeySetFetchEvent,
  KeySetRotatedEvent,
  KeySetStaleEvent,
} from './events.js';
export type { KeyInput, KeyObjectLike } from './keys.js';
export type { IssuerKeys, JwtAuthOptions, KeyFunction, LocalJwks, RemoteJwks } from './options.js';
export type { FetchFunction, RemoteJwksTiming } from './remote-jwks.js';
export { KeysUnavailable } from './fetch-document.js';
export type { TokenCacheOptions } from './token-cache.js';
export type { FetchHeaders, NodeHeaders, RequestLike } from './request.js';
export type { CookieSource, TokenFrom } from './token-source.js';
export type { Unless, UnlessOptions, UnlessPath } from './unless.js';
export type { JWK, JWSHeaderParameters, JWTPayload } from 'jose';
export { createTokenIssuer } from './issuer.js';
export type {
  IssuedTokenInfo,
  IssuedTokenResult,
  RefreshResult,
  RevokeResult,
  TokenIssuer,
  TokenIssuerOptions,
  TokenPair,
  VerifierOptions,
} from './issuer-options.js';
export type { SigningKeyInput } from './signing-key.js';
export { isStoreUnavailable, MemoryRevocationStore, StoreUnavailable } from './revocation-store.js';
export type { MemoryRevocationStoreOptions, RevocationStore, RotateOptions, RotateResult } from './revocation-store.js';
export { clearRefreshCookie, readCookie, refreshCookie } from './cookies.js';
export type { RefreshCookieOptions } from './cookies.js';
export type { IssuerResolver, KeyAnswer } from './options.js';
