import { createAuthenticator } from '@jwtauth/core';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { FORMS } from '../../../core/src/keys/key-text.fixture.js';
import { createTokenIssuer } from './issuer.js';
import { prepareSigningKey } from './signing-key.js';

// RFC 8725 §3.1: key text used as an HMAC secret lets anyone who can read it sign tokens. The
// issuer refuses every form core's verifier refuses, with a sentence about signing.
describe("key text given as the issuer's signing key is refused", () => {
  it.each(FORMS)("refuses %s as the issuer's signing key", (_, form, _verify, signMessage) => {
    expect(prepareSigningKey(form())).toMatch(signMessage);
    const create = () => createTokenIssuer({ key: form() });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(signMessage);
  });
});

describe('real secrets are accepted as signing keys', () => {
  it.each<[string, string]>([
    ['a passphrase', 'correct horse battery staple and a few more words'],
    ['a passphrase that mentions PEM armour words', 'my BEGIN PUBLIC KEY passphrase is long enough to use'],
    ['JSON that is not a key', '{"purpose":"signing","value":"not a key at all, just config"}'],
    ['a JSON array of strings', '["a-secret-of-thirty-two-bytes-ok!", "another"]'],
    ['a secret with dashes', '--------a-secret-with-many-dashes-in-it--------'],
  ])('accepts %s', (_, secret) => {
    expect(typeof prepareSigningKey(secret)).toBe('object');
  });
});

describe('signing keys in PEM however they are laid out', () => {
  it.each<[string, (pem: string) => string]>([
    ['a leading newline', (pem) => `\n${pem}`],
    ['every line indented (a template literal)', (pem) => `\n    ${pem.trim().split('\n').join('\n    ')}\n  `],
    ['CRLF line ends and trailing whitespace', (pem) => `${pem.replace(/\n/g, '\r\n')}  \r\n`],
    ['text before the block (openssl pkcs12 output)', (pem) => `Bag Attributes\n    localKeyID: 01 00 00 00\nKey Attributes: <No Attributes>\n${pem}`],
    ['literal \\n escapes (from an environment variable)', (pem) => pem.trim().replace(/\n/g, '\\n')],
  ])('signs with a PKCS #8 PEM with %s, and jwtAuth verifies the token', async (_, layout) => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const issuer = createTokenIssuer({ key: layout(await exportPKCS8(pair.privateKey)) });
    const { accessToken } = await issuer.issue('alice');
    const verifier = createAuthenticator({ secret: await exportJWK(pair.publicKey) });
    const request = new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${accessToken}` } });
    const result = await verifier.authenticate(request, null);
    expect(result.ok).toBe(true);
  });
});
