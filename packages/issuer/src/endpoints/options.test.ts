import { createTokenIssuer } from '@jwtauth/issuer';
import { createTokenEndpoints, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { describe, expect, it } from 'vitest';

const issuer = createTokenIssuer({ key: 'a-test-secret-of-at-least-32-bytes!!' });
const verifyCredentials = () => null;

describe('createTokenEndpoints options', () => {
  it.each([
    ['no options', undefined, /options are required/],
    ['no issuer', { verifyCredentials }, /"issuer" must be a token issuer/],
    ['an issuer that is not one', { issuer: { issue() {} }, verifyCredentials }, /"issuer" must be a token issuer/],
    ['no verifyCredentials', { issuer }, /"verifyCredentials" must be a function/],
    ['a refresh cookie name that is no token', { issuer, verifyCredentials, refreshCookie: { name: 'a b' } }, /"refreshCookie": "a b" is not a cookie name/],
    [
      'a refresh cookie path that is not absolute',
      { issuer, verifyCredentials, refreshCookie: { path: 'token' } },
      /"refreshCookie": "token" is not a cookie path/,
    ],
    ['a refresh cookie that is not an object', { issuer, verifyCredentials, refreshCookie: true }, /"refreshCookie" must be/],
    ['throttle that is not an object', { issuer, verifyCredentials, throttle: 'on' }, /"throttle" must be an object/],
    ['a username limit of 0 points', { issuer, verifyCredentials, throttle: { username: { points: 0, duration: 60 } } }, /"throttle.username.points"/],
    [
      'an address limit of a fractional duration',
      { issuer, verifyCredentials, throttle: { address: { points: 5, duration: 0.5 } } },
      /"throttle.address.duration"/,
    ],
    ['a username limit that is true', { issuer, verifyCredentials, throttle: { username: true } }, /"throttle.username" must be/],
    [
      'a redis option that is no client',
      { issuer, verifyCredentials, throttle: { redis: 'redis://127.0.0.1' } },
      /"throttle.redis" must be a node-redis client/,
    ],
    [
      'an ioredis client',
      { issuer, verifyCredentials, throttle: { redis: { status: 'ready', multi() {}, eval() {} } } },
      /"throttle.redis" must be a node-redis client.*ioredis is not supported/,
    ],
    ['a Redis timeout of 0', { issuer, verifyCredentials, throttle: { redisTimeout: 0 } }, /"throttle.redisTimeout"/],
    ['an empty key prefix', { issuer, verifyCredentials, throttle: { keyPrefix: '' } }, /"throttle.keyPrefix"/],
    ['a concurrency of 0', { issuer, verifyCredentials, hashing: { concurrency: 0 } }, /"hashing.concurrency" must be a whole number, at least 1/],
    ['a negative queue', { issuer, verifyCredentials, hashing: { queue: -1 } }, /"hashing.queue" must be a whole number, at least 0/],
    ['a concurrency of Infinity', { issuer, verifyCredentials, hashing: { concurrency: Infinity } }, /"hashing.concurrency"/],
  ])('throws a TypeError at creation for %s', (_name, options, message) => {
    const create = () => createTokenEndpoints(options as unknown as TokenEndpointsOptions);
    expect(create).toThrow(TypeError);
    expect(create).toThrow(message);
    expect(create).toThrow(/^createTokenEndpoints: /);
  });

  it('accepts the minimal options', () => {
    expect(typeof createTokenEndpoints({ issuer, verifyCredentials }).handle).toBe('function');
  });
});
