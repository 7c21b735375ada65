/**
 * Configuration from the environment (see examples/README.md):
 * - `PORT` (default 3000; `0` picks an ephemeral port), `HOST` (default 127.0.0.1)
 * - `JWT_SECRET`: the HS256 secret tokens are signed with, at least 32 characters when set (the
 *   issuer signs HS256 with it); without it a development default is used, with a warning, except
 *   with `NODE_ENV=production`, where the server refuses to start.
 * - `ACCESS_TOKEN_TTL` (default `5m`), `REFRESH_TOKEN_TTL` (default `1d`): `90`, `30s`, `15m`, `12h`, `7d`
 * - `TRUST_PROXY`: `loopback` (default: trust `X-Forwarded-*` from 127.0.0.0/8 and ::1 only) or `none`
 * - `SHUTDOWN_TIMEOUT_MS` (default 10000): how long in-flight requests may run after SIGTERM/SIGINT
 */
export interface Config {
  port: number;
  host: string;
  secret: string;
  /** Seconds. */
  accessTokenTtl: number;
  /** Seconds. */
  refreshTokenTtl: number;
  trustProxy: 'loopback' | 'none';
  shutdownTimeoutMs: number;
}

/** Thrown for a configuration the server must not start with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const MIN_SECRET_LENGTH = 32;

/** Known to everyone who reads this file: for local development only. */
const DEVELOPMENT_SECRET = 'dev-only-secret-do-not-use-in-production';

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = console.warn): Config {
  const production = env.NODE_ENV === 'production';
  return {
    port: parsePort(env.PORT),
    host: env.HOST || '127.0.0.1',
    secret: loadSecret(env.JWT_SECRET, production, warn),
    accessTokenTtl: parseDuration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 300),
    refreshTokenTtl: parseDuration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL, 86400),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    shutdownTimeoutMs: parseMilliseconds('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, 10_000),
  };
}

/** {@link loadConfig}, or exit 1 with the reason on stderr: what every server does first. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${value}".`);
  return port;
}

function parseDuration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const match = /^(\d+)([smhd]?)$/.exec(value);
  const seconds = match === null ? 0 : Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new ConfigError(`${name} must be a positive duration such as 300, 30s, 15m, 12h or 7d, got "${value}".`);
  }
  return seconds;
}

function parseTrustProxy(value: string | undefined): Config['trustProxy'] {
  if (value === undefined || value === '' || value === 'loopback') return 'loopback';
  if (value === 'none') return 'none';
  throw new ConfigError(`TRUST_PROXY must be "loopback" or "none", got "${value}".`);
}

function parseMilliseconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms)) throw new ConfigError(`${name} must be a whole number of milliseconds, got "${value}".`);
  return ms;
}

function loadSecret(secret: string | undefined, production: boolean, warn: (message: string) => void): string {
  if (secret === undefined || secret === '') {
    if (production) throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production.');
    warn('warning: JWT_SECRET is not set; using an insecure development secret. Never do this in production.');
    return DEVELOPMENT_SECRET;
  }
  // Also outside production: the token issuer refuses HS256 secrets shorter than 32 bytes (RFC 7518 §3.2).
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long (got ${secret.length}).`);
  }
  return secret;
}

/** The URL a server bound to `host` and `port` answers on. */
export function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
