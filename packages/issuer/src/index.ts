export { createTokenEndpoints } from './endpoints.js';
export type { EndpointRequest, TokenEndpoints } from './endpoints.js';
export type { EndpointAnswer, EndpointErrorCode, JsonValue } from './answer.js';
export type { HashingOptions, TokenEndpointsOptions, VerifiedUser, VerifyCredentials } from './options.js';
export type { LoginLimit, ThrottleOptions, ThrottleRedisClient } from './throttle.js';
