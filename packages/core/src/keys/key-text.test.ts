import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { EC_CERTIFICATE } from './test-certificates.js';
import { createAuthenticator } from '../authenticate.js';
import { createTokenIssuer } from '../issuing/issuer.js';
import { prepareKey, type KeyInput } from './keys.js';
import { prepareSigningKey } from '../issuing/signing-key.js';

// RFC 8725 §3.1: key text used as an HMAC secret lets anyone who can read it sign tokens. Every
// form it has been seen in is refused when the middleware (or the issuer) is created, and when a
// key function returns it.



let rsa: { publicKey: KeyObject; privateKey: KeyObject };
let ed: { publicKey: KeyObject; privateKey: KeyObject };
let ec: { publicKey: KeyObject; privateKey: KeyObject };
let spkiPem: string;
let pkcs8Pem: string;

const pemBody = (pem: string) => pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----|\s/g, '');
const der = (key: KeyObject, type: 'spki' | 'pkcs1' | 'pkcs8' | 'sec1') => key.export({ type, format: 'der' } as never) as Buffer;

/** The OpenSSH wire encoding (RFC 4253 §6.6) of a public key, as it appears in `authorized_keys`. */
function sshLine(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, bytes.length >> 8, bytes.length & 255]), bytes]);
  const mpint = (b64url: string) => {
    const bytes = Buffer.from(b64url, 'base64url');
    return field(bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
  };
  if (jwk.kty === 'RSA') {
    return `ssh-rsa ${Buffer.concat([field(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]).toString('base64')} alice@laptop`;
  }
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(Buffer.from(jwk.x!, 'base64url'))]).toString('base64')} alice@laptop`;
}

beforeAll(() => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  ed = generateKeyPairSync('ed25519');
  // A key whose base64 holds + or /, so that its base64url spelling differs (one in about 15 does not).
  do ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  while (!/[+/]/.test(der(ec.publicKey, 'spki').toString('base64')));
  spkiPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  pkcs8Pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
});

/**
 * Each form of key text, the phrase the verifier's message must contain and the phrase the
 * issuer's must contain (both say what the text is or how to pass it).
 */
const FORMS: ReadonlyArray<[string, () => string | Uint8Array, RegExp, RegExp]> = [
  ['a Buffer of an SPKI PEM (readFileSync without an encoding)', () => Buffer.from(spkiPem), /PEM text .*readFileSync\(path, "utf8"\)/, /public key cannot sign/],
  ['a Buffer of a certificate PEM', () => Buffer.from(EC_CERTIFICATE), /PEM text .*readFileSync\(path, "utf8"\)/, /public key cannot sign/],
  ['a Buffer of a PKCS #8 private key PEM', () => Buffer.from(pkcs8Pem), /pass the public key .* as a string/, /PEM text .*readFileSync\(path, "utf8"\)/],
  ['a Uint8Array of a PEM with CRLF line ends', () => new TextEncoder().encode(spkiPem.replace(/\n/g, '\r\n')), /PEM text/, /public key cannot sign/],
  ['a Buffer of a PEM with a byte order mark', () => Buffer.from(`\ufeff${spkiPem}`), /PEM text/, /public key cannot sign/],
  ['a Buffer of lower-case PEM armour', () => Buffer.from(spkiPem.toLowerCase()), /PEM text/, /public key cannot sign/],
  ['the JSON text of a JWK Set', () => JSON.stringify({ keys: [rsa.publicKey.export({ format: 'jwk' })] }), /JSON text of a JWK Set.*jwks: JSON\.parse\(text\)/, /one private JWK/],
  ['the pretty-printed JSON text of a JWK Set', () => `\n  ${JSON.stringify({ keys: [ed.publicKey.export({ format: 'jwk' })] }, null, 2)}\n`, /JSON text of a JWK Set/, /one private JWK/],
  ['a Buffer of a JWK Set file', () => Buffer.from(JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] })), /bytes are text: the JSON text of a JWK Set/, /one private JWK/],
  ['a JSON array of JWKs', () => JSON.stringify([rsa.publicKey.export({ format: 'jwk' })]), /array of JWKs.*jwks: \{ keys: JSON\.parse\(text\) \}/, /one private JWK/],
  ['the JSON text of a JWK', () => JSON.stringify(ec.publicKey.export({ format: 'jwk' })), /JSON text of a JWK.*JSON\.parse/, /parsed private JWK/],
  ['the JSON text of a private JWK', () => JSON.stringify(ec.privateKey.export({ format: 'jwk' })), /JSON text of a JWK/, /parsed private JWK/],
  ['an ssh-rsa public key line', () => sshLine(rsa.publicKey), /OpenSSH public key.*ssh-keygen -e -m PKCS8/, /public key cannot sign/],
  ['an ssh-ed25519 public key line', () => sshLine(ed.publicKey), /OpenSSH public key/, /public key cannot sign/],
  ['an authorized_keys line with options', () => `from="10.0.0.1",no-pty ${sshLine(ed.publicKey)}`, /OpenSSH public key/, /public key cannot sign/],
  ['a Buffer of an id_rsa.pub file', () => Buffer.from(`${sshLine(rsa.publicKey)}\n`), /OpenSSH public key/, /public key cannot sign/],
  ['an RFC 4716 SSH2 public key block', () => `---- BEGIN SSH2 PUBLIC KEY ----\n${sshLine(rsa.publicKey).split(' ')[1]}\n---- END SSH2 PUBLIC KEY ----`, /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  ['base64 PKCS #1 (an RSAPublicKey without SPKI)', () => der(rsa.publicKey, 'pkcs1').toString('base64'), /PKCS #1 RSA public key in base64.*openssl rsa -RSAPublicKey_in/, /public key cannot sign/],
  ['base64 SPKI without armour', () => pemBody(spkiPem), /public key in base64 without PEM armour.*-----BEGIN PUBLIC KEY-----/, /public key cannot sign/],
  ['base64 SPKI on several lines', () => spkiPem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').trim(), /public key in base64 without PEM armour/, /public key cannot sign/],
  ['base64 Ed25519 SPKI (60 characters)', () => der(ed.publicKey, 'spki').toString('base64'), /public key in base64 without PEM armour/, /public key cannot sign/],
  ['base64url SPKI', () => der(ec.publicKey, 'spki').toString('base64url'), /public key in base64url without PEM armour.*- to \+, _ to \//, /public key cannot sign/],
  ['base64url PKCS #1', () => der(rsa.publicKey, 'pkcs1').toString('base64url'), /PKCS #1 RSA public key in base64url/, /public key cannot sign/],
  ['a base64 certificate without armour', () => pemBody(EC_CERTIFICATE), /certificate in base64 without PEM armour.*-----BEGIN CERTIFICATE-----/, /public key cannot sign/],
  ['a base64 PKCS #8 private key without armour', () => pemBody(pkcs8Pem), /private key in base64 without PEM armour.*pass the public key/, /PKCS #8 PEM: its base64 between -----BEGIN PRIVATE KEY-----/],
  ['a base64 PKCS #1 private key', () => der(rsa.privateKey, 'pkcs1').toString('base64'), /private key in base64/, /openssl pkcs8 -topk8 -nocrypt/],
  ['a base64 SEC1 EC private key', () => der(ec.privateKey, 'sec1').toString('base64'), /private key in base64/, /PKCS #8 PEM/],
  ['lower-case PEM armour', () => spkiPem.toLowerCase(), /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  ['lower-case armour around an intact body', () => spkiPem.replace(/PUBLIC KEY/g, 'public key'), /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  ['four-dash PEM armour', () => spkiPem.replace(/-----/g, '----'), /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  ['a PEM cut off before its END line', () => spkiPem.slice(0, 200), /no "-----END PUBLIC KEY-----" line/, /no "-----END PUBLIC KEY-----" line/],
  ['a certificate chain', () => `${EC_CERTIFICATE}\n${EC_CERTIFICATE}`, /2 PEM blocks/, /2 PEM blocks/],
  ['binary DER of a public key (readFileSync("key.der"))', () => der(rsa.publicKey, 'spki'), /public key in binary DER.*createPublicKey/, /public key cannot sign/],
  ['binary DER of a certificate', () => Buffer.from(pemBody(EC_CERTIFICATE), 'base64'), /certificate in binary DER.*X509Certificate/, /public key cannot sign/],
  ['binary DER of a PKCS #8 private key', () => der(ec.privateKey, 'pkcs8'), /private key in binary DER.*pass the public key/, /createPrivateKey/],
  ['a Buffer of base64 SPKI text', () => Buffer.from(pemBody(spkiPem)), /bytes are text: a public key in base64/, /public key cannot sign/],
  ['the JWK Set URL', () => 'https://tenant.example.com/.well-known/jwks.json', /a URL.*jwks: \{ uri \}/, /pass the signing key itself/],
];

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

  it.each(FORMS)('refuses %s as the issuer\'s signing key', (_, form, _verify, signMessage) => {
    expect(prepareSigningKey(form())).toMatch(signMessage);
    const create = () => createTokenIssuer({ key: form() });
    expect(create).toThrow(TypeError);
    expect(create).toThrow(signMessage);
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
    const token = await new SignJWT({ sub: 'attacker' }).setProtectedHeader({ alg: 'HS256' }).sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
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
