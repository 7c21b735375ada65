import type { RequestLike } from '../http/request.js';

const ABSOLUTE = /^https?:\/\//i;

/**
 * The request's URL as the client addressed it, for a DPoP proof's `htu`: `origin` (the
 * `dpop.origin` option) with the request's path, else the absolute URL a Fetch request has,
 * else the adapter's `origin` with the path.
 */
export function requestUrl(request: RequestLike, origin: string | undefined): string {
  const url = request.url ?? '/';
  const absolute = ABSOLUTE.test(url);
  if (origin !== undefined) {
    if (!absolute) return `${origin}${url.startsWith('/') ? url : `/${url}`}`;
    const parsed = new URL(url);
    return `${origin}${parsed.pathname}${parsed.search}`;
  }
  if (absolute) return url;
  if (request.origin === undefined) {
    throw new TypeError('jwtAuth: a DPoP proof needs the URL the client used: set dpop.origin ("https://api.example"), or give the request an origin.');
  }
  return `${request.origin}${url}`;
}
