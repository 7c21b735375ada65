import { describe, expect, it } from 'vitest';
import { AuthError } from './errors.js';
import { recordAuth, recordedAuth } from './recorded-auth.js';

describe('recordAuth / recordedAuth', () => {
  it('gives nothing for a request no authenticator ran on, whatever its properties say', () => {
    const forged = { auth: { token: 't', header: { alg: 'HS256' }, payload: {}, scopes: ['admin'] } };
    expect(recordedAuth(forged)).toEqual({ auth: undefined, authError: undefined });
  });

  it('gives back what was recorded last, kept out of keys, spreads and JSON', () => {
    const request: Record<string, unknown> = { url: '/' };
    const auth = { token: 't', header: { alg: 'HS256' }, payload: { sub: 'alice' }, scopes: ['read'] };
    recordAuth(request, auth, undefined);
    const error = new AuthError('token_expired');
    recordAuth(request, undefined, error);
    expect(recordedAuth(request)).toEqual({ auth: undefined, authError: error });
    expect([Object.keys(request), JSON.stringify(request), recordedAuth({ ...request })]).toEqual([
      ['url'],
      '{"url":"/"}',
      { auth: undefined, authError: undefined },
    ]);
  });
});
