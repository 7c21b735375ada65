import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { FORMS, pemBody, rsa, spkiPem, sshLine } from './key-text.fixture.js';
import { createAuthenticator } from '../authenticate.js';
import { prepareKey, type KeyInput } from './keys.js';

// RFC 8725 §3.1: key text used as an HMAC secret lets anyone who can read it sign tokens. Every
// form it has been seen in is refused when the middleware (or the issuer) is created, and when a
// key function returns it.

describe('key text given as an HMAC secret is refused', () => {
  it.each(FORMS)('refuses %s in prepareKey', (_, form, verifyMessage) => {
    expect(prepareKey(form())).toMatch(verifyMessage);
  });

  it.each(FORMS)('refuses %s as "secret" with a TypeError at creation', (_, form, verifyMessage) => {
    const create = () => createAuthenticator({ secret: form() });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/^jwtAuth: "secret": /);
    expect(create).toThrow(verifyMessage);
  });

  it.each(FORMS)('refuses %s inside "issuers"', (_, form, verifyMessage) => {
    const create = () => createAuthenticator({ issuers: { 'https://a.test': { secret: form() } } });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/"issuers\["https:\/\/a\.test"\]\.secret": /);
    expect(create).toThrow(verifyMessage);
  });

  it.each(FORMS)('sends %s returned by a key function to the error path as a TypeError', async (_, form, verifyMessage) => {
    const key = form();
    // The token an attacker signs with the key text itself: it must never verify.
    const token = await new SignJWT({ sub: 'attacker' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
    const authenticator = createAuthenticator({ secret: () => key });
    const request = new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } });
    const outcome = authenticator.authenticate(request, null);
    await expect(outcome).rejects.toThrow(TypeError);
    await expect(authenticator.authenticate(request, null)).rejects.toThrow(verifyMessage);
  });

  it('never repeats the key text in the message', () => {
    const body = pemBody(spkiPem);
    for (const form of [body, Buffer.from(spkiPem), spkiPem.toLowerCase(), sshLine(rsa.publicKey)]) {
      const message = prepareKey(form) as string;
      expect(message).not.toContain(body.slice(40, 80));
      expect(message).not.toContain(body.slice(40, 80).toLowerCase());
    }
  });
});

describe('real secrets are not mistaken for key text', () => {
  const encodings: ReadonlyArray<[string, (bytes: Buffer) => KeyInput]> = [
    ['random bytes', (bytes) => bytes],
    ['a random Uint8Array', (bytes) => new Uint8Array(bytes)],
    ['base64 (openssl rand -base64)', (bytes) => bytes.toString('base64')],
    ['base64url', (bytes) => bytes.toString('base64url')],
    ['hex (openssl rand -hex)', (bytes) => bytes.toString('hex')],
    ['bytes of base64 text', (bytes) => Buffer.from(bytes.toString('base64'))],
  ];
  it.each(encodings)('accepts 3,000 secrets of 32 to 64 random bytes as %s', (_, encode) => {
    for (let i = 0; i < 3000; i++) {
      const secret = encode(randomBytes(32 + (i % 33)));
      const prepared = prepareKey(secret);
      expect(typeof prepared === 'string' ? prepared : 'ok').toBe('ok');
    }
  });

  it.each<[string, string]>([
    ['a passphrase', 'correct horse battery staple and a few more words'],
    ['a passphrase that mentions PEM armour words', 'my BEGIN PUBLIC KEY passphrase is long enough to use'],
    ['JSON that is not a key', '{"purpose":"signing","value":"not a key at all, just config"}'],
    ['a JSON array of strings', '["a-secret-of-thirty-two-bytes-ok!", "another"]'],
    ['a secret with dashes', '--------a-secret-with-many-dashes-in-it--------'],
  ])('accepts %s', (_, secret) => {
    expect(typeof prepareKey(secret)).toBe('object');
  });
});
