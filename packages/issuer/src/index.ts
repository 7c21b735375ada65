export { createTokenEndpoints } from './endpoints.js';
export type { EndpointAnswer, EndpointRequest, JsonValue, TokenEndpoints } from '@jwtauth/core';
export type { EndpointErrorCode } from './answer.js';
export type { HashingOptions, TokenEndpointsOptions, VerifiedUser, VerifyCredentials } from './options.js';
export type { LoginLimit, ThrottleOptions, ThrottleRedisClient } from './throttle.js';
