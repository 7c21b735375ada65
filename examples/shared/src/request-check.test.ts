import { describe, expect, it } from 'vitest';
import { requestProblem, type RequestHead } from './request-check.js';

const head = (url: string, rawHeaders: string[] = ['Host', 'api.example.com'], httpVersion = '1.1'): RequestHead => ({ url, rawHeaders, httpVersion });
const codeOf = (request: RequestHead) => {
  const answer = requestProblem(request);
  return answer === undefined ? undefined : `${answer.status} ${(JSON.parse(answer.body) as { code: string }).code}`;
};

describe('requestProblem', () => {
  it.each([
    '/healthz',
    '/api/hello',
    '/api/slow?ms=20',
    '/healthz?x=%',
    '/healthz?next=/../admin',
    '/healthz#fragment',
    '/nope',
    '//healthz',
    '/healthz/',
    '/a.b/..c/...',
    'http://api.example.com/healthz',
    'https://api.example.com',
    'http://api.example.com?x=1',
  ])('lets %s through', (url) => {
    expect(requestProblem(head(url))).toBeUndefined();
  });

  it.each([
    '/%',
    '/%zz',
    '/api/hello%',
    '/%C0',
    '/%E2%82',
    '/%C0%80',
    '*',
    'api.example.com:443',
    'ftp://x/healthz',
    'http://a b/healthz',
    '/api\\hello',
    '\\healthz',
  ])('answers 400 bad_request to the target %s', (url) => {
    expect(codeOf(head(url))).toBe('400 bad_request');
  });

  it.each(['/api/%68ello', '/%00', '/he%6Clthz', '/./healthz', '/healthz/.', '/healthz/../healthz', '/api/..', 'http://x/./healthz'])(
    'answers 404 not_found to %s: a path no framework may decode or resolve into a route',
    (url) => {
      expect(codeOf(head(url))).toBe('404 not_found');
    },
  );

  it.each([
    ['a name', 'api.example.com'],
    ['a name and port', 'api.example.com:8443'],
    ['capitals', 'API.Example.com'],
    ['an IPv4 address', '127.0.0.1:3000'],
    ['an IPv6 address', '[::1]:3000'],
    ['port 65535', 'localhost:65535'],
  ])('accepts a Host with %s', (_name, host) => {
    expect(requestProblem(head('/healthz', ['Host', host]))).toBeUndefined();
  });

  it.each([
    ['no Host header', []],
    ['two Host headers', ['Host', 'a.example', 'host', 'b.example']],
    ['an empty Host', ['Host', '']],
    ['a space', ['Host', 'a b']],
    ['userinfo', ['Host', 'user@api.example.com']],
    ['a path', ['Host', 'api.example.com/x']],
    ['an empty port', ['Host', 'api.example.com:']],
    ['a port over 65535', ['Host', 'api.example.com:65536']],
    ['an unclosed IPv6 address', ['Host', '[::1']],
    ['an invalid IPv6 address', ['Host', '[::g]']],
  ])('answers 400 bad_request to an HTTP/1.1 request with %s', (_name, rawHeaders) => {
    expect(codeOf(head('/healthz', rawHeaders))).toBe('400 bad_request');
  });

  it('lets an HTTP/1.0 request without Host through (Host is required from HTTP/1.1 on), but not one with two', () => {
    expect(requestProblem(head('/healthz', [], '1.0'))).toBeUndefined();
    expect(codeOf(head('/healthz', ['Host', 'a', 'Host', 'b'], '1.0'))).toBe('400 bad_request');
  });

  it.each([['zip'], ['chunked, gzip'], ['gzip', 'identity']])(
    'answers 400 bad_request to Transfer-Encoding %s (the body length cannot be known)',
    (...codings) => {
      const rawHeaders = ['Host', 'h', ...codings.flatMap((coding) => ['Transfer-Encoding', coding])];
      expect(codeOf(head('/api/token', rawHeaders))).toBe('400 bad_request');
    },
  );

  it.each([['chunked'], ['gzip, chunked'], ['gzip', 'Chunked']])('lets Transfer-Encoding %s through', (...codings) => {
    const rawHeaders = ['Host', 'h', ...codings.flatMap((coding) => ['Transfer-Encoding', coding])];
    expect(requestProblem(head('/api/token', rawHeaders))).toBeUndefined();
  });

  it('answers in the examples JSON shape', () => {
    expect(requestProblem(head('/%'))).toEqual({
      status: 400,
      headers: { 'Content-Type': 'application/json', 'Content-Length': '99' },
      body: '{"error":"invalid_request","error_description":"The request URL is malformed","code":"bad_request"}',
    });
  });
});
