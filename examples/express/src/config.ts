/**
 * Configuration from the environment:
 * - `PORT` (default 3000; `0` picks an ephemeral port)
 * - `HOST` (default 127.0.0.1)
 * - `JWT_SECRET`: the HS256 secret tokens are signed with. Required, at least 32 characters,
 *   when `NODE_ENV=production`; elsewhere a development default is used, with a warning.
 */
export interface Config {
  port: number;
  host: string;
  secret: string;
}

/** Thrown for a configuration the server must not start with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const MIN_SECRET_LENGTH = 32;

/** Known to everyone who reads this file: for local development only. */
const DEVELOPMENT_SECRET = 'dev-only-secret-do-not-use-in-production';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = console.warn): Config {
  const production = env.NODE_ENV === 'production';
  return { port: parsePort(env.PORT), host: env.HOST || '127.0.0.1', secret: loadSecret(env.JWT_SECRET, production, warn) };
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`PORT must be an integer from 0 to 65535, got "${value}".`);
  return port;
}

function loadSecret(secret: string | undefined, production: boolean, warn: (message: string) => void): string {
  if (secret === undefined || secret === '') {
    if (production) throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production.');
    warn('warning: JWT_SECRET is not set; using an insecure development secret. Never do this in production.');
    return DEVELOPMENT_SECRET;
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    const problem = `JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters long (got ${secret.length})`;
    if (production) throw new ConfigError(`${problem}.`);
    warn(`warning: ${problem}; accepted outside production only.`);
  }
  return secret;
}

/** The URL a server bound to `host` and `port` answers on. */
export function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
