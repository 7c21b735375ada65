import { describe, expect, it } from 'vitest';
import { isJson, optionalString, parseJsonObject, refuseBeforeReading, requiredString } from './body.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseJsonObject', () => {
  it.each([
    ['a JSON object as bytes', bytes('{"username":"alice"}')],
    ['a JSON object as a string', '{"username":"alice"}'],
    ['a JSON object after a UTF-8 byte order mark', new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"username":"alice"}')])],
  ])('accepts %s', (_name, body) => {
    expect(parseJsonObject({ body, contentType: 'application/json' })).toEqual({ ok: true, value: { username: 'alice' } });
  });

  it.each([
    ['invalid JSON', bytes('{"username":')],
    ['an empty body', undefined],
    ['a JSON array', bytes('["alice"]')],
    ['JSON null', bytes('null')],
    ['a JSON string', bytes('"alice"')],
    ['bytes that are not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
  ])('answers 400 invalid_json for %s', (_name, body) => {
    const result = parseJsonObject({ body, contentType: 'application/json' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.answer.status).toBe(400);
    expect(JSON.parse(result.answer.body)).toMatchObject({ error: 'invalid_request', code: 'invalid_json' });
  });

  it.each([undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp'])(
    'answers 400 invalid_json for Content-Type %s, whatever the body',
    (contentType) => {
      const result = parseJsonObject({ body: bytes('{"username":"alice"}'), contentType });
      expect(result.ok || JSON.parse(result.answer.body).code).toBe('invalid_json');
    },
  );

  it('builds the answer in the contract shape, key order included', () => {
    const result = parseJsonObject({ body: bytes('[]'), contentType: 'application/json' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.answer).toEqual({
      status: 400,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(result.answer.body.length) },
      body: '{"error":"invalid_request","error_description":"The request body must be a JSON object","code":"invalid_json"}',
    });
  });
});

describe('isJson', () => {
  it.each(['application/json', 'Application/JSON', 'application/json; charset=utf-8', ' application/json ;charset=UTF-8'])(
    'accepts %s',
    (value) => expect(isJson(value)).toBe(true),
  );
  it.each([undefined, '', 'text/json', 'application/json-patch+json', 'application/jsonx'])('refuses %s', (value) =>
    expect(isJson(value)).toBe(false),
  );
});

describe('requiredString / optionalString', () => {
  it('reads an own string member', () => {
    expect(requiredString({ username: 'alice' }, 'username')).toEqual({ ok: true, value: 'alice' });
    expect(requiredString({ username: '' }, 'username')).toEqual({ ok: true, value: '' });
    expect(optionalString({}, 'refresh_in')).toEqual({ ok: true, value: undefined });
    expect(optionalString({ refresh_in: 'cookie' }, 'refresh_in')).toEqual({ ok: true, value: 'cookie' });
  });

  it.each([
    ['missing', {}],
    ['a number', { password: 1 }],
    ['null', { password: null }],
    ['an object', { password: { length: 1 } }],
    ['inherited, not own', Object.create({ password: 'alice-password' }) as Record<string, unknown>],
  ])('answers 400 missing_field when the field is %s', (_name, object) => {
    const result = requiredString(object, 'password');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(JSON.parse(result.answer.body)).toEqual({
      error: 'invalid_request',
      error_description: '"password" is required and must be a string',
      code: 'missing_field',
    });
  });

  it('answers 400 missing_field for an optional field that is present but not a string', () => {
    const result = optionalString({ refresh_in: true }, 'refresh_in');
    expect(result.ok || JSON.parse(result.answer.body).code).toBe('missing_field');
  });
});

describe('Content-Encoding', () => {
  it.each(['gzip', 'br', 'deflate', 'x-unknown'])('answers 400 invalid_json for a %s-encoded body', (contentEncoding) => {
    const result = parseJsonObject({ body: bytes('{}'), contentType: 'application/json', contentEncoding });
    expect(result.ok || JSON.parse(result.answer.body).code).toBe('invalid_json');
  });
  it.each([undefined, 'identity', 'Identity'])('accepts a body with Content-Encoding %s', (contentEncoding) => {
    expect(parseJsonObject({ body: bytes('{}'), contentType: 'application/json', contentEncoding }).ok).toBe(true);
  });
});

describe('refuseBeforeReading', () => {
  const json = { contentLength: '40', contentEncoding: undefined, contentType: 'application/json' };

  it.each([
    ['a JSON body within the limit', json],
    ['a JSON body of exactly 16 KiB', { ...json, contentLength: '16384' }],
    ['a chunked JSON body (no Content-Length)', { ...json, contentLength: undefined }],
    ['Content-Encoding: identity', { ...json, contentEncoding: 'identity' }],
  ])('lets the body be read for %s', (_name, headers) => {
    expect(refuseBeforeReading(headers)).toBeUndefined();
  });

  it.each([
    ['a declared body over 16 KiB', { ...json, contentLength: '16385' }, 413, 'body_too_large'],
    ['a declared 100 MB body', { ...json, contentLength: '100000000' }, 413, 'body_too_large'],
    // Size first: the same 413 whatever else is wrong with the request.
    ['a declared oversized gzip body', { ...json, contentLength: '100000000', contentEncoding: 'gzip' }, 413, 'body_too_large'],
    ['a declared oversized text body', { ...json, contentLength: '100000000', contentType: 'text/plain' }, 413, 'body_too_large'],
    ['a gzip body', { ...json, contentEncoding: 'gzip' }, 400, 'invalid_json'],
    ['a gzip body of another type', { ...json, contentEncoding: 'gzip', contentType: 'text/plain' }, 400, 'invalid_json'],
    ['a text body', { ...json, contentType: 'text/plain' }, 400, 'invalid_json'],
    ['a media type that does not parse', { ...json, contentType: ';;' }, 400, 'invalid_json'],
    ['no Content-Type', { ...json, contentType: undefined }, 400, 'invalid_json'],
  ])('answers %s at once: %i %s, not to be cached', (_name, headers, status, code) => {
    const answer = refuseBeforeReading(headers);
    expect(answer?.status).toBe(status);
    expect(answer?.headers['Cache-Control']).toBe('no-store');
    expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ error: 'invalid_request', code });
  });

  it.each([
    ['413', { ...json, contentLength: '100000000' }],
    ['400 for a Content-Encoding', { ...json, contentEncoding: 'gzip', contentLength: undefined }],
    ['400 for a Content-Type', { ...json, contentType: 'text/plain', contentLength: undefined }],
  ])('closes the connection with a %s, so that the body is never read', (_name, headers) => {
    expect(refuseBeforeReading(headers)?.headers.Connection).toBe('close');
  });

  it('gives the answers parseJsonObject gives for the same headers', () => {
    for (const headers of [{ ...json, contentEncoding: 'gzip' }, { ...json, contentType: 'text/plain' }]) {
      const parsed = parseJsonObject({ body: bytes('{}'), ...headers });
      expect(parsed.ok || parsed.answer.body).toBe(refuseBeforeReading(headers)?.body);
    }
  });
});
