/**
 * Fastify 4/5 plugin for JWT bearer authentication (RFC 6750) on jose.
 *
 * @packageDocumentation
 * @module @jwtauth/fastify
 */
export { jwtAuth, requireClaims, requireScopes, sendAuthError } from './plugin.js';
export type { FastifyJwtAuthOptions, FastifyJwtAuthPluginOptions, JwtAuthenticate, JwtAuthInstanceFields, JwtAuthRequestFields, JwtVerify } from './plugin.js';
export { tokenEndpoints } from './token-endpoints.js';
export type { TokenEndpointsPluginOptions } from './token-endpoints.js';
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
