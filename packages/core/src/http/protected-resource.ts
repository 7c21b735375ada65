import { isChallengeSafe } from './challenge.js';
import type { TokenSources } from './token-source.js';
import type { DpopConfig } from '../dpop/config.js';

/** The `resource` option: what this API is, for OAuth clients that discover it (RFC 9728). */
export interface ProtectedResourceOptions {
  /**
   * This resource's identifier (RFC 9728 §2 `resource`, RFC 8707 resource indicator): an https
   * URL without query or fragment (http only on loopback), such as `https://api.example/mcp`.
   * Tokens must name it in `aud`.
   */
  resource: string;
  /** Issuers of the authorization servers that issue tokens for it (`authorization_servers`). */
  authorizationServers?: readonly string[];
  /** Scopes clients may request for it (`scopes_supported`). */
  scopesSupported?: readonly string[];
  /** A name for people (`resource_name`). */
  resourceName?: string;
  /** A page for developers (`resource_documentation`), an https URL. */
  resourceDocumentation?: string;
}

/** The RFC 9728 §2 Protected Resource Metadata document, as served. */
export interface ProtectedResourceMetadata {
  /** This resource's identifier: the `resource` option. */
  resource: string;
  /** Issuers of the authorization servers that issue tokens for it: the `authorizationServers` option. */
  authorization_servers?: string[];
  /** Scopes clients may request for it: the `scopesSupported` option. */
  scopes_supported?: string[];
  /** Where the resource reads bearer tokens (`header`, `body`, `query`), from `tokenFrom`. */
  bearer_methods_supported: string[];
  /** A name for people: the `resourceName` option. */
  resource_name?: string;
  /** A page for developers: the `resourceDocumentation` option. */
  resource_documentation?: string;
  /** The DPoP proof algorithms accepted, with the `dpop` option (RFC 9728 §2). */
  dpop_signing_alg_values_supported?: string[];
  /** `true` with `dpop: { mode: 'required' }`: only DPoP-bound tokens are accepted (RFC 9728 §2). */
  dpop_bound_access_tokens_required?: boolean;
}

/** The answer to `GET` of a metadata path, for the framework to send. */
export interface ProtectedResourceAnswer {
  /** Always 200. */
  status: 200;
  /** `Content-Type: application/json` and a `Cache-Control` of one hour. */
  headers: Readonly<Record<string, string>>;
  /** The document, to serialise as JSON. */
  body: ProtectedResourceMetadata;
}

/** A resource checked once, at creation: its document, where it is served and the challenge's URL. */
export interface ProtectedResource {
  /** The `resource` identifier, which is also the audience tokens must name. */
  readonly resource: string;
  /** `resource_metadata` of every challenge (RFC 9728 §5.1): the metadata's absolute URL. */
  readonly metadataUrl: string;
  /**
   * The paths the document is served at, on the resource's origin: the RFC 9728 §3.1 form (the
   * well-known segment before the resource's path), then, for a resource with a path, the root
   * form that clients fall back to.
   */
  readonly metadataPaths: readonly string[];
  /** The document. */
  readonly metadata: ProtectedResourceMetadata;
  /** The answer to a `GET` (or `HEAD`) of one of {@link metadataPaths}. */
  answer(): ProtectedResourceAnswer;
}

/** RFC 9728 §3: the well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An https URL (http on loopback) without user info, query or fragment, or `undefined`. */
function parseResourceUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || !isChallengeSafe(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.')));
  if (!secure || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || value.includes('#') || value.includes('?'))
    return undefined;
  return url;
}

function stringList(name: string, value: unknown, fail: (message: string) => never): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item !== '' && isChallengeSafe(item))) {
    fail(`"resource.${name}" must be a non-empty array of non-empty strings.`);
  }
  return [...(value as string[])];
}

/**
 * Checks the `resource` option and builds what is served from it. `bearer_methods_supported`
 * follows where the authenticator reads tokens (`tokenFrom`): RFC 6750's `header`, `body` and
 * `query` (a cookie is none of them).
 */
export function protectedResourceFrom(
  options: unknown,
  sources: TokenSources | undefined,
  fail: (message: string) => never,
  dpop?: DpopConfig,
): ProtectedResource {
  if (typeof options !== 'object' || options === null)
    fail('"resource" must be an object such as { resource: "https://api.example/mcp", authorizationServers: ["https://auth.example"] }.');
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!['resource', 'authorizationServers', 'scopesSupported', 'resourceName', 'resourceDocumentation'].includes(name))
      fail(`unknown option "resource.${name}".`);
  }
  const url = parseResourceUrl(given.resource);
  if (url === undefined) {
    fail('"resource.resource" must be an https URL without query or fragment (http only on loopback), such as "https://api.example/mcp".');
  }
  const resource = given.resource as string;
  const authorizationServers = stringList('authorizationServers', given.authorizationServers, fail);
  for (const server of authorizationServers ?? []) {
    if (parseResourceUrl(server) === undefined) fail(`"resource.authorizationServers" must hold issuer URLs (https, http only on loopback), got "${server}".`);
  }
  const scopesSupported = stringList('scopesSupported', given.scopesSupported, fail);
  if (given.resourceName !== undefined && (typeof given.resourceName !== 'string' || given.resourceName === ''))
    fail('"resource.resourceName" must be a non-empty string.');
  if (given.resourceDocumentation !== undefined && parseResourceUrl(given.resourceDocumentation) === undefined) {
    fail('"resource.resourceDocumentation" must be an https URL.');
  }

  // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path (a
  // terminating slash of the path is removed).
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const suffixed = `${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
  const metadataPaths = path === '' ? [PROTECTED_RESOURCE_WELL_KNOWN] : [suffixed, PROTECTED_RESOURCE_WELL_KNOWN];
  const metadataUrl = `${url.origin}${suffixed}`;

  const bearerMethods: string[] = [];
  if (sources === undefined || sources.header !== undefined) bearerMethods.push('header');
  if (sources?.body !== undefined) bearerMethods.push('body');
  if (sources?.query !== undefined) bearerMethods.push('query');
  const metadata: ProtectedResourceMetadata = {
    resource,
    ...(authorizationServers === undefined ? {} : { authorization_servers: authorizationServers }),
    ...(scopesSupported === undefined ? {} : { scopes_supported: scopesSupported }),
    bearer_methods_supported: bearerMethods,
    ...(given.resourceName === undefined ? {} : { resource_name: given.resourceName }),
    ...(given.resourceDocumentation === undefined ? {} : { resource_documentation: given.resourceDocumentation as string }),
    ...(dpop === undefined ? {} : { dpop_signing_alg_values_supported: [...dpop.algorithms], dpop_bound_access_tokens_required: dpop.required }),
  };
  Object.freeze(metadata);
  // An hour: the document changes with a deploy, and clients read it again on a 401 anyway.
  const headers = Object.freeze({ 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=3600' });
  return Object.freeze({
    resource,
    metadataUrl,
    metadataPaths: Object.freeze(metadataPaths),
    metadata,
    answer: () => ({ status: 200 as const, headers, body: metadata }),
  });
}
