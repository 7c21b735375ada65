import type { RevocationStore } from '@jwtauth/core';
import {
  createTokenEndpoints,
  createTokenIssuer,
  type ThrottleRedisClient,
  type TokenEndpoints,
  type TokenEndpointsOptions,
  type TokenIssuer,
} from '@jwtauth/issuer';
import type { Config } from './config.js';
import { checkCredentials } from './users.js';

/** `iss` of every token the examples issue, and `aud`: the API they protect (RFC 9068 §2.2). */
export const ISSUER = 'urn:jwtauth:example';
export const AUDIENCE = 'urn:jwtauth:example:api';
/** Where every example mounts the token endpoints: `POST /api/token`, `/api/token/refresh`… */
export const TOKEN_PATH = '/api';
export const REFRESH_COOKIE = 'refresh_token';

/** The demo's token issuer and its endpoints, the same in the four examples. */
export interface ExampleAuth<Request> {
  /** `jwtAuth({ ...issuer.verifierOptions })` accepts exactly the live access tokens issued here. */
  issuer: TokenIssuer;
  /** Login, refresh, verify and revoke, for the framework's mount under {@link TOKEN_PATH}. */
  endpoints: TokenEndpoints<Request>;
}

/**
 * The issuer (HS256 with `JWT_SECRET`, revocations and rotation in `store`) and the token endpoints
 * over the demo users, throttled as configured (in Redis when `redis` is given).
 */
export function createExampleAuth<Request>(config: Config, store: RevocationStore, redis?: ThrottleRedisClient): ExampleAuth<Request> {
  const issuer = createTokenIssuer({
    key: config.secret,
    issuer: ISSUER,
    audience: AUDIENCE,
    accessTokenTtl: config.accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl,
    reuseInterval: config.reuseInterval,
    store,
  });
  const endpoints = createTokenEndpoints<Request>({
    issuer,
    ...loginOptions(config, redis),
    refreshCookie: { name: REFRESH_COOKIE, path: `${TOKEN_PATH}/token` },
  });
  return { issuer, endpoints };
}

/**
 * The token endpoints' login options over the demo users: `verifyCredentials` (their `scope` as a
 * claim), the login throttle (in Redis when `redis` is given) and the bound on password hashing,
 * as `config` sets them.
 */
export function loginOptions<Request>(
  config: Config,
  redis?: ThrottleRedisClient,
): Pick<TokenEndpointsOptions<Request>, 'verifyCredentials' | 'throttle' | 'hashing'> {
  return {
    async verifyCredentials(username, password) {
      const user = await checkCredentials(username, password);
      return user === undefined ? null : { subject: user.username, claims: { scope: user.scope } };
    },
    throttle: {
      address: config.loginLimitPerAddress === false ? false : { points: config.loginLimitPerAddress, duration: 60 },
      username: config.loginFailuresPerUsername === false ? false : { points: config.loginFailuresPerUsername, duration: 900 },
      ...(redis === undefined ? {} : { redis, keyPrefix: 'jwtauth:login' }),
    },
    hashing: { concurrency: config.hashConcurrency },
  };
}
