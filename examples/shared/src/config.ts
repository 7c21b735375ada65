import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

/**
 * Configuration from the environment (see examples/README.md):
 * - `PORT` (default 3000; `0` picks an ephemeral port), `HOST` (default 127.0.0.1)
 * - `JWT_SECRET`: the HS256 secret tokens are signed with, at least 32 characters when set (the
 *   issuer signs HS256 with it); without it a random secret is made for the process, with a
 *   warning, except with `NODE_ENV=production`, where the server refuses to start.
 * - `ACCESS_TOKEN_TTL` (default `5m`), `REFRESH_TOKEN_TTL` (default `1d`): `90`, `30s`, `15m`, `12h`, `7d`
 * - `TRUST_PROXY`: `loopback` (default: trust `X-Forwarded-*` from 127.0.0.0/8 and ::1 only) or `none`
 * - `REDIS_URL`: `redis://` or `rediss://` URL of the Redis server that revocations, logouts and
 *   refresh rotation are shared through; without it they stay in the process's memory
 * - `REUSE_INTERVAL` (default `10s`): how long after a refresh the previous refresh token may be
 *   presented again (concurrent refreshes); `0` is strict rotation
 * - `WORKERS` (default 1): processes serving the port (node:cluster); `auto`: one per CPU. More
 *   than one needs `REDIS_URL`
 * - `DRAIN_DELAY_MS` (default 5000): after SIGTERM/SIGINT, how long the server keeps accepting and
 *   answering (each answer with `Connection: close`, `/healthz` with 503) before it stops listening
 * - `SHUTDOWN_TIMEOUT_MS` (default 10000): how long in-flight requests may run after the server
 *   stopped listening
 * - `HEADERS_TIMEOUT_MS` (default 10000), `REQUEST_TIMEOUT_MS` (default 30000): how long a client
 *   may take to send the request headers, and the whole request
 * - `MAX_CONNECTIONS` (default 1000): open connections beyond this are closed at once
 * - `LOG_LEVEL` (default `info`): the least severe level pino writes
 * - `LOGIN_LIMIT_PER_ADDRESS` (default 20): logins per client address per minute; `off` turns it off
 * - `LOGIN_FAILURES_PER_USERNAME` (default 5): failed logins per username per 15 minutes; `off` turns it off
 * - `HASH_CONCURRENCY` (default 1): password checks (scrypt) running at once; more logins wait, up to 100
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
  /** Where revocations and rotation state are shared between processes; `undefined`: in memory. */
  redisUrl: string | undefined;
  /** Seconds after a refresh during which the previous refresh token is accepted again (`0`: strict). */
  reuseInterval: number;
  /** Processes serving the port; more than 1 runs a node:cluster primary that forks them. */
  workers: number;
  /** After SIGTERM/SIGINT, milliseconds the server goes on accepting and answering (with `Connection: close`). */
  drainDelayMs: number;
  /** After the server stopped listening, milliseconds in-flight requests may still take. */
  shutdownTimeoutMs: number;
  /** The request headers must have arrived this many milliseconds after the connection opened (or the previous request ended). */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must have arrived within this many milliseconds. */
  requestTimeoutMs: number;
  /** Connections the server keeps open at most; more are closed as soon as they open. */
  maxConnections: number;
  logLevel: LogLevel;
  /** Logins per client address per minute; `false`: not limited. */
  loginLimitPerAddress: number | false;
  /** Failed logins per username per 15 minutes; `false`: not limited. */
  loginFailuresPerUsername: number | false;
  /** Password checks running at once. */
  hashConcurrency: number;
}

/** pino's levels, from the most severe; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown for a configuration the server must not start with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const MIN_SECRET_LENGTH = 32;

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** `REUSE_INTERVAL` when it is not set: `@jwtauth/core`'s own default. */
export const DEFAULT_REUSE_INTERVAL = 10;

/** `DRAIN_DELAY_MS` when it is not set. */
export const DEFAULT_DRAIN_DELAY_MS = 5000;

/** What a server reads besides the settings every server shares. */
export interface ConfigNeeds {
  /** `false` for a server that signs with keys of its own (examples/two-services): `JWT_SECRET` is then not read, and `secret` is `''`. */
  secret?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = console.warn, needs: ConfigNeeds = {}): Config {
  const production = env.NODE_ENV === 'production';
  const redisUrl = parseRedisUrl(env.REDIS_URL);
  const workers = parseWorkers(env.WORKERS);
  // Each worker would keep its own revocations: a logout on one would not reach the others.
  if (workers > 1 && redisUrl === undefined) {
    throw new ConfigError(`WORKERS=${env.WORKERS} needs REDIS_URL: with the memory store a logout or a refresh on one worker would not reach the others.`);
  }
  return {
    port: parsePort(env.PORT),
    host: env.HOST || '127.0.0.1',
    secret: needs.secret === false ? '' : loadSecret(env.JWT_SECRET, production, warn),
    accessTokenTtl: parseDuration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 300),
    refreshTokenTtl: parseDuration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL, 86400),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    redisUrl,
    reuseInterval: parseDuration('REUSE_INTERVAL', env.REUSE_INTERVAL, DEFAULT_REUSE_INTERVAL, true),
    workers,
    drainDelayMs: parseMilliseconds('DRAIN_DELAY_MS', env.DRAIN_DELAY_MS, DEFAULT_DRAIN_DELAY_MS),
    shutdownTimeoutMs: parseMilliseconds('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, 10_000),
    ...parseTimeouts(env),
    maxConnections: parsePositive('MAX_CONNECTIONS', env.MAX_CONNECTIONS, 1000),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    loginLimitPerAddress: parseLimit('LOGIN_LIMIT_PER_ADDRESS', env.LOGIN_LIMIT_PER_ADDRESS, 20),
    loginFailuresPerUsername: parseLimit('LOGIN_FAILURES_PER_USERNAME', env.LOGIN_FAILURES_PER_USERNAME, 5),
    hashConcurrency: parsePositive('HASH_CONCURRENCY', env.HASH_CONCURRENCY, 1),
  };
}

/** {@link loadConfig}, or exit 1 with the reason on stderr: what every server does first. */
export function loadConfigOrExit(needs: ConfigNeeds = {}): Config {
  return orExit(() => loadConfig(process.env, console.warn, needs));
}

/** What `load` returns, or exit 1 with the reason on stderr when it throws a {@link ConfigError}. */
export function orExit<T>(load: () => T): T {
  try {
    return load();
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

function parseDuration(name: string, value: string | undefined, fallback: number, zero = false): number {
  if (value === undefined || value === '') return fallback;
  const match = /^(\d+)([smhd]?)$/.exec(value);
  const seconds = match === null ? -1 : Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (!Number.isSafeInteger(seconds) || seconds < 0 || (seconds === 0 && !zero)) {
    const kind = zero ? 'a duration such as 0, 5, 10s or 1m (0: off)' : 'a positive duration such as 300, 30s, 15m, 12h or 7d';
    throw new ConfigError(`${name} must be ${kind}, got "${value}".`);
  }
  return seconds;
}

function parseRedisUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below, without echoing a value that may hold a password
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379.');
  }
  return value;
}

function parseWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  return parsePositive('WORKERS', value, 1);
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

function parsePositive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number === 0) {
    throw new ConfigError(`${name} must be a positive whole number, got "${value}".`);
  }
  return number;
}

/** A positive count, or `off`. */
function parseLimit(name: string, value: string | undefined, fallback: number): number | false {
  return value === 'off' ? false : parsePositive(name, value, fallback);
}

/** 0 would switch Node's timeout off, which is what these settings exist to prevent. */
function parseTimeouts(env: NodeJS.ProcessEnv): Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs'> {
  const headersTimeoutMs = parsePositive('HEADERS_TIMEOUT_MS', env.HEADERS_TIMEOUT_MS, 10_000);
  const requestTimeoutMs = parsePositive('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS, 30_000);
  // Node refuses a server whose headers timeout is longer than its request timeout.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be longer than REQUEST_TIMEOUT_MS (${requestTimeoutMs}).`);
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  const level = LOG_LEVELS.find((name) => name === value);
  if (level === undefined) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}".`);
  return level;
}

function loadSecret(secret: string | undefined, production: boolean, warn: (message: string) => void): string {
  if (secret === undefined || secret === '') {
    if (production) throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production.');
    // Never a secret written in the source: anyone who read it could sign an admin token for a
    // server started without JWT_SECRET by mistake.
    warn(
      'warning: JWT_SECRET is not set; signing tokens with a random secret made for this process. ' +
        'Tokens stop working when it restarts; set JWT_SECRET (32+ characters) to keep them.',
    );
    return randomBytes(32).toString('base64url');
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
