import { describe, expect, it } from 'vitest';
import { admin, healthz, hello, slowDelay } from './api.js';
import { notFound } from './answer.js';
import { isLoopback } from './proxy.js';

describe('answers', () => {
  it('builds the spec bodies, key order included', () => {
    const auth = { payload: { sub: 'alice' }, scopes: ['read'] };
    expect(hello(auth).body).toBe('{"message":"Hello, alice!","sub":"alice","scopes":["read"]}');
    expect(admin({ payload: { sub: 'admin' }, scopes: ['read', 'admin'] }).body).toBe('{"message":"Welcome, admin admin."}');
    expect(notFound()).toMatchObject({ status: 404, body: '{"error":"not_found","error_description":"There is nothing at this address","code":"not_found"}' });
  });
});

describe('slowDelay', () => {
  it.each([
    ['/api/slow?ms=250', 250],
    ['/api/slow?ms=10000', 10000],
    ['/api/slow?ms=10001', 10000],
    ['/api/slow?ms=99999999999999999999', 10000],
    ['/api/slow?ms=0', 0],
    ['/api/slow', 0],
    ['/api/slow?ms=', 0],
    ['/api/slow?ms=-5', 0],
    ['/api/slow?ms=1.5', 0],
    ['/api/slow?ms=soon', 0],
    ['/api/slow?ms=20&ms=30', 20],
    ['http://127.0.0.1:3000/api/slow?ms=40', 40],
  ])('waits for %s: %i ms', (url, ms) => {
    expect(slowDelay(url)).toBe(ms);
  });
});

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });
  it.each([undefined, '', '10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost', '127.0.0.1.example'])('%s is not', (address) => {
    expect(isLoopback(address)).toBe(false);
  });
});

describe('healthz', () => {
  it('answers 200 ok, and 503 draining once the process is shutting down', () => {
    expect(healthz(false)).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(healthz(true)).toMatchObject({ status: 503, body: '{"status":"draining"}', headers: { 'Retry-After': '1' } });
  });
});
