export { jwtAuth, requireClaims, requireScopes } from './middleware.js';
export type { DefaultVariableNames, HonoJwtAuthOptions, JwtAuthEnv, JwtAuthVariables, VariableNames } from './middleware.js';
export { tokenApp } from './token-app.js';
export type { TokenAppOptions } from './token-app.js';
export { AuthError, isAuthError } from '@jwtauth/core';
export type { AuthErrorCode, AuthInfo, ClaimCheck, JWTPayload, JwtAuthOptions, ProtectedResourceMetadataOptions, ProtectedResourceOptions } from '@jwtauth/core';
export { protectedResourceMetadata } from './resource-metadata.js';
