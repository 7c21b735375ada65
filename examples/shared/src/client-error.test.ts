import { describe, expect, it } from 'vitest';
import { clientErrorAnswer } from './client-error.js';

describe('clientErrorAnswer', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_INVALID_METHOD', 400, 'bad_request'],
    ['HPE_INVALID_HEADER_TOKEN', 400, 'bad_request'],
    [undefined, 400, 'bad_request'],
  ])('answers %s with %i %s in the JSON shape', (code, status, expected) => {
    const answer = clientErrorAnswer(code);
    expect(answer.status).toBe(status);
    expect(answer.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: expect.any(String), code: expected });
  });
});
