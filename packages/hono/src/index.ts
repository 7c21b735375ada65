export { jwtAuth, requireClaims, requireScopes } from './middleware.js';
export type { DefaultVariableNames, HonoJwtAuthOptions, JwtAuthEnv, JwtAuthVariables, VariableNames } from './middleware.js';
export { AuthError, isAuthError } from '@jwtauth/core';
export type { AuthErrorCode, AuthInfo, ClaimCheck, JWTPayload, JwtAuthOptions } from '@jwtauth/core';
