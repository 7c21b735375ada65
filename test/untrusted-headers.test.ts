import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeys, now, type Keys } from './fixtures.js';
import { harnesses, type RunningServer } from './harness/index.js';

// RFC 8725 §3.10: a token's own `jku`, `x5u`, `jwk` and `x5c` headers name keys chosen by whoever
// made the token. They are never fetched (no SSRF) and never trusted (no self-signed tokens).

let keys: Keys;
let attacker: { url: string; requests: string[]; close: () => Promise<void> };
let attackerKeys: { privateKey: CryptoKey; jwk: Record<string, unknown> };

beforeAll(async () => {
  keys = await makeKeys();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [attackerKeys.jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attacker = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const pair = await generateKeyPair('ES256', { extractable: true });
  attackerKeys = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'ec-remote', alg: 'ES256' } };
});
afterAll(async () => {
  await keys.close();
  await attacker.close();
});

describe.each(harnesses)('$name adapter', (harness) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ jwks: { uri: keys.jwksUri, timeoutDuration: 2000 } });
  });
  afterAll(() => server?.close());

  it.each<[string, () => Record<string, unknown>]>([
    ['jku pointing at the attacker', () => ({ jku: `${attacker.url}/jwks.json` })],
    ['x5u pointing at the attacker', () => ({ x5u: `${attacker.url}/cert.pem` })],
    ['an embedded jwk of the attacker', () => ({ jwk: attackerKeys.jwk })],
  ])('refuses a token signed by an attacker who names their key with %s, and fetches nothing', async (_, extraHeader) => {
    attacker.requests.length = 0;
    const token = await new SignJWT({ sub: 'admin', exp: now() + 300 })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-remote', ...extraHeader() })
      .sign(attackerKeys.privateKey);
    const response = await fetch(`${server.url}/protected`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_token', code: 'invalid_signature' });
    expect(attacker.requests).toEqual([]);
  });
});

describe('a JWK Set URL that redirects', () => {
  it('is not followed (the set is trusted for where it was configured): 503, and the target is never asked', async () => {
    const redirecting = createServer((_req, res) => {
      res.writeHead(302, { Location: `${attacker.url}/jwks.json` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const server = await harnesses[0]!.start({
      jwks: { uri: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/jwks.json`, timeoutDuration: 2000 },
    });
    try {
      attacker.requests.length = 0;
      const token = await new SignJWT({ sub: 'admin', exp: now() + 300 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-remote' }).sign(attackerKeys.privateKey);
      const response = await fetch(`${server.url}/protected`, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: 'key_unavailable' });
      expect(attacker.requests).toEqual([]);
    } finally {
      await server.close();
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });
});
