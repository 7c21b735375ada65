import type { AuthEvent } from '@jwtauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HS_SECRET, makeKeys, now, sign, type Keys } from './fixtures.js';
import { harnesses, type RunningServer } from './harness/index.js';

// The onEvent hook through every adapter: what operators learn about refused requests, and that
// it never carries the token.

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});
afterAll(() => keys.close());

async function get(url: string, path: string, token?: string): Promise<number> {
  const response = await fetch(`${url}${path}`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

describe.each(harnesses)('$name adapter', (harness) => {
  const events: AuthEvent[] = [];
  let server: RunningServer;
  let remote: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ secret: HS_SECRET, issuer: 'https://issuer.test', onEvent: (event) => void events.push(event) });
    remote = await harness.start({ jwks: { uri: keys.deadJwksUri, timeoutDuration: 2000 }, onEvent: (event) => void events.push(event) });
  });
  afterAll(async () => {
    await server?.close();
    await remote?.close();
  });

  /** The events one request produced. */
  async function eventsOf(request: () => Promise<number>): Promise<{ status: number; events: AuthEvent[] }> {
    events.length = 0;
    const status = await request();
    return { status, events: [...events] };
  }

  it('reports nothing for an accepted token', async () => {
    const token = await sign({ iss: 'https://issuer.test' });
    expect(await eventsOf(() => get(server.url, '/protected', token))).toEqual({ status: 200, events: [] });
  });

  it('reports a missing token', async () => {
    expect(await eventsOf(() => get(server.url, '/protected'))).toEqual({
      status: 401,
      events: [{ type: 'auth.failed', code: 'missing_token', status: 401, reason: 'no token was sent' }],
    });
  });

  it("reports an expired token with jose's reason and the token's alg, kid and iss, never the token", async () => {
    const token = await sign({ iss: 'https://issuer.test', iat: now() - 600, exp: now() - 60 }, { header: { kid: 'k-1' } });
    const seen = await eventsOf(() => get(server.url, '/protected', token));
    expect(seen).toEqual({
      status: 401,
      events: [
        {
          type: 'auth.failed',
          code: 'token_expired',
          status: 401,
          reason: '"exp" claim timestamp check failed',
          alg: 'HS256',
          kid: 'k-1',
          iss: 'https://issuer.test',
        },
      ],
    });
    const logged = JSON.stringify(seen.events);
    for (const part of token.split('.')) expect(logged).not.toContain(part);
  });

  it('reports a forged signature and an unexpected issuer', async () => {
    const forged = await sign({ iss: 'https://issuer.test' }, { key: new TextEncoder().encode('another-secret-of-thirty-two-bytes!!') });
    const stranger = await sign({ iss: 'https://evil.test' });
    const first = await eventsOf(() => get(server.url, '/protected', forged));
    const second = await eventsOf(() => get(server.url, '/protected', stranger));
    expect(first.events).toEqual([
      { type: 'auth.failed', code: 'invalid_signature', status: 401, reason: 'signature verification failed', alg: 'HS256', iss: 'https://issuer.test' },
    ]);
    expect(second.events).toEqual([
      { type: 'auth.failed', code: 'claim_invalid', status: 401, reason: 'unexpected "iss" claim value', alg: 'HS256', iss: 'https://evil.test' },
    ]);
  });

  it('reports a guard refusal with the scope that was missing', async () => {
    const token = await sign({ iss: 'https://issuer.test', scope: 'read' });
    expect(await eventsOf(() => get(server.url, '/admin', token))).toEqual({
      status: 403,
      events: [{ type: 'auth.failed', code: 'insufficient_scope', status: 403, reason: 'scope admin not granted', alg: 'HS256', iss: 'https://issuer.test' }],
    });
  });

  it('cuts attacker-chosen header values to 256 characters', async () => {
    const token = await sign({ iss: 'https://issuer.test', exp: now() - 60 }, { header: { kid: 'k'.repeat(5000) } });
    const seen = await eventsOf(() => get(server.url, '/protected', token));
    expect(seen.events).toMatchObject([{ code: 'token_expired', kid: 'k'.repeat(256) }]);
  });

  it('reports keys that cannot be fetched with the cause', async () => {
    const token = await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } });
    const seen = await eventsOf(() => get(remote.url, '/protected', token));
    expect(seen.status).toBe(503);
    const failed = seen.events.filter((event) => event.type === 'auth.failed');
    expect(failed).toMatchObject([{ type: 'auth.failed', code: 'key_unavailable', status: 503, alg: 'ES256', kid: 'ec-remote' }]);
    expect((failed[0] as { reason: string }).reason).toContain(keys.deadJwksUri);
  });
});
