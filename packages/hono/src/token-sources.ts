import type { RequestLike, TokenFrom } from '@jwtauth/core';
import type { Context } from 'hono';
import { getSignedCookie } from 'hono/cookie';

/** The secret Hono's `setSignedCookie` signed the token cookie with. */
export type CookieSecret = string | BufferSource;

function usable(secret: unknown): secret is CookieSecret {
  if (typeof secret === 'string') return secret !== '';
  if (ArrayBuffer.isView(secret) || secret instanceof ArrayBuffer) return secret.byteLength > 0;
  return false;
}

/**
 * Checks the `cookieSecret` adapter option against `tokenFrom` at creation: a signed token
 * cookie needs it, and it means nothing otherwise (a forgotten `signed: true` would read the
 * cookie unverified).
 */
export function checkCookieSecret(secret: unknown, tokenFrom: TokenFrom | undefined): CookieSecret | undefined {
  const cookie = tokenFrom?.cookie;
  const signed = typeof cookie === 'object' && cookie.signed === true;
  if (!signed && secret !== undefined) {
    throw new TypeError('jwtAuth: "cookieSecret" verifies a signed token cookie; set tokenFrom: { cookie: { name, signed: true } }, or remove it.');
  }
  if (signed && !usable(secret)) {
    throw new TypeError('jwtAuth: tokenFrom.cookie is signed: give "cookieSecret", the non-empty secret your setSignedCookie() signs it with.');
  }
  return secret as CookieSecret | undefined;
}

/**
 * The request as core reads it, with Hono's `getSignedCookie` (`tokenFrom.cookie` with `signed:
 * true`) and `c.req.parseBody()` (`tokenFrom.body`). Core only asks for them when configured.
 */
export function requestLike(c: Context, cookieSecret: CookieSecret | undefined): RequestLike {
  const { raw } = c.req;
  return {
    method: raw.method,
    url: raw.url,
    headers: raw.headers,
    // Read (not consumed) to learn whether a form body was sent at all, and only then: under
    // @hono/node-server, `raw.body` turns the lazy request into a full undici Request, which
    // would cost every request more than verifying its token.
    get body() {
      return raw.body;
    },
    // `false` for a bad signature, `undefined` for a value that is not signed at all.
    signedCookie: (name) => getSignedCookie(c, cookieSecret!, name),
    // `all`: a repeated parameter comes as an array (multiple_tokens), not as its last value.
    // The FormData is cached, so a handler's own parseBody() reads it again with its options.
    formBody: () => c.req.parseBody({ all: true }),
  };
}
