/**
 * Express 4/5 middleware for JWT bearer authentication (RFC 6750) on jose.
 *
 * @packageDocumentation
 * @module @jwtauth/express
 */
export { jwtAuth, requireClaims, requireScopes } from './middleware.js';
export type { ExpressJwtAuthOptions } from './middleware.js';
export { tokenRouter } from './token-router.js';
export type { JwtAuthProperties, JwtAuthRequestProperties } from './request-properties.js';
export { AuthError, isAuthError } from '@jwtauth/core';
export type {
  AuthErrorCode,
  AuthInfo,
  ClaimCheck,
  JWTPayload,
  JwtAuthOptions,
  ProtectedResourceMetadataOptions,
  ProtectedResourceOptions,
} from '@jwtauth/core';
export { protectedResourceMetadata } from './resource-metadata.js';
