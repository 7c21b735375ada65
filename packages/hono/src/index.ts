/**
 * Hono 4 middleware for JWT bearer authentication (RFC 6750) on jose, for Node, Bun, Deno and Workers.
 *
 * @packageDocumentation
 * @module @jwtauth/hono
 */
export { jwtAuth, requireClaims, requireScopes } from './middleware.js';
export type { DefaultVariableNames, HonoJwtAuthOptions, JwtAuthEnv, JwtAuthVariables, VariableNames } from './middleware.js';
export { tokenApp } from './token-app.js';
export type { TokenAppOptions } from './token-app.js';
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
