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
      shutdownTimeoutMs: 10000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      maxConnections: 1000,
      logLevel: 'info',
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
      SHUTDOWN_TIMEOUT_MS: '2500',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '50',
      LOG_LEVEL: 'warn',
    };
    expect(loadConfig(env, quiet)).toEqual({
      port: 0,
      host: '::1',
      secret: SECRET,
      accessTokenTtl: 900,
      refreshTokenTtl: 604800,
      trustProxy: 'none',
      shutdownTimeoutMs: 2500,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxConnections: 50,
      logLevel: 'warn',
    });
    expect(loadConfig({ ...env, ACCESS_TOKEN_TTL: '90', REFRESH_TOKEN_TTL: '12h' }, quiet)).toMatchObject({ accessTokenTtl: 90, refreshTokenTtl: 43200 });
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '5 minutes'],
    ['REFRESH_TOKEN_TTL', '1w'],
    ['TRUST_PROXY', 'all'],
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
