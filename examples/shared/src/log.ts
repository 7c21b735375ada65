import type { AuthErrorCode, AuthEvent } from '@jwtauth/core';

/** The part of a pino logger the examples use: `logger.info(fields, message)` writes one JSON line. */
export interface Logger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/** Refusals that point at a forged or tampered token rather than an expired or missing one. */
const SUSPICIOUS: ReadonlySet<AuthErrorCode> = new Set(['invalid_signature', 'algorithm_not_allowed']);

/**
 * The `onEvent` hook every example passes to `jwtAuth`: one JSON line per event, with the event's
 * fields as they are (`type`, and for `auth.failed` the `code`, `status`, `reason` and the
 * token's claimed `alg`, `kid`, `iss`). Events never carry the token or key material, so neither
 * do the lines. Levels: a refusal is `info`, or `warn` when it points at a forged token or the
 * keys cannot be had (503); a failed key-set fetch and a stale set are `warn`, an expired one `error`.
 */
export function logAuthEvents(logger: Logger): (event: AuthEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'auth.failed':
        if (event.status >= 500 || SUSPICIOUS.has(event.code)) logger.warn(event, 'request refused');
        else logger.info(event, 'request refused');
        return;
      case 'jwks.fetch': {
        // pino serialises an `err` field with its type, message and stack.
        const { error, ...fields } = event;
        if (event.outcome === 'ok') logger.info(fields, 'key set fetched');
        else logger.warn(error === undefined ? fields : { ...fields, err: error }, 'key set fetch failed');
        return;
      }
      case 'jwks.stale':
        if (event.expired) logger.error(event, 'key set expired: its keys no longer verify');
        else logger.warn(event, 'serving a stale key set');
        return;
      case 'jwks.rotated':
        logger.info(event, 'key set rotated');
        return;
    }
  };
}
