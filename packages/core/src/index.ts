/**
 * Framework-neutral JWT bearer authentication: RFC 6750 parsing, jose verification, one error model.
 *
 * @packageDocumentation
 * @module @jwtauth/core
 */
export { createAuthenticator } from './authenticate.js';
export type { Authenticator, AuthResult } from './authenticate.js';
export type { AuthInfo } from './auth-info.js';
export { recordAuth, recordedAuth, type RecordedAuth } from './recorded-auth.js';
export { AuthError, isAuthError, KEY_UNAVAILABLE_RETRY_AFTER } from './errors.js';
export type { AuthErrorCode, AuthErrorDetails, DpopChallenge, OAuthErrorValue } from './errors.js';
export { createDpopNonces } from './dpop/nonce.js';
export type { DpopNonceOptions, DpopNonces } from './dpop/nonce.js';
export type { DpopOptions, DpopReplayStore } from './dpop/options.js';
export { accessTokenHash, verifyDpopProof } from './dpop/proof.js';
export type { DpopProofPolicy, DpopProofRequest, RefusedDpopProof, VerifiedDpopProof } from './dpop/proof.js';
export { buildChallenge } from './http/challenge.js';
export { PROTECTED_RESOURCE_WELL_KNOWN } from './http/protected-resource.js';
export type { ProtectedResource, ProtectedResourceAnswer, ProtectedResourceMetadata, ProtectedResourceOptions } from './http/protected-resource.js';
export { createProtectedResource } from './resource-metadata.js';
export type { ProtectedResourceMetadataOptions } from './resource-metadata.js';
export type { ChallengeParams } from './http/challenge.js';
export { toErrorResponse } from './http/response.js';
export type { AuthErrorResponse } from './http/response.js';
export { parseAuthorization } from './http/bearer.js';
export type { BearerParse, ParseOptions } from './http/bearer.js';
export { parseScopes } from './scopes.js';
export { createClaimGuard, createScopeGuard } from './guards.js';
export type { ClaimCheck, Guard, GuardResult } from './guards.js';
export { SUPPORTED_ALGORITHMS } from './keys/algorithms.js';
export type { Duration } from './duration.js';
export type { AuthEvent, AuthFailedEvent, KeySetFailureCause, KeySetFetchEvent, KeySetRotatedEvent, KeySetStaleEvent } from './events.js';
export type { KeyInput, KeyObjectLike } from './keys/keys.js';
export type { IssuerKeys, JwtAuthOptions, KeyFunction, LocalJwks, RemoteJwks } from './options.js';
export type { FetchFunction, RemoteJwksTiming } from './jwks/remote-jwks.js';
export { KeysUnavailable } from './jwks/fetch-document.js';
export type { TokenCacheOptions } from './jwt/token-cache.js';
export type { FetchHeaders, NodeHeaders, RequestLike } from './http/request.js';
export type { CookieSource, TokenFrom } from './http/token-source.js';
export type { Unless, UnlessOptions, UnlessPath } from './http/unless.js';
export type { JWK, JWSHeaderParameters, JWTPayload } from 'jose';
export type { EndpointAnswer, EndpointRequest, JsonValue, TokenEndpoints } from './http/token-endpoint.js';
export { isStoreUnavailable, MemoryRevocationStore, StoreUnavailable } from './revocation-store.js';
export type { MemoryRevocationStoreOptions, RevocationStore, RotateOptions, RotateResult } from './revocation-store.js';
export { readCookie } from './http/cookies.js';
export type { IssuerResolver, KeyAnswer } from './options.js';
/**
 * Core's internals that `@jwtauth/issuer` builds on. Not public API: no semver, any release may
 * change it. Applications import what they need from the package root.
 *
 * @internal
 */
export * as internals from './internals.js';
