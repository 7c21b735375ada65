import { ConfigError, urlFor, type Config } from '@jwtauth/example-shared';

/** What an MCP server of this example reads beyond the settings every example shares. */
export interface McpSettings {
  /** The authorization server's issuer (its RFC 8414 metadata names its JWK Set). */
  authIssuer: string;
  /** This MCP server's resource identifier: `<PUBLIC_URL>/mcp`, the audience its tokens must name. */
  resource: string;
}

/**
 * - `AUTH_ISSUER` (required): the authorization server's issuer URL, such as the auth service of
 *   examples/two-services (`http://127.0.0.1:4000`)
 * - `PUBLIC_URL` (default `http://HOST:PORT`; required with `PORT=0`): this server's URL as clients
 *   reach it; the MCP endpoint is `<PUBLIC_URL>/mcp`, which is also the resource identifier
 */
export function loadMcpSettings(config: Config, env: NodeJS.ProcessEnv = process.env): McpSettings {
  if (!env.AUTH_ISSUER) throw new ConfigError("AUTH_ISSUER must be set to the authorization server's issuer URL, such as http://127.0.0.1:4000.");
  const publicUrl = env.PUBLIC_URL || (config.port === 0 ? undefined : urlFor(config.host, config.port));
  if (publicUrl === undefined) throw new ConfigError("PORT=0 needs PUBLIC_URL: the resource identifier is this server's URL, known before it listens.");
  return { authIssuer: env.AUTH_ISSUER, resource: `${publicUrl.replace(/\/$/, '')}/mcp` };
}
