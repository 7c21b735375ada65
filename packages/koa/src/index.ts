/**
 * Koa 2/3 middleware for JWT bearer authentication (RFC 6750) on jose.
 *
 * @packageDocumentation
 * @module @jwtauth/koa
 */
export { jwtAuth, requireClaims, requireScopes } from './middleware.js';
export type { JwtAuthMiddleware, KoaJwtAuthOptions } from './middleware.js';
export { tokenRoutes } from './token-routes.js';
export type { TokenRoutesOptions } from './token-routes.js';
export type { JwtAuthState, StateKeyOptions } from './state.js';
export { AuthError, isAuthError } from '@jwtauth/core';
export type {
  AuthErrorCode,
  AuthInfo,
  ClaimCheck,
  JWTPayload,
  JwtAuthOptions,
  TokenEndpoints,
  Unless,
  UnlessOptions,
  UnlessPath,
  ProtectedResourceMetadataOptions,
  ProtectedResourceOptions,
} from '@jwtauth/core';
export { protectedResourceMetadata } from './resource-metadata.js';
