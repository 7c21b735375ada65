import type { AuthEvent } from '@jwtauth/core';
import { describe, expect, it } from 'vitest';
import { logAuthEvents, type Logger } from './log.js';

/** A logger that keeps what it is given (the examples pass pino; test/examples.test.ts reads its real lines). */
function recorder() {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields, message });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info') };
  return { lines, logger };
}

describe('logAuthEvents', () => {
  it.each<[AuthEvent, string, string]>([
    [{ type: 'auth.failed', code: 'missing_token', status: 401, reason: 'no token was sent' }, 'info', 'request refused'],
    [{ type: 'auth.failed', code: 'token_expired', status: 401, reason: 'expired', alg: 'HS256' }, 'info', 'request refused'],
    [{ type: 'auth.failed', code: 'insufficient_scope', status: 403, reason: 'scope admin missing' }, 'info', 'request refused'],
    [
      { type: 'auth.failed', code: 'invalid_signature', status: 401, reason: 'signature verification failed', alg: 'HS256', kid: 'k1', iss: 'x' },
      'warn',
      'request refused',
    ],
    [{ type: 'auth.failed', code: 'algorithm_not_allowed', status: 401, reason: 'alg none' }, 'warn', 'request refused'],
    [{ type: 'auth.failed', code: 'key_unavailable', status: 503, reason: 'keys cannot be fetched' }, 'warn', 'request refused'],
    [{ type: 'jwks.fetch', kind: 'jwks', uri: 'https://idp/jwks', outcome: 'ok', durationMs: 12, kids: ['a'] }, 'info', 'key set fetched'],
    [{ type: 'jwks.fetch', kind: 'jwks', uri: 'https://idp/jwks', outcome: 'failed', durationMs: 5000, cause: 'timeout' }, 'warn', 'key set fetch failed'],
    [{ type: 'jwks.stale', uri: 'https://idp/jwks', ageMs: 700000, expired: false }, 'warn', 'serving a stale key set'],
    [{ type: 'jwks.stale', uri: 'https://idp/jwks', ageMs: 90000000, expired: true }, 'error', 'key set expired: its keys no longer verify'],
    [{ type: 'jwks.rotated', uri: 'https://idp/jwks', added: ['b'], removed: ['a'] }, 'info', 'key set rotated'],
  ])('logs %o at %s', (event, level, message) => {
    const { lines, logger } = recorder();
    logAuthEvents(logger)(event);
    expect(lines).toEqual([{ level, fields: event, message }]);
  });

  it('hands a failed fetch its error as `err`, which pino serialises with its stack', () => {
    const { lines, logger } = recorder();
    const error = new Error('connect ECONNREFUSED 127.0.0.1:1');
    logAuthEvents(logger)({
      type: 'jwks.fetch',
      kind: 'jwks',
      uri: 'http://127.0.0.1:1/',
      outcome: 'failed',
      durationMs: 1,
      cause: 'connection_refused',
      error,
    });
    expect(lines).toEqual([
      {
        level: 'warn',
        fields: { type: 'jwks.fetch', kind: 'jwks', uri: 'http://127.0.0.1:1/', outcome: 'failed', durationMs: 1, cause: 'connection_refused', err: error },
        message: 'key set fetch failed',
      },
    ]);
  });
});
