import { internals, type Duration } from '@jwtauth/core';
import { internalsOf, type IssuerInternals } from '../issuer/internal.js';
import type { TokenIssuer } from '../issuer/options.js';

/** A public client of the authorization endpoint (no client secret: PKCE stands in for it). */
export interface AuthorizationClient {
  /** The `client_id` it sends. */
  clientId: string;
  /**
   * Where codes may be sent, compared with `redirect_uri` exactly: absolute https URLs (http only
   * on loopback: `http://127.0.0.1:…`, `http://localhost:…`), without fragment.
   */
  redirectUris: string[];
  /** Shown on the sign-in page. Default: the `clientId`. */
  name?: string;
}

/** The `authorization` option of `createTokenEndpoints`: the authorization code grant with PKCE. */
export interface AuthorizationOptions {
  /** The registered public clients. At least one. */
  clients: AuthorizationClient[];
  /** How long a code may be exchanged. Default `"60s"`. */
  codeTtl?: Duration;
  /**
   * The RFC 8707 `resource` values a client may ask for, besides the issuer's `audience`: an
   * access token of such a request has the resource as its `aud`. Default: none.
   */
  resources?: string[];
}

/** The option, checked. */
export interface ResolvedAuthorization {
  clients: Map<string, { redirectUris: string[]; name: string }>;
  codeTtl: number;
  /** The allowed `resource` values: `resources` and the issuer's audience. */
  resources: Set<string>;
  /** The `iss` of the authorization responses (RFC 9207): the issuer's identifier. */
  issuer: string;
  internals: IssuerInternals;
  markUsed: (key: string, expiresAt: number) => boolean | Promise<boolean>;
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** An absolute https URL (http on loopback) without fragment, or the problem with it. */
function urlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url)))) return 'must be https:// (http:// only on loopback)';
  if (value.includes('#')) return 'must not have a fragment';
  return undefined;
}

/** Checks the `authorization` option at creation; a mistake calls `fail` with what to fix. */
export function resolveAuthorization(options: AuthorizationOptions, issuer: TokenIssuer, fail: (message: string) => never): ResolvedAuthorization {
  if (typeof options !== 'object' || options === null) fail('"authorization" must be { clients, codeTtl?, resources? }.');
  if (!Array.isArray(options.clients) || options.clients.length === 0) {
    fail('"authorization.clients" must be a non-empty array of { clientId, redirectUris, name? }.');
  }
  const clients = new Map<string, { redirectUris: string[]; name: string }>();
  for (const [index, client] of options.clients.entries()) {
    const at = `"authorization.clients[${index}]`;
    if (typeof client !== 'object' || client === null) fail(`${at}" must be { clientId, redirectUris, name? }.`);
    if (typeof client.clientId !== 'string' || client.clientId === '') fail(`${at}.clientId" must be a non-empty string.`);
    if (clients.has(client.clientId)) fail(`${at}.clientId" "${client.clientId}" is registered twice.`);
    if (!Array.isArray(client.redirectUris) || client.redirectUris.length === 0) fail(`${at}.redirectUris" must be a non-empty array of URLs.`);
    for (const uri of client.redirectUris) {
      const problem = urlProblem(uri);
      if (problem !== undefined) fail(`${at}.redirectUris": ${JSON.stringify(uri)} ${problem}.`);
    }
    if (client.name !== undefined && (typeof client.name !== 'string' || client.name === '')) fail(`${at}.name" must be a non-empty string.`);
    clients.set(client.clientId, { redirectUris: [...client.redirectUris], name: client.name ?? client.clientId });
  }
  const codeTtl = options.codeTtl === undefined ? 60 : internals.toSeconds(options.codeTtl);
  if (codeTtl === undefined || codeTtl < 1 || codeTtl > 600) fail('"authorization.codeTtl" must be a duration from 1 second to 10 minutes, such as "60s".');
  if (options.resources !== undefined && !Array.isArray(options.resources)) fail('"authorization.resources" must be an array of URLs.');
  const resources = new Set<string>();
  for (const resource of options.resources ?? []) {
    let problem: string | undefined;
    try {
      problem = typeof resource !== 'string' ? 'must be a string' : resource.includes('#') ? 'must not have a fragment' : (new URL(resource), undefined);
    } catch {
      problem = 'must be an absolute URL';
    }
    if (problem !== undefined) fail(`"authorization.resources": ${JSON.stringify(resource)} ${problem} (RFC 8707 §2).`);
    resources.add(resource);
  }
  const audience = issuer.verifierOptions.audience;
  for (const value of audience === undefined ? [] : Array.isArray(audience) ? audience : [audience]) resources.add(value);
  const iss = issuer.verifierOptions.issuer;
  if (typeof iss !== 'string' || urlProblem(iss) !== undefined) {
    fail(
      '"authorization" sends the issuer\'s identifier as "iss" with every code (RFC 9207): give the token issuer an https:// URL as "issuer" ' +
        '(createTokenIssuer({ issuer: "https://auth.example" }); http:// only on loopback).',
    );
  }
  const found = internalsOf(issuer);
  if (found === undefined) fail('"authorization" needs a token issuer made by createTokenIssuer() of @jwtauth/issuer.');
  const store = issuer.store;
  if (typeof store?.markUsed !== 'function') {
    fail('"authorization" needs a revocation store with markUsed() (MemoryRevocationStore, or @jwtauth/redis): each code is used once.');
  }
  return { clients, codeTtl, resources, issuer: iss, internals: found, markUsed: (key, expiresAt) => store.markUsed!(key, expiresAt) };
}

/** The RFC 8414 members of the authorization code grant, for endpoints mounted at `base`. */
export function authorizationCodeMetadata(base: string): Record<string, string | string[] | boolean> {
  return {
    authorization_endpoint: `${base}/authorize`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['password', 'authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
  };
}
