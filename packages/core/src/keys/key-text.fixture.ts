// Test fixture (not part of the build): every form of key text that has been seen given as an
// HMAC secret, shared by core's verifier tests and @jwtauth/issuer's signing-key tests.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { EC_CERTIFICATE } from './test-certificates.js';

export const pemBody = (pem: string) => pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----|\s/g, '');
const der = (key: KeyObject, type: 'spki' | 'pkcs1' | 'pkcs8' | 'sec1') => key.export({ type, format: 'der' } as never) as Buffer;

/** The OpenSSH wire encoding (RFC 4253 §6.6) of a public key, as it appears in `authorized_keys`. */
export function sshLine(key: KeyObject): string {
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

export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const ed = generateKeyPairSync('ed25519');
/** A P-256 key whose base64 holds + or /, so that its base64url spelling differs (one in about 15 does not). */
export const ec = (() => {
  for (;;) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    if (/[+/]/.test(der(pair.publicKey, 'spki').toString('base64'))) return pair;
  }
})();
export const spkiPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const pkcs8Pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * Each form of key text, the phrase the verifier's message must contain and the phrase the
 * issuer's must contain (both say what the text is or how to pass it).
 */
export const FORMS: ReadonlyArray<[string, () => string | Uint8Array, RegExp, RegExp]> = [
  [
    'a Buffer of an SPKI PEM (readFileSync without an encoding)',
    () => Buffer.from(spkiPem),
    /PEM text .*readFileSync\(path, "utf8"\)/,
    /public key cannot sign/,
  ],
  ['a Buffer of a certificate PEM', () => Buffer.from(EC_CERTIFICATE), /PEM text .*readFileSync\(path, "utf8"\)/, /public key cannot sign/],
  ['a Buffer of a PKCS #8 private key PEM', () => Buffer.from(pkcs8Pem), /pass the public key .* as a string/, /PEM text .*readFileSync\(path, "utf8"\)/],
  ['a Uint8Array of a PEM with CRLF line ends', () => new TextEncoder().encode(spkiPem.replace(/\n/g, '\r\n')), /PEM text/, /public key cannot sign/],
  ['a Buffer of a PEM with a byte order mark', () => Buffer.from(`\ufeff${spkiPem}`), /PEM text/, /public key cannot sign/],
  ['a Buffer of lower-case PEM armour', () => Buffer.from(spkiPem.toLowerCase()), /PEM text/, /public key cannot sign/],
  [
    'the JSON text of a JWK Set',
    () => JSON.stringify({ keys: [rsa.publicKey.export({ format: 'jwk' })] }),
    /JSON text of a JWK Set.*jwks: JSON\.parse\(text\)/,
    /one private JWK/,
  ],
  [
    'the pretty-printed JSON text of a JWK Set',
    () => `\n  ${JSON.stringify({ keys: [ed.publicKey.export({ format: 'jwk' })] }, null, 2)}\n`,
    /JSON text of a JWK Set/,
    /one private JWK/,
  ],
  [
    'a Buffer of a JWK Set file',
    () => Buffer.from(JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] })),
    /bytes are text: the JSON text of a JWK Set/,
    /one private JWK/,
  ],
  [
    'a JSON array of JWKs',
    () => JSON.stringify([rsa.publicKey.export({ format: 'jwk' })]),
    /array of JWKs.*jwks: \{ keys: JSON\.parse\(text\) \}/,
    /one private JWK/,
  ],
  ['the JSON text of a JWK', () => JSON.stringify(ec.publicKey.export({ format: 'jwk' })), /JSON text of a JWK.*JSON\.parse/, /parsed private JWK/],
  ['the JSON text of a private JWK', () => JSON.stringify(ec.privateKey.export({ format: 'jwk' })), /JSON text of a JWK/, /parsed private JWK/],
  ['an ssh-rsa public key line', () => sshLine(rsa.publicKey), /OpenSSH public key.*ssh-keygen -e -m PKCS8/, /public key cannot sign/],
  ['an ssh-ed25519 public key line', () => sshLine(ed.publicKey), /OpenSSH public key/, /public key cannot sign/],
  ['an authorized_keys line with options', () => `from="10.0.0.1",no-pty ${sshLine(ed.publicKey)}`, /OpenSSH public key/, /public key cannot sign/],
  ['a Buffer of an id_rsa.pub file', () => Buffer.from(`${sshLine(rsa.publicKey)}\n`), /OpenSSH public key/, /public key cannot sign/],
  [
    'an RFC 4716 SSH2 public key block',
    () => `---- BEGIN SSH2 PUBLIC KEY ----\n${sshLine(rsa.publicKey).split(' ')[1]}\n---- END SSH2 PUBLIC KEY ----`,
    /PEM armour is not well-formed/,
    /PEM armour is not well-formed/,
  ],
  [
    'base64 PKCS #1 (an RSAPublicKey without SPKI)',
    () => der(rsa.publicKey, 'pkcs1').toString('base64'),
    /PKCS #1 RSA public key in base64.*openssl rsa -RSAPublicKey_in/,
    /public key cannot sign/,
  ],
  ['base64 SPKI without armour', () => pemBody(spkiPem), /public key in base64 without PEM armour.*-----BEGIN PUBLIC KEY-----/, /public key cannot sign/],
  [
    'base64 SPKI on several lines',
    () => spkiPem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').trim(),
    /public key in base64 without PEM armour/,
    /public key cannot sign/,
  ],
  [
    'base64 Ed25519 SPKI (60 characters)',
    () => der(ed.publicKey, 'spki').toString('base64'),
    /public key in base64 without PEM armour/,
    /public key cannot sign/,
  ],
  [
    'base64url SPKI',
    () => der(ec.publicKey, 'spki').toString('base64url'),
    /public key in base64url without PEM armour.*- to \+, _ to \//,
    /public key cannot sign/,
  ],
  ['base64url PKCS #1', () => der(rsa.publicKey, 'pkcs1').toString('base64url'), /PKCS #1 RSA public key in base64url/, /public key cannot sign/],
  [
    'a base64 certificate without armour',
    () => pemBody(EC_CERTIFICATE),
    /certificate in base64 without PEM armour.*-----BEGIN CERTIFICATE-----/,
    /public key cannot sign/,
  ],
  [
    'a base64 PKCS #8 private key without armour',
    () => pemBody(pkcs8Pem),
    /private key in base64 without PEM armour.*pass the public key/,
    /PKCS #8 PEM: its base64 between -----BEGIN PRIVATE KEY-----/,
  ],
  ['a base64 PKCS #1 private key', () => der(rsa.privateKey, 'pkcs1').toString('base64'), /private key in base64/, /openssl pkcs8 -topk8 -nocrypt/],
  ['a base64 SEC1 EC private key', () => der(ec.privateKey, 'sec1').toString('base64'), /private key in base64/, /PKCS #8 PEM/],
  ['lower-case PEM armour', () => spkiPem.toLowerCase(), /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  [
    'lower-case armour around an intact body',
    () => spkiPem.replace(/PUBLIC KEY/g, 'public key'),
    /PEM armour is not well-formed/,
    /PEM armour is not well-formed/,
  ],
  ['four-dash PEM armour', () => spkiPem.replace(/-----/g, '----'), /PEM armour is not well-formed/, /PEM armour is not well-formed/],
  ['a PEM cut off before its END line', () => spkiPem.slice(0, 200), /no "-----END PUBLIC KEY-----" line/, /no "-----END PUBLIC KEY-----" line/],
  ['a certificate chain', () => `${EC_CERTIFICATE}\n${EC_CERTIFICATE}`, /2 PEM blocks/, /2 PEM blocks/],
  [
    'binary DER of a public key (readFileSync("key.der"))',
    () => der(rsa.publicKey, 'spki'),
    /public key in binary DER.*createPublicKey/,
    /public key cannot sign/,
  ],
  ['binary DER of a certificate', () => Buffer.from(pemBody(EC_CERTIFICATE), 'base64'), /certificate in binary DER.*X509Certificate/, /public key cannot sign/],
  ['binary DER of a PKCS #8 private key', () => der(ec.privateKey, 'pkcs8'), /private key in binary DER.*pass the public key/, /createPrivateKey/],
  ['a Buffer of base64 SPKI text', () => Buffer.from(pemBody(spkiPem)), /bytes are text: a public key in base64/, /public key cannot sign/],
  ['the JWK Set URL', () => 'https://tenant.example.com/.well-known/jwks.json', /a URL.*jwks: \{ uri \}/, /pass the signing key itself/],
];
