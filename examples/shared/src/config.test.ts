import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, urlFor } from './config.js';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const quiet = () => {};

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }, quiet)).toEqual({
      port: 3000,
      host: '127.0.0.1',
      secret: SECRET,
      accessTokenTtl: 300,
      refreshTokenTtl: 86400,
      trustProxy: 'loopback',
      redisUrl: undefined,
      reuseInterval: 10,
      workers: 1,
      drainDelayMs: 5000,
      shutdownTimeoutMs: 10000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      maxConnections: 1000,
      logLevel: 'info',
      loginLimitPerAddress: 20,
      loginFailuresPerUsername: 5,
      hashConcurrency: 1,
    });
  });

  it('reads every variable', () => {
    const env = {
      JWT_SECRET: SECRET,
      PORT: '0',
      HOST: '::1',
      ACCESS_TOKEN_TTL: '15m',
      REFRESH_TOKEN_TTL: '7d',
      TRUST_PROXY: 'none',
      REDIS_URL: 'rediss://:a-password@redis.internal:6380/2',
      REUSE_INTERVAL: '0',
      WORKERS: '4',
      DRAIN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '2500',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '50',
      LOG_LEVEL: 'warn',
      LOGIN_LIMIT_PER_ADDRESS: '100',
      LOGIN_FAILURES_PER_USERNAME: 'off',
      HASH_CONCURRENCY: '2',
    };
    expect(loadConfig(env, quiet)).toEqual({
      port: 0,
      host: '::1',
      secret: SECRET,
      accessTokenTtl: 900,
      refreshTokenTtl: 604800,
      trustProxy: 'none',
      redisUrl: 'rediss://:a-password@redis.internal:6380/2',
      reuseInterval: 0,
      workers: 4,
      drainDelayMs: 0,
      shutdownTimeoutMs: 2500,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxConnections: 50,
      logLevel: 'warn',
      loginLimitPerAddress: 100,
      loginFailuresPerUsername: false,
      hashConcurrency: 2,
    });
    expect(loadConfig({ ...env, ACCESS_TOKEN_TTL: '90', REFRESH_TOKEN_TTL: '12h' }, quiet)).toMatchObject({ accessTokenTtl: 90, refreshTokenTtl: 43200 });
    expect(loadConfig({ ...env, REUSE_INTERVAL: '30s', WORKERS: 'auto' }, quiet)).toMatchObject({ reuseInterval: 30, workers: availableParallelism() });
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '5 minutes'],
    ['REFRESH_TOKEN_TTL', '1w'],
    ['TRUST_PROXY', 'all'],
    ['REUSE_INTERVAL', '-1'],
    ['REUSE_INTERVAL', '1.5s'],
    ['REUSE_INTERVAL', 'soon'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_URL', '127.0.0.1:6379'],
    ['REDIS_URL', 'redis://'],
    ['WORKERS', '0'],
    ['WORKERS', 'all'],
    ['DRAIN_DELAY_MS', '5s'],
    ['SHUTDOWN_TIMEOUT_MS', '1.5'],
    ['HEADERS_TIMEOUT_MS', '0'],
    ['HEADERS_TIMEOUT_MS', '40000'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['REQUEST_TIMEOUT_MS', '5000'],
    ['MAX_CONNECTIONS', '0'],
    ['MAX_CONNECTIONS', 'many'],
    ['LOG_LEVEL', 'verbose'],
    ['JWT_SECRET', 'x'.repeat(31)],
  ])('refuses %s=%s with a ConfigError naming it', (name, value) => {
    expect(() => loadConfig({ JWT_SECRET: SECRET, [name]: value }, quiet)).toThrow(ConfigError);
    expect(() => loadConfig({ JWT_SECRET: SECRET, [name]: value }, quiet)).toThrow(name);
  });

  it('refuses WORKERS above 1 without REDIS_URL: each worker would keep its own revocations', () => {
    expect(() => loadConfig({ JWT_SECRET: SECRET, WORKERS: '2' }, quiet)).toThrow(/WORKERS=2 needs REDIS_URL/);
    expect(loadConfig({ JWT_SECRET: SECRET, WORKERS: '1' }, quiet).workers).toBe(1);
    expect(loadConfig({ JWT_SECRET: SECRET, WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }, quiet).workers).toBe(2);
  });

  it('never repeats a REDIS_URL it refuses, which may hold a password', () => {
    expect(() => loadConfig({ JWT_SECRET: SECRET, REDIS_URL: 'http://:hunter2-password@cache:6379' }, quiet)).toThrow(ConfigError);
    expect(() => loadConfig({ JWT_SECRET: SECRET, REDIS_URL: 'http://:hunter2-password@cache:6379' }, quiet)).not.toThrow(/hunter2/);
  });

  it('refuses to run in production without JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, quiet)).toThrow(/JWT_SECRET must be set/);
  });

  it('makes a random secret for each process without JWT_SECRET elsewhere, and says so', () => {
    const warnings: string[] = [];
    const first = loadConfig({}, (message) => warnings.push(message)).secret;
    const second = loadConfig({ JWT_SECRET: '' }, (message) => warnings.push(message)).secret;
    // 32 random bytes, base64url: nothing in the source to forge tokens with.
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    expect(warnings).toEqual([
      expect.stringMatching(/^warning: JWT_SECRET is not set; signing tokens with a random secret .* stop working when it restarts/),
      expect.stringMatching(/^warning: JWT_SECRET is not set/),
    ]);
  });
});

describe('urlFor', () => {
  it('brackets IPv6 addresses', () => {
    expect(urlFor('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
    expect(urlFor('::1', 3000)).toBe('http://[::1]:3000');
  });
});
