import type { JWTVerifyGetKey } from 'jose';
import { Backoff } from './backoff.js';
import type { Emit } from '../events.js';
import { failureMessage, fetchDocument, isTrustedScheme, KeysUnavailable, type DocumentRequest, type FetchFunction } from './fetch-document.js';
import { createRemoteKeySet, REMOTE_JWKS_DEFAULTS, withCandidateLimit, type RemoteJwksTiming } from './remote-jwks.js';

/**
 * Where an issuer's metadata may be: OpenID Connect Discovery first, then RFC 8414 OAuth
 * authorization server metadata (which puts the well-known segment before the issuer's path).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [`${url.origin}${path}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`];
}

/** The `jwks_uri` of metadata that describes `issuer`; anything else is `invalid_metadata`. */
function jwksUriOf(metadata: Record<string, unknown>, issuer: string, request: DocumentRequest): string {
  const invalid = (detail: string) => new KeysUnavailable(failureMessage(request, 'invalid_metadata', detail), { failure: 'invalid_metadata' });
  // OpenID Connect Discovery §4.3 / RFC 8414 §3.3: the document must name the issuer it was asked for.
  if (metadata.issuer !== issuer) throw invalid(`(it describes another issuer than ${issuer})`);
  const jwksUri = metadata.jwks_uri;
  let parsed: URL | undefined;
  try {
    parsed = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) throw invalid('(no jwks_uri URL)');
  // Never a weaker scheme than the issuer's own, and http only on loopback.
  const weaker = new URL(issuer).protocol === 'https:' && parsed.protocol !== 'https:';
  if (weaker || !isTrustedScheme(parsed)) throw invalid('(its jwks_uri is not https)');
  // fetch refuses URLs with credentials: such a jwks_uri could never be read.
  if (parsed.username !== '' || parsed.password !== '') throw invalid('(its jwks_uri holds a user name or password)');
  return parsed.href;
}

async function discoverJwksUri(issuer: string, timeout: number, fetchImpl: FetchFunction, emit: Emit | undefined): Promise<string> {
  for (const url of metadataUrls(issuer)) {
    const request: DocumentRequest = { url, kind: 'metadata', timeout, fetchImpl, emit };
    try {
      return await fetchDocument(request, (metadata) => jwksUriOf(metadata, issuer, request));
    } catch (error) {
      if (error instanceof KeysUnavailable && error.status === 404) continue;
      throw error;
    }
  }
  throw new KeysUnavailable(`no metadata found for ${issuer}: ${metadataUrls(issuer).join(' and ')} both answered 404`, {
    failure: 'http_status',
    status: 404,
  });
}

/**
 * The key set of an issuer found through its metadata, read once and then used like a remote
 * JWK Set. A failed discovery is retried after a backoff that starts at an eighth of
 * `cooldownDuration` and doubles up to it; until then tokens fail with {@link KeysUnavailable}.
 */
export function createDiscoveredKeySet(issuer: string, timing: RemoteJwksTiming = {}, fetchImpl: FetchFunction = fetch, emit?: Emit): JWTVerifyGetKey {
  const backoff = new Backoff(timing.cooldownDuration ?? REMOTE_JWKS_DEFAULTS.cooldownDuration);
  let keySet: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;

  function discover(): Promise<JWTVerifyGetKey> {
    if (backoff.waiting()) {
      const last = backoff.lastError;
      return Promise.reject(new KeysUnavailable(`discovery for ${issuer} failed (${last?.message}); next try in ${backoff.remaining()} ms`, { cause: last }));
    }
    pending ??= discoverJwksUri(issuer, timing.timeoutDuration ?? REMOTE_JWKS_DEFAULTS.timeoutDuration, fetchImpl, emit)
      .then((jwksUri) => {
        backoff.succeeded();
        return (keySet = createRemoteKeySet(jwksUri, timing, fetchImpl, emit));
      })
      .catch((error: unknown) => {
        const unavailable = error instanceof KeysUnavailable ? error : new KeysUnavailable(`discovery for ${issuer} failed`, { cause: error });
        backoff.failed(unavailable);
        throw unavailable;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => (keySet ?? (await discover()))(header, token);
  return withCandidateLimit(getKey, timing.maxCandidates);
}
