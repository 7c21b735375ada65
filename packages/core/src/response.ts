import type { AuthError } from './errors.js';

/** A ready-to-send HTTP answer for an {@link AuthError}. */
export interface AuthErrorResponse {
  status: number;
  headers: Record<string, string>;
  /** The JSON body; `undefined` for `HEAD`. */
  body: string | undefined;
}

/** Turns an {@link AuthError} into the status, headers and JSON body every adapter sends. */
export function toErrorResponse(error: AuthError, method = 'GET'): AuthErrorResponse {
  return {
    status: error.status,
    headers: { 'Content-Type': 'application/json', ...error.headers },
    body: method.toUpperCase() === 'HEAD' ? undefined : JSON.stringify(error.toJSON()),
  };
}
