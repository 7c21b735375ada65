import type { JWTVerifyGetKey } from 'jose';
import type { Emit } from './events.js';
import { createRemoteKeySet, fetchJson, isTrustedScheme, KeysUnavailable, type FetchFunction, type RemoteJwksTiming } from './remote-jwks.js';

/**
 * Where an issuer's metadata may be: OpenID Connect Discovery first, then RFC 8414 OAuth
 * authorization server metadata (which puts the well-known segment before the issuer's path).
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

async function discoverJwksUri(issuer: string, timeout: number, fetchImpl: FetchFunction): Promise<string> {
  for (const url of metadataUrls(issuer)) {
    let metadata: Record<string, unknown>;
    try {
      metadata = await fetchJson(url, timeout, fetchImpl);
    } catch (error) {
      if (error instanceof KeysUnavailable && error.status === 404) continue;
      throw error;
    }
    // OpenID Connect Discovery §4.3 / RFC 8414 §3.3: the document must name the issuer it was asked for.
    if (metadata.issuer !== issuer) throw new KeysUnavailable(`${url} describes another issuer`);
    const jwksUri = metadata.jwks_uri;
    let parsed: URL | undefined;
    try {
      parsed = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
    } catch {
      parsed = undefined;
    }
    // Never a weaker scheme than the issuer's own, and http only on loopback.
    const weaker = parsed !== undefined && new URL(issuer).protocol === 'https:' && parsed.protocol !== 'https:';
    if (parsed === undefined || weaker || !isTrustedScheme(parsed)) throw new KeysUnavailable(`${url} names no usable jwks_uri`);
    return parsed.href;
  }
  throw new KeysUnavailable(`no metadata found for ${issuer}`);
}

/**
 * The key set of an issuer found through its metadata, read once and then used like a remote
 * JWK Set. A failed discovery is retried after `cooldownDuration`; until then it is unavailable.
 */
export function createDiscoveredKeySet(
  issuer: string,
  timing: RemoteJwksTiming = {},
  fetchImpl: FetchFunction = fetch,
  emit?: Emit,
): JWTVerifyGetKey {
  const cooldown = timing.cooldownDuration ?? 30_000;
  let keySet: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  let failedAt: number | undefined;

  function discover(): Promise<JWTVerifyGetKey> {
    if (failedAt !== undefined && Date.now() - failedAt < cooldown) {
      return Promise.reject(new KeysUnavailable(`discovery for ${issuer} failed recently; not asking again yet`));
    }
    pending ??= discoverJwksUri(issuer, timing.timeoutDuration ?? 5_000, fetchImpl)
      .then((jwksUri) => (keySet = createRemoteKeySet(jwksUri, timing, fetchImpl, emit)))
      .catch((error: unknown) => {
        failedAt = Date.now();
        throw error instanceof KeysUnavailable ? error : new KeysUnavailable(`discovery for ${issuer} failed`, { cause: error });
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return async (header, token) => (keySet ?? (await discover()))(header, token);
}
