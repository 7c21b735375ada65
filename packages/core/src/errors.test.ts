import { describe, expect, it } from 'vitest';
import { AuthError, isAuthError, KEY_UNAVAILABLE_RETRY_AFTER, type AuthErrorCode, type OAuthErrorValue } from './errors.js';
import { toErrorResponse } from './http/response.js';

type Challenge = 'plain' | 'detailed' | 'none';

/** The contract's error table (§2), row by row. */
const TABLE: ReadonlyArray<[AuthErrorCode, number, OAuthErrorValue, Challenge]> = [
  ['missing_token', 401, 'unauthorized', 'plain'],
  ['malformed_header', 400, 'invalid_request', 'detailed'],
  ['multiple_tokens', 400, 'invalid_request', 'detailed'],
  ['malformed_token', 401, 'invalid_token', 'detailed'],
  ['invalid_signature', 401, 'invalid_token', 'detailed'],
  ['algorithm_not_allowed', 401, 'invalid_token', 'detailed'],
  ['token_expired', 401, 'invalid_token', 'detailed'],
  ['token_not_yet_valid', 401, 'invalid_token', 'detailed'],
  ['token_too_old', 401, 'invalid_token', 'detailed'],
  ['claim_invalid', 401, 'invalid_token', 'detailed'],
  ['wrong_token_type', 401, 'invalid_token', 'detailed'],
  ['token_revoked', 401, 'invalid_token', 'detailed'],
  ['user_not_found', 401, 'invalid_token', 'detailed'],
  ['insufficient_scope', 403, 'insufficient_scope', 'detailed'],
  ['key_unavailable', 503, 'temporarily_unavailable', 'none'],
];

describe('AuthError', () => {
  it.each(TABLE)('maps %s to status %i and error %s', (code, status, error) => {
    const failure = new AuthError(code);
    expect(failure.code).toBe(code);
    expect(failure.status).toBe(status);
    expect(failure.statusCode).toBe(status);
    expect(failure.error).toBe(error);
    expect(failure.expose).toBe(true);
    expect(failure.name).toBe('AuthError');
    expect(failure).toBeInstanceOf(Error);
    expect(failure.description).not.toBe('');
    expect(failure.message).toBe(failure.description);
  });

  it.each(TABLE.filter(([, , , challenge]) => challenge === 'plain'))('answers %s with a bare Bearer challenge and no error parameters', (code) => {
    expect(new AuthError(code).headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(new AuthError(code, { realm: 'api' }).headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"' });
  });

  it.each(TABLE.filter(([, , , challenge]) => challenge === 'detailed'))(
    'answers %s with a challenge carrying error and error_description',
    (code, _status, error) => {
      const failure = new AuthError(code, { realm: 'api' });
      expect(Object.keys(failure.headers)).toEqual(['WWW-Authenticate']);
      expect(failure.headers['WWW-Authenticate']).toBe(`Bearer realm="api", error="${error}", error_description="${failure.description}"`);
    },
  );

  it('answers key_unavailable with Retry-After and no challenge', () => {
    const failure = new AuthError('key_unavailable', { realm: 'api' });
    expect(failure.headers).toEqual({ 'Retry-After': String(KEY_UNAVAILABLE_RETRY_AFTER) });
    expect(KEY_UNAVAILABLE_RETRY_AFTER).toBeGreaterThan(0);
  });

  it('adds scope="…" to an insufficient_scope challenge', () => {
    const failure = new AuthError('insufficient_scope', { scopes: ['read:a', 'write:b'] });
    expect(failure.headers['WWW-Authenticate']).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="read:a write:b"$/);
  });

  it('uses a custom description in the message, the body and the challenge', () => {
    const failure = new AuthError('claim_invalid', { description: 'The "iss" claim is invalid' });
    expect(failure.description).toBe('The "iss" claim is invalid');
    expect(failure.message).toBe('The "iss" claim is invalid');
    expect(failure.toJSON().error_description).toBe('The "iss" claim is invalid');
    expect(failure.headers['WWW-Authenticate']).toContain('error_description="The \\"iss\\" claim is invalid"');
  });

  it('keeps the cause for logs', () => {
    const cause = new Error('inner');
    expect(new AuthError('invalid_signature', { cause }).cause).toBe(cause);
    expect('cause' in new AuthError('invalid_signature')).toBe(false);
  });

  it.each(TABLE)('serialises %s to exactly error, error_description and code', (code, _status, error) => {
    const failure = new AuthError(code, { cause: new Error('secret detail'), realm: 'r', scopes: ['s'] });
    const json = failure.toJSON();
    expect(Object.keys(json).sort()).toEqual(['code', 'error', 'error_description']);
    expect(json).toEqual({ error, error_description: failure.description, code });
    const text = JSON.stringify(failure);
    expect(JSON.parse(text)).toEqual(json);
    expect(text).not.toContain('secret detail');
    expect(text).not.toContain('cause');
    expect(text).not.toContain('stack');
  });
});

describe('isAuthError', () => {
  it('recognises an AuthError', () => {
    expect(isAuthError(new AuthError('token_expired'))).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a plain object shaped like one (another realm or package copy)', { name: 'AuthError', code: 'missing_token', status: 401 }],
    ['an Error renamed AuthError with a known code', Object.assign(new Error('x'), { name: 'AuthError', code: 'key_unavailable' })],
  ])('recognises %s', (_, value) => {
    expect(isAuthError(value)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'AuthError'],
    ['a plain Error', new Error('missing_token')],
    ['an object with another name', { name: 'HttpError', code: 'missing_token' }],
    ['an object with an unknown code', { name: 'AuthError', code: 'teapot' }],
    ['an object with a numeric code', { name: 'AuthError', code: 401 }],
    ['an object with no code', { name: 'AuthError' }],
    ['an object with a code but no name', { code: 'missing_token' }],
    ['an Error with a Node-style code', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })],
    ['an object whose code is an inherited property name', { name: 'AuthError', code: 'toString' }],
    ['an object whose code is __proto__', { name: 'AuthError', code: '__proto__' }],
  ])('rejects %s', (_, value) => {
    expect(isAuthError(value)).toBe(false);
  });
});

describe('toErrorResponse', () => {
  it.each(TABLE)('answers %s with its status, JSON body and headers', (code, status, error) => {
    const failure = new AuthError(code, { realm: 'api' });
    const response = toErrorResponse(failure);
    expect(response.status).toBe(status);
    expect(response.headers['Content-Type']).toBe('application/json');
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Content-Length': String(new TextEncoder().encode(response.body).length),
      ...failure.headers,
    });
    expect(JSON.parse(response.body!)).toEqual({ error, error_description: failure.description, code });
  });

  it.each(['HEAD', 'head', 'Head'])('sends no body for a %s request', (method) => {
    const response = toErrorResponse(new AuthError('missing_token'), method);
    expect(response.body).toBeUndefined();
    expect(response.status).toBe(401);
    // The length of the JSON a GET would have carried (RFC 9110 §8.6).
    const length = String(toErrorResponse(new AuthError('missing_token')).body!.length);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json', 'Content-Length': length, 'WWW-Authenticate': 'Bearer' });
  });

  it.each(['GET', 'POST', 'OPTIONS', 'get'])('sends the body for a %s request', (method) => {
    expect(toErrorResponse(new AuthError('missing_token'), method).body).toBeTypeOf('string');
  });

  it('sets Retry-After for key_unavailable', () => {
    const response = toErrorResponse(new AuthError('key_unavailable'));
    expect(response.status).toBe(503);
    expect(response.headers).toEqual({
      'Content-Type': 'application/json',
      'Content-Length': String(response.body!.length),
      'Retry-After': String(KEY_UNAVAILABLE_RETRY_AFTER),
    });
  });
});
