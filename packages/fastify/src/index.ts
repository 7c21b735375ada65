export { jwtAuth, requireClaims, requireScopes } from './plugin.js';
export type { FastifyJwtAuthOptions } from './plugin.js';
export { AuthError, isAuthError } from '@jwtauth/core';
export type { AuthErrorCode, AuthInfo, ClaimCheck, JWTPayload, JwtAuthOptions } from '@jwtauth/core';
