import type { AuthError } from '../errors.js';

/** A ready-to-send HTTP answer for an {@link AuthError}. */
export interface AuthErrorResponse {
  /** The HTTP status (the error's `status`). */
  status: number;
  /** The headers to send: `Content-Type`, `Content-Length`, and the error's own (`WWW-Authenticate`, `Retry-After`). */
  headers: Record<string, string>;
  /** The JSON body; `undefined` for `HEAD`. */
  body: string | undefined;
}

/**
 * Turns an {@link AuthError} into the status, headers and JSON body every adapter sends.
 * `Content-Length` is the length of the JSON body also for `HEAD` (RFC 9110 §8.6), so every
 * framework frames the answer the same way.
 */
export function toErrorResponse(error: AuthError, method = 'GET'): AuthErrorResponse {
  const json = JSON.stringify(error.toJSON());
  return {
    status: error.status,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(new TextEncoder().encode(json).length),
      ...error.headers,
    },
    body: method.toUpperCase() === 'HEAD' ? undefined : json,
  };
}
