import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import type { JwtAuthOptions } from '../options.js';

// RFC 8725 §3.5 / RFC 7518 §3.2-3.3: keys too weak to use, and public keys dressed up as HMAC
// secrets (the key-confusion attack), are refused when the middleware is created.

let rsaPem: string;
let bareSpki: string;
let jwkText: string;
let smallRsa: ReturnType<typeof generateKeyPairSync>;
let smallRsaPem: string;

beforeAll(async () => {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  bareSpki = rsaPem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  jwkText = JSON.stringify(await exportJWK(rsa.publicKey));
  smallRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  smallRsaPem = smallRsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
});

const create = (options: JwtAuthOptions) => () => createAuthenticator(options);

describe('weak or disguised keys are refused at creation', () => {
  it.each<[string, () => JwtAuthOptions, RegExp]>([
    ['a 31-byte HMAC secret', () => ({ secret: 'x'.repeat(31) }), /at least 32 bytes/],
    ['a 1-byte HMAC secret', () => ({ secret: new Uint8Array([1]) }), /at least 32 bytes/],
    ['HS512 asked of a 40-byte secret', () => ({ secret: 'x'.repeat(40), algorithms: ['HS512'] }), /64 for HS512/],
    ['a bare base64 SPKI public key as an HMAC secret', () => ({ secret: bareSpki }), /without PEM armour/],
    ['the JSON text of a public JWK as an HMAC secret', () => ({ secret: jwkText }), /JSON text of a JWK/],
    ['a 1024-bit RSA key as PEM', () => ({ secret: smallRsaPem }), /1024 bits/],
    ['a 1024-bit RSA key as KeyObject', () => ({ secret: smallRsa.publicKey }), /1024 bits/],
    ['a 1024-bit RSA key as JWK', () => ({ secret: smallRsa.publicKey.export({ format: 'jwk' }) }), /1024 bits/],
    ['an oct key in a local JWK Set', () => ({ jwks: { keys: [{ kty: 'oct', k: 'x'.repeat(86) }] } }), /symmetric \(oct\) key/],
    ['HS256 for a remote JWK Set', () => ({ jwks: { uri: 'http://127.0.0.1:9/jwks.json' }, algorithms: ['HS256'] }), /cannot verify HS256/],
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(create(options())).toThrow(TypeError);
    expect(create(options())).toThrow(message);
  });

  it('accepts a base64 HMAC secret that is not a key (openssl rand -base64 48)', () => {
    expect(create({ secret: 'q3Jx0bV7k2s9Xw1YpL8cR4tN6mE0aZ5uH3gF7dS2jK9vB1nM4xC8oP6iU0yT5rW2' })).not.toThrow();
  });

  it('refuses a bare public key returned by a key function, through the error path', async () => {
    const authenticator = createAuthenticator({ secret: () => bareSpki });
    const token = await new SignJWT({ sub: 'attacker' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(bareSpki));
    await expect(authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null)).rejects.toThrow(
      /without PEM armour/,
    );
  });
});
