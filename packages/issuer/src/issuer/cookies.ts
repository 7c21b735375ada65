/** Options of {@link refreshCookie} and {@link clearRefreshCookie}. */
export interface RefreshCookieOptions {
  /** Cookie name. Default `refresh_token`. */
  name?: string;
  /** The only path the browser sends it to. Default `/api/token`. */
  path?: string;
  /** `Secure` attribute: sent over HTTPS (and to localhost) only. Default `true`. */
  secure?: boolean;
}

function attributes(options: RefreshCookieOptions, maxAge: number): string {
  const name = options.name ?? 'refresh_token';
  const path = options.path ?? '/api/token';
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`refreshCookie: ${JSON.stringify(name)} is not a cookie name.`);
  if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(path)) throw new TypeError(`refreshCookie: ${JSON.stringify(path)} is not a cookie path.`);
  const secure = options.secure ?? true;
  return `; Path=${path}; Max-Age=${maxAge}; HttpOnly${secure ? '; Secure' : ''}; SameSite=Strict`;
}

/**
 * A `Set-Cookie` value carrying a refresh token: `HttpOnly` (no script reads it), `Secure`,
 * `SameSite=Strict` (never sent on cross-site requests) and limited to the refresh path.
 */
export function refreshCookie(token: string, options: RefreshCookieOptions & { maxAge: number }): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(token)) throw new TypeError('refreshCookie: the token is not a compact JWT.');
  if (!Number.isInteger(options.maxAge) || options.maxAge < 0) throw new TypeError('refreshCookie: maxAge must be whole seconds.');
  return `${options.name ?? 'refresh_token'}=${token}${attributes(options, options.maxAge)}`;
}

/** A `Set-Cookie` value that deletes the refresh cookie (logout). */
export function clearRefreshCookie(options: RefreshCookieOptions = {}): string {
  return `${options.name ?? 'refresh_token'}=${attributes(options, 0)}`;
}
