import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, urlFor, type Config } from '@jwtauth/example-shared';
import type { AuthorizationClient, PreviousKey } from '@jwtauth/issuer';

/** `aud` of the tokens the auth service issues, and what the API requires: the API they are for (RFC 9068 §2.2). */
export const DEFAULT_AUDIENCE = 'urn:jwtauth:example:api';

/** The keys the auth service signs with, as `KEYS_FILE` holds them. */
export interface SigningKeys {
  /** The current signing key, a PKCS #8 PEM private key. */
  key: string;
  /** Keys still published and accepted: the one replaced in a rotation, or the next one before it signs. */
  previousKeys: PreviousKey[];
}

/** What the auth service reads beyond the settings every example shares. */
export interface AuthServiceSettings {
  /** Its own URL as clients reach it: the tokens' `iss`, and where its metadata says its endpoints are. */
  publicUrl: string;
  keys: SigningKeys;
  audience: string;
  /** The public OAuth clients of the authorization code grant (MCP clients, browser apps); none: the grant is off. */
  oauthClients: AuthorizationClient[];
}

/** What the API service reads beyond the settings every example shares. */
export interface ApiServiceSettings {
  /** The auth service's `iss`, whose metadata (RFC 8414) names its JWK Set. */
  authIssuer: string;
  audience: string;
}

/**
 * The auth service's settings:
 * - `PUBLIC_URL`: its URL as clients and the API reach it (default `http://HOST:PORT`; required with `PORT=0`)
 * - `KEYS_FILE`: a JSON file `{"key": "<PKCS #8 PEM>", "previousKeys": [{"key": "<PEM>", "retiredAt": "<ISO date>"}]}`,
 *   read when a worker starts, so a rotation is: write the file, then SIGHUP (workers restart one
 *   at a time). Without it, a throwaway Ed25519 key for this process (refused with `WORKERS` > 1
 *   and in production: each process would sign with a key the others do not publish).
 * - `AUDIENCE` (default `urn:jwtauth:example:api`)
 * - `OAUTH_CLIENTS`: a JSON array `[{"clientId": "…", "redirectUris": ["…"], "name": "…"}]` of the
 *   public clients of the authorization code grant with PKCE (default none: the grant is off)
 */
export function loadAuthServiceSettings(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = console.warn,
): AuthServiceSettings {
  const publicUrl = env.PUBLIC_URL || (config.port === 0 ? undefined : urlFor(config.host, config.port));
  if (publicUrl === undefined) throw new ConfigError('PORT=0 needs PUBLIC_URL: the tokens name this service by its URL before it listens.');
  return {
    publicUrl: parseUrl('PUBLIC_URL', publicUrl),
    keys: loadKeys(config, env, warn),
    audience: env.AUDIENCE || DEFAULT_AUDIENCE,
    oauthClients: parseClients(env.OAUTH_CLIENTS),
  };
}

/**
 * The API service's settings:
 * - `AUTH_ISSUER` (required): the auth service's `PUBLIC_URL`
 * - `AUDIENCE` (default `urn:jwtauth:example:api`)
 */
export function loadApiServiceSettings(env: NodeJS.ProcessEnv = process.env): ApiServiceSettings {
  if (!env.AUTH_ISSUER) throw new ConfigError("AUTH_ISSUER must be set to the auth service's URL, such as http://127.0.0.1:4000.");
  return { authIssuer: parseUrl('AUTH_ISSUER', env.AUTH_ISSUER), audience: env.AUDIENCE || DEFAULT_AUDIENCE };
}

/** `OAUTH_CLIENTS`, read as JSON; the issuer checks each redirect URI when it starts. */
function parseClients(value: string | undefined): AuthorizationClient[] {
  if (value === undefined || value === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError('OAUTH_CLIENTS must be JSON: [{"clientId": "my-app", "redirectUris": ["http://127.0.0.1:8765/callback"]}].');
  }
  const valid = (client: unknown) => {
    const { clientId, redirectUris } = (client ?? {}) as Partial<AuthorizationClient>;
    return typeof clientId === 'string' && Array.isArray(redirectUris) && redirectUris.every((uri) => typeof uri === 'string');
  };
  if (!Array.isArray(parsed) || !parsed.every(valid)) {
    throw new ConfigError('OAUTH_CLIENTS must be an array of { "clientId": string, "redirectUris": [string], "name"?: string }.');
  }
  return parsed as AuthorizationClient[];
}

function parseUrl(name: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // Reported below.
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`${name} must be an http(s) URL without query or fragment, such as https://auth.example, got "${value}".`);
  }
  // As given: it is compared with `iss` character for character.
  return value;
}

function loadKeys(config: Config, env: NodeJS.ProcessEnv, warn: (message: string) => void): SigningKeys {
  const path = env.KEYS_FILE;
  if (path === undefined || path === '') {
    if (env.NODE_ENV === 'production') throw new ConfigError('KEYS_FILE must be set when NODE_ENV=production.');
    if (config.workers > 1) throw new ConfigError('WORKERS > 1 needs KEYS_FILE: each worker would otherwise sign with a key of its own.');
    warn('warning: KEYS_FILE is not set; signing with an Ed25519 key made for this process. Tokens stop verifying when it restarts.');
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { key, previousKeys: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`KEYS_FILE ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  const file = parsed as { key?: unknown; previousKeys?: unknown };
  const previous = file.previousKeys ?? [];
  const isPrevious = (entry: unknown) =>
    typeof entry === 'object' && entry !== null && typeof (entry as PreviousKey).key === 'string' && typeof (entry as PreviousKey).retiredAt === 'string';
  if (typeof file.key !== 'string' || !Array.isArray(previous) || !previous.every(isPrevious)) {
    throw new ConfigError(`KEYS_FILE ${path} must hold {"key": "<PEM>", "previousKeys": [{"key": "<PEM>", "retiredAt": "<ISO date>"}]}.`);
  }
  return { key: file.key, previousKeys: previous as PreviousKey[] };
}
