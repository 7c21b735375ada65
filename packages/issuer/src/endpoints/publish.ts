import type { EndpointAnswer } from '@jwtauth/core';
import type { TokenIssuer } from '../issuer/options.js';
import { authorizationCodeMetadata } from './authorization-options.js';
import type { JsonEndpointAnswer } from './options.js';

/** Where the JWK Set is served, below the mount point. */
export const JWKS_PATH = '/.well-known/jwks.json';

/** RFC 8414 §3: the well-known segment goes before the issuer's path. */
const METADATA_SEGMENT = '/.well-known/oauth-authorization-server';

/**
 * Verifiers may keep the keys and metadata for five minutes: long enough to spare the issuer a
 * request per token, short enough that a verifier that does not refetch on an unknown `kid` sees
 * a rotation soon. Published documents are public, so shared caches may keep them too.
 */
const PUBLISHED_CACHE_CONTROL = 'public, max-age=300';

/** A public document: 200 with a JSON body that caches may keep briefly (unlike the token answers' `no-store`). */
function published(contentType: string, body: JsonEndpointAnswer['body']): JsonEndpointAnswer {
  return { status: 200, headers: { 'Content-Type': contentType, 'Cache-Control': PUBLISHED_CACHE_CONTROL }, body };
}

/** The answer to `GET <mount>/.well-known/jwks.json`: the issuer's public JWK Set, as RFC 7517 §8.5 registers its media type. */
export async function jwksAnswer(issuer: TokenIssuer): Promise<EndpointAnswer> {
  const { keys } = await issuer.jwks();
  return published('application/jwk-set+json', { keys: keys.map((key) => ({ ...key })) });
}

/** Whether the issuer signs with a private key, so that it has a JWK Set to publish. */
export function publishesKeys(issuer: TokenIssuer): boolean {
  return typeof issuer.jwks === 'function' && typeof issuer.algorithm === 'string' && !issuer.algorithm.startsWith('HS');
}

/** Plain http only on loopback, as core's verifiers allow it (a sidecar, tests). */
function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** The RFC 8414 metadata of an issuer, and where it is served. */
export interface Metadata {
  /** The metadata's path on the issuer's origin. */
  path: string;
  /** The path below the mount point where the mount serves it, when the mount is at the issuer's origin root. */
  mountPath: string | undefined;
  document: JsonEndpointAnswer['body'];
}

/**
 * Checks `publicUrl` against the issuer and builds its metadata; a mistake calls `fail` with what
 * to fix. The absolute URLs come from this configuration only, never from a request's `Host`
 * header: a forged `Host` could otherwise make a shared cache hand out another `jwks_uri`.
 */
export function metadataOf(publicUrl: unknown, issuer: TokenIssuer, fail: (message: string) => never, authorizationCode = false): Metadata {
  let url: URL;
  try {
    url = new URL(publicUrl as string);
  } catch {
    return fail('"publicUrl" must be the absolute URL where the endpoints are mounted, such as "https://auth.example/auth".');
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url)))) {
    fail('"publicUrl" must be an https:// URL (http:// only on loopback): verifiers refuse keys served over plain http.');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || /[?#]/.test(String(publicUrl))) {
    fail('"publicUrl" must be a URL without user name, password, query or fragment, such as "https://auth.example/auth".');
  }
  if (!publishesKeys(issuer)) {
    fail(
      '"publicUrl" publishes metadata for verifiers, but this issuer signs with an HMAC secret, which must never be published: ' +
        'sign with a private key (RS256, ES256, EdDSA), or leave "publicUrl" out.',
    );
  }
  const iss = issuer.verifierOptions.issuer;
  let issuerUrl: URL | undefined;
  try {
    issuerUrl = typeof iss === 'string' ? new URL(iss) : undefined;
  } catch {
    issuerUrl = undefined;
  }
  // RFC 8414 §2: the issuer identifier is an https URL without query or fragment; it is also the
  // `iss` of the tokens, which the metadata must name exactly (§3.3).
  if (issuerUrl === undefined || !(issuerUrl.protocol === 'https:' || (issuerUrl.protocol === 'http:' && isLoopback(issuerUrl))) || /[?#]/.test(String(iss))) {
    fail(
      '"publicUrl" publishes RFC 8414 metadata, whose "issuer" is the tokens\' iss: give the token issuer an https:// URL without query or fragment as "issuer" ' +
        '(createTokenIssuer({ issuer: "https://auth.example" }); http:// only on loopback).',
    );
  }
  if (issuerUrl.protocol === 'https:' && url.protocol !== 'https:')
    fail('"publicUrl" must be https:// when the issuer is: verifiers refuse a jwks_uri weaker than the issuer.');
  const base = url.href.replace(/\/$/, '');
  const issuerPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
  const path = `${METADATA_SEGMENT}${issuerPath}`;
  // The mount can only answer paths below it: the document is inside it only when the mount is the root of the issuer's origin.
  const atRoot = (url.pathname === '/' || url.pathname === '') && url.origin === issuerUrl.origin;
  return {
    path,
    mountPath: atRoot ? path : undefined,
    document: {
      issuer: iss,
      jwks_uri: `${base}${JWKS_PATH}`,
      token_endpoint: `${base}/token`,
      revocation_endpoint: `${base}/token/revoke`,
      // No authorization endpoint: no response type (the member is required, RFC 8414 §2).
      response_types_supported: [],
      // The login at token_endpoint is the resource owner password grant (RFC 6749 §4.3); refresh
      // has its own path, which the refresh_token grant of §6 does not use, so it is not listed.
      grant_types_supported: ['password'],
      // Public clients: no client authentication at the token or revocation endpoint.
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      // With `authorization`: the authorization code grant with PKCE (RFC 8414 §2, RFC 9207).
      ...(authorizationCode ? authorizationCodeMetadata(base) : {}),
    },
  };
}

/** The answer to `GET` at the metadata's path (RFC 8414 §3.2: `application/json`). */
export function metadataAnswer(metadata: Metadata): JsonEndpointAnswer {
  return published('application/json', structuredClone(metadata.document));
}
