import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, generateSecret, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { EC_CERTIFICATE } from './test-certificates.js';
import { readPem, type PemKind } from './pem.js';
import { isKeyShaped, jwkAlgorithms, prepareKey, type KeyInput, type PreparedKey } from './keys.js';

const RS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const HS = ['HS256', 'HS384', 'HS512'];
/** Long enough for every HMAC algorithm. */
const SECRET_64 = 'a-secret-of-sixty-four-bytes-long-enough-for-hs512-and-the-rest!';
const ED = ['EdDSA', 'Ed25519'];

/** Self-signed certificates made once with `openssl req -x509` (valid until 2126). */
const CERTIFICATES = {
  rsa: `-----BEGIN CERTIFICATE-----
MIIC/zCCAeegAwIBAgIUcnQeoi4nLWvShhXBSM1ZJtFvkukwDQYJKoZIhvcNAQEL
BQAwDjEMMAoGA1UEAwwDcnNhMCAXDTI2MTEyMzExMzEzMFoYDzIxMjYxMDMwMTEz
MTMwWjAOMQwwCgYDVQQDDANyc2EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK
AoIBAQDbizbQzfG6sNtBMo5NIRRkKEcniTO+He+qUEkofcanMXev/wNPYM8ezIHb
S5zGUC6mOSAyesVvkiNqH3CtzcrfuUNsJ/Q7+0yw7rKmD5GW6GMNHEav+jaN5Wmt
h5YcSfNd8CRjGz24TfQR78sgslWR5KpDi2ymG7yFbRVam8Sxo3j6ga9DcbxmMpQK
UDjTuEV/3ZUB2RpfeX+BdcImai4y3tctYEBzaem79VukcIxoM0pGb2fC+YOGzyc5
iDvvOdZWdqjcrrgxFjzQ/Q6vlb7ndirmkULZYByiezcK7GVVDTJCwyafvDIfQSCf
khv9fFng+6vkfaShUxcI7pb+isf5AgMBAAGjUzBRMB0GA1UdDgQWBBQSAJMo11F0
0IIi+gvkpwRgbLVjfjAfBgNVHSMEGDAWgBQSAJMo11F00IIi+gvkpwRgbLVjfjAP
BgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBg5UFq6CQicclfv45A
mqjR68AlFP6142135ENTSkJ8oRlBUQzfo10sTebwygIzYV3C9mlu2jIXvlTLR6Cr
BU/I3Q5ICASCwgbu4c2vYQM9bf6Zh9LGYky/8uIJIqmp6iLAOKUGekZZMw0dSP9K
gFzXntAL2iuHHFqAHTKWjcB0yZj4cs+QKHUYp6NCRDWLb2CA206RXwhPHszHRaPU
yGuvmQPkMMJTYYb2TqKt1RrVxkkkJDjmFfU2hdcD+4cXg8cL+97Zcp8RAE/qFJ/G
MKiEEW3ZW7da8+McVKvVEzVvVtpxhnA2fXUD6z+LgXsJQQNB2E1XL3eYmWAwA+Mc
BO7w
-----END CERTIFICATE-----`,
  ec: EC_CERTIFICATE,
  /** A P-256 leaf signed by an Ed25519 CA: the issuer's signature OID is also a key OID. */
  ecSignedByEd25519: `-----BEGIN CERTIFICATE-----
MIIBCjCBvQIUQg02D+LjvNO3I1bGxITK19lGpFQwBQYDK2VwMBAxDjAMBgNVBAMM
BWVkLWNhMCAXDTI2MTEyMzExMzk0MVoYDzIxMjYxMDMwMTEzOTQxWjAPMQ0wCwYD
VQQDDARsZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq9z6/U1dZ1bq8y7v
vmfclmCFkQGTpMDXBkUVUKL9CZf8pnkDi4HYrzXZFwFAaHYyWoVi3t0j8g7k4CAM
HmH58zAFBgMrZXADQQAVslVgWDFm6uoQjqAyd9RA/kZfvajASOsHyrNssWGFD+qZ
T1N55GbS7h63ytYbatWKd6Oav44Qml7o/gNJV0MJ
-----END CERTIFICATE-----`,
  /** An RSA leaf signed with RSASSA-PSS: the signature OID is the RSA-PSS key OID. */
  rsaSignedWithPss: `-----BEGIN CERTIFICATE-----
MIIDGjCCAc0CFAIm7dt5BXMU/DtxYcu11RP+ZpFLMEIGCSqGSIb3DQEBCjA1oA8w
DQYJYIZIAWUDBAIBBQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAIBBQCiBAIC
AN4wDjEMMAoGA1UEAwwDcmNhMCAXDTI2MTEyMzExMzk0MVoYDzIxMjYxMDMwMTEz
OTQxWjAZMRcwFQYDVQQDDA5yc2EtcHNzLXNpZ25lZDCCASIwDQYJKoZIhvcNAQEB
BQADggEPADCCAQoCggEBANeoGsPROA6b5fFrgYbW7Xbd6AOzQxMLs25EP0isVzko
Ayy8Z8pS8HCXzVc0lymJD+DsA5ea0kUg//4ZHsT+OyiE2kESglKfJEJHZV88cvcE
omFY/4/Qy5x2lIsfHjLtsZvFKTmSXywJAxNv/woFlR9Lu1ox2ePxN4yfPbncvaXJ
Mzd0YngzV/Lvvy+IHKimjdpwLhA5zn4VoU+21AmR5aobG/ZFJ1KGRWUlhKNOYIiY
NcHaYH8xWz48vBcycW718nZ2N1Lj0eQKtkGfenp1yaW0PX+fyIfafQlsqT+4OqrY
jnO4nIG7rULiE2BS97324EeR1Vwmi5XGNwpLOG5PircCAwEAATBCBgkqhkiG9w0B
AQowNaAPMA0GCWCGSAFlAwQCAQUAoRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQC
AQUAogQCAgDeA4IBAQCdXgDbKXFKKttJj5qNNJRyHWd10yHpvjXB96kgTfDItREp
IyO0iFNw2aSTeiGj4Iy+ECQK4fEJh3/gI1cbJMKxVgU1PYSbxMRV3xfJpp5ioxYJ
I7+QG5YoOcubppcEJVo8Z+OIseHLc2vj8NyuODgB2sWAvyKeeryZyzMM6FPZXcw7
pVL3DK1nMUGLDY/YYBic0gJQrzBvEC35jmKWdD4JSye0xnD2woW3Be8CidQX3quM
Nw87MgXcw2GVsSBHk7tlu+ynnlWYR3jkaM5c/jRwUskNq/WZkrJZc7tLmthmf5Fr
hKXiyJ4EGedtErcU8kikxAje6kUdiUnRVM6tBNFD
-----END CERTIFICATE-----`,
  ed25519: `-----BEGIN CERTIFICATE-----
MIIBMDCB46ADAgECAhR69TNV0ZdpMVVIJ3KnRz0SDn4OWjAFBgMrZXAwDTELMAkG
A1UEAwwCZWQwIBcNMjYxMTIzMTEzMTMwWhgPMjEyNjEwMzAxMTMxMzBaMA0xCzAJ
BgNVBAMMAmVkMCowBQYDK2VwAyEAsfnYi3/7WJCWQ+CdxXmOWKtYh6B2NvkXehXq
tX4VoaCjUzBRMB0GA1UdDgQWBBRdTEQ1E7YrJHoYXElEYbWN/oNtqzAfBgNVHSME
GDAWgBRdTEQ1E7YrJHoYXElEYbWN/oNtqzAPBgNVHRMBAf8EBTADAQH/MAUGAytl
cANBAFTJkRMhSKb3/iJ8iRu+xn5RpHlUU5FcPlAGbAYxhcWTs5m7WBTJctSB4yLF
ELQZSJOoa/4qsA+IL4fHShrbfAk=
-----END CERTIFICATE-----`,
};

function algorithmsOf(input: KeyInput): readonly string[] {
  const prepared = prepareKey(input);
  if (typeof prepared === 'string') throw new Error(`unexpected refusal: ${prepared}`);
  return prepared.algorithms;
}

let pems: Record<'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsaPrivate', string>;
let jwks: Record<'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsaPrivate', JWK>;
let keyObjects: Record<'rsa' | 'rsaPss' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'secret' | 'x25519' | 'rsaPrivate', KeyObject>;
let cryptoKeys: Record<'rs256' | 'rs512' | 'ps384' | 'es256' | 'es384' | 'es512' | 'ed' | 'hs256' | 'hs512' | 'rsPrivate', CryptoKey>;

beforeAll(async () => {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const rs512 = await generateKeyPair('RS512', { extractable: true });
  const ps384 = await generateKeyPair('PS384', { extractable: true });
  const es256 = await generateKeyPair('ES256', { extractable: true });
  const es384 = await generateKeyPair('ES384', { extractable: true });
  const es512 = await generateKeyPair('ES512', { extractable: true });
  const ed = await generateKeyPair('EdDSA', { extractable: true });
  pems = {
    rsa: await exportSPKI(rs.publicKey),
    p256: await exportSPKI(es256.publicKey),
    p384: await exportSPKI(es384.publicKey),
    p521: await exportSPKI(es512.publicKey),
    ed25519: await exportSPKI(ed.publicKey),
    rsaPrivate: await exportPKCS8(rs.privateKey),
  };
  jwks = {
    rsa: await exportJWK(rs.publicKey),
    p256: await exportJWK(es256.publicKey),
    p384: await exportJWK(es384.publicKey),
    p521: await exportJWK(es512.publicKey),
    ed25519: await exportJWK(ed.publicKey),
    rsaPrivate: await exportJWK(rs.privateKey),
  };
  const rsaPss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const rsaNode = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyObjects = {
    rsa: rsaNode.publicKey,
    rsaPss: rsaPss.publicKey,
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    p384: generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
    p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey,
    ed25519: createPublicKey(generateKeyPairSync('ed25519').privateKey),
    secret: createSecretKey(new TextEncoder().encode(SECRET_64)),
    x25519: generateKeyPairSync('x25519').publicKey,
    rsaPrivate: rsaNode.privateKey,
  };
  cryptoKeys = {
    rs256: rs.publicKey,
    rs512: rs512.publicKey,
    ps384: ps384.publicKey,
    es256: es256.publicKey,
    es384: es384.publicKey,
    es512: es512.publicKey,
    ed: ed.publicKey,
    hs256: await generateSecret('HS256'),
    hs512: await generateSecret('HS512'),
    rsPrivate: rs.privateKey,
  };
});

describe('prepareKey: the algorithm allowlist derived from the key', () => {
  it.each<[string, () => KeyInput, string[]]>([
    ['an HMAC string secret of 64 bytes', () => SECRET_64, HS],
    ['an HMAC byte secret of 64 bytes', () => new TextEncoder().encode(SECRET_64), HS],
    ['an HMAC secret of 32 bytes (HS256 only, RFC 7518 §3.2)', () => 'a-secret-of-thirty-two-bytes-ok!', ['HS256']],
    ['an HMAC secret of 48 bytes (HS256 and HS384)', () => 'x'.repeat(48), ['HS256', 'HS384']],
    ['an RSA SPKI PEM', () => pems.rsa, RS],
    ['an RSA SPKI PEM with CRLF line endings', () => pems.rsa.replace(/\n/g, '\r\n'), RS],
    ['an EC P-256 SPKI PEM', () => pems.p256, ['ES256']],
    ['an EC P-384 SPKI PEM', () => pems.p384, ['ES384']],
    ['an EC P-521 SPKI PEM', () => pems.p521, ['ES512']],
    ['an Ed25519 SPKI PEM', () => pems.ed25519, ED],
    ['an RSA X.509 certificate', () => CERTIFICATES.rsa, RS],
    ['an EC P-256 X.509 certificate', () => CERTIFICATES.ec, ['ES256']],
    ['an Ed25519 X.509 certificate', () => CERTIFICATES.ed25519, ED],
    ['a P-256 certificate signed by an Ed25519 CA', () => CERTIFICATES.ecSignedByEd25519, ['ES256']],
    ['an RSA certificate signed with RSASSA-PSS', () => CERTIFICATES.rsaSignedWithPss, RS],
    ['an RSA JWK', () => jwks.rsa, RS],
    ['an RSA JWK with alg RS384', () => ({ ...jwks.rsa, alg: 'RS384' }), ['RS384']],
    ['an RSA JWK with alg PS256', () => ({ ...jwks.rsa, alg: 'PS256' }), ['PS256']],
    ['an RSA JWK with use "sig"', () => ({ ...jwks.rsa, use: 'sig' }), RS],
    ['an RSA JWK with key_ops ["verify"]', () => ({ ...jwks.rsa, key_ops: ['verify'] }), RS],
    ['an EC P-256 JWK', () => jwks.p256, ['ES256']],
    ['an EC P-384 JWK', () => jwks.p384, ['ES384']],
    ['an EC P-521 JWK', () => jwks.p521, ['ES512']],
    ['an OKP Ed25519 JWK', () => jwks.ed25519, ED],
    ['an OKP Ed25519 JWK with alg EdDSA', () => ({ ...jwks.ed25519, alg: 'EdDSA' }), ['EdDSA']],
    ['an oct JWK', () => ({ kty: 'oct', k: 'c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzcw' }), HS],
    [
      'an oct JWK with alg HS512',
      () => ({ kty: 'oct', k: 'c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzcw', alg: 'HS512' }),
      ['HS512'],
    ],
    ['an RSA KeyObject', () => keyObjects.rsa, RS],
    ['an EC P-256 KeyObject', () => keyObjects.p256, ['ES256']],
    ['an EC P-384 KeyObject (secp384r1)', () => keyObjects.p384, ['ES384']],
    ['an EC P-521 KeyObject', () => keyObjects.p521, ['ES512']],
    ['an Ed25519 KeyObject', () => keyObjects.ed25519, ED],
    ['a secret KeyObject', () => keyObjects.secret, HS],
    ['an RS256 CryptoKey', () => cryptoKeys.rs256, ['RS256']],
    ['an RS512 CryptoKey', () => cryptoKeys.rs512, ['RS512']],
    ['a PS384 CryptoKey', () => cryptoKeys.ps384, ['PS384']],
    ['an ES256 CryptoKey', () => cryptoKeys.es256, ['ES256']],
    ['an ES384 CryptoKey', () => cryptoKeys.es384, ['ES384']],
    ['an ES512 CryptoKey', () => cryptoKeys.es512, ['ES512']],
    ['an Ed25519 CryptoKey', () => cryptoKeys.ed, ED],
    ['an HS256 CryptoKey', () => cryptoKeys.hs256, ['HS256']],
    ['an HS512 CryptoKey', () => cryptoKeys.hs512, ['HS512']],
  ])('allows exactly the algorithms %s can verify', (_, input, expected) => {
    expect([...algorithmsOf(input())].sort()).toEqual([...expected].sort());
  });

  it.each<[string, () => KeyInput]>([
    ['an empty string secret', () => ''],
    ['empty bytes', () => new Uint8Array(0)],
    ['a PKCS#8 private key PEM', () => pems.rsaPrivate],
    ['a PKCS#1 RSA private key PEM', () => '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----'],
    ['an EC private key PEM', () => '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----'],
    ['a PKCS#1 RSA public key PEM (not SPKI)', () => '-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----'],
    ['a PUBLIC KEY PEM of an unknown key type', () => '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
    ['a private RSA JWK', () => jwks.rsaPrivate],
    ['a JWK with use "enc"', () => ({ ...jwks.rsa, use: 'enc' })],
    ['a JWK whose key_ops exclude verify', () => ({ ...jwks.rsa, key_ops: ['encrypt'] })],
    ['an EC JWK whose alg does not fit its curve', () => ({ ...jwks.p256, alg: 'ES384' })],
    ['an RSA JWK with an HMAC alg', () => ({ ...jwks.rsa, alg: 'HS256' })],
    ['an X25519 OKP JWK', () => ({ kty: 'OKP', crv: 'X25519', x: 'AAAA' })],
    ['a JWK of an unknown kty', () => ({ kty: 'XYZ' })],
    ['an object without kty', () => ({ n: 'abc', e: 'AQAB' })],
    ['a private KeyObject', () => keyObjects.rsaPrivate],
    ['an X25519 KeyObject', () => keyObjects.x25519],
    ['an RSA-PSS KeyObject (no runtime but Node could use it)', () => keyObjects.rsaPss],
    ['a private CryptoKey', () => cryptoKeys.rsPrivate],
    ['a number', () => 42 as unknown as KeyInput],
    ['null', () => null as unknown as KeyInput],
  ])('refuses %s with a sentence', (_, input) => {
    const prepared = prepareKey(input());
    expect(prepared).toBeTypeOf('string');
    expect((prepared as string).length).toBeGreaterThan(10);
  });

  it('imports an asymmetric key once per algorithm and reuses it', async () => {
    const prepared = prepareKey(pems.rsa) as PreparedKey;
    const first = await prepared.keyFor('RS256');
    expect(await prepared.keyFor('RS256')).toBe(first);
    expect(await prepared.keyFor('PS256')).not.toBe(first);
  });
});

describe('isKeyShaped: what a secret function meant as a key', () => {
  const lookup: Record<string, unknown> = { k1: SECRET_64 };
  it.each<[string, () => unknown]>([
    ['a string', () => SECRET_64],
    ['an empty string (unusable, but meant as a key)', () => ''],
    ['a Uint8Array', () => new Uint8Array(32)],
    ['an ArrayBuffer (unusable, but meant as bytes)', () => new ArrayBuffer(32)],
    ['a JWK', () => jwks.rsa],
    ['a private JWK (unusable, but a key)', () => jwks.rsaPrivate],
    ['a KeyObject', () => keyObjects.rsa],
    ['a CryptoKey', () => cryptoKeys.es256],
  ])('takes %s as a key', (_, value) => {
    expect(isKeyShaped(value())).toBe(true);
  });

  it.each<[string, () => unknown]>([
    ['undefined', () => undefined],
    ['null', () => null],
    ['lookup["__proto__"] (Object.prototype)', () => lookup['__proto__']],
    ['lookup["constructor"] (a function)', () => lookup['constructor']],
    ['lookup["toString"]', () => lookup['toString']],
    ['lookup["hasOwnProperty"]', () => lookup['hasOwnProperty']],
    ['a number', () => 42],
    ['a boolean', () => true],
    ['a symbol', () => Symbol('k')],
    ['a plain object without kty', () => ({ secret: SECRET_64 })],
    ['an object without a prototype', () => Object.create(null) as object],
    ['an array', () => [SECRET_64]],
    ['an object whose kty is not a string', () => ({ kty: 1 })],
  ])('takes %s as no key', (_, value) => {
    expect(isKeyShaped(value())).toBe(false);
  });
});

describe('jwkAlgorithms', () => {
  it.each<[string, JWK, string[]]>([
    ['use "enc"', { kty: 'RSA', n: 'x', e: 'AQAB', use: 'enc' }, []],
    ['key_ops without verify', { kty: 'RSA', n: 'x', e: 'AQAB', key_ops: ['sign'] }, []],
    ['an EC curve this package does not verify', { kty: 'EC', crv: 'secp256k1', x: 'a', y: 'b' }, []],
    ['an alg narrowing an oct key', { kty: 'oct', k: 'a', alg: 'HS384' }, ['HS384']],
  ])('derives the algorithms of a JWK with %s', (_, jwk, expected) => {
    expect(jwkAlgorithms(jwk)).toEqual(expected);
  });
});

describe('readPem', () => {
  it.each<[string, string, PemKind]>([
    ['a public key', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'public'],
    ['a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'certificate'],
    ['a PKCS#8 private key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'private'],
    ['an encrypted private key', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----', 'private'],
    ['an OpenSSH private key', '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', 'private'],
    ['a CSR', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', 'other'],
  ])('recognises %s', (_, pem, kind) => {
    expect(readPem(pem)).toMatchObject({ kind, der: new Uint8Array([0, 0, 0]) });
  });

  it('finds no PEM in a plain secret', () => {
    expect(readPem('not a pem at all, only a passphrase')).toBeUndefined();
  });

  it.each<[string, string, RegExp]>([
    ['lower-case armour', '-----begin public key-----\nAAAA\n-----end public key-----', /not well-formed/],
    ['four-dash armour', '----BEGIN PUBLIC KEY----\nAAAA\n----END PUBLIC KEY----', /not well-formed/],
    ['RFC 4716 SSH2 armour', '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----', /not well-formed/],
    ['a mixed-case label', '-----BEGIN Public Key-----\nAAAA\n-----END Public Key-----', /not well-formed/],
    ['two blocks (a certificate chain)', `${'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'.repeat(2)}`, /2 PEM blocks/],
    ['no END line (a truncated value)', '-----BEGIN PUBLIC KEY-----\nAAAA', /no "-----END PUBLIC KEY-----" line/],
    ['an END line of another label', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END CERTIFICATE-----', /no "-----END PUBLIC KEY-----" line/],
  ])('says what is wrong with %s', (_, pem, message) => {
    expect(readPem(pem)).toMatch(message);
  });

  it('has no body for a PEM whose body is not base64', () => {
    expect(readPem('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----')).toMatchObject({ kind: 'public', der: undefined });
  });
});

describe('prepareKey: the kid by which one key among several is chosen', () => {
  it('keeps the kid of a JWK', () => {
    expect((prepareKey({ ...jwks.rsa, kid: 'rsa-2026' }) as PreparedKey).kid).toBe('rsa-2026');
    expect((prepareKey({ kty: 'oct', k: Buffer.from(SECRET_64).toString('base64url'), kid: 'hs-1' }) as PreparedKey).kid).toBe('hs-1');
  });

  it.each<[string, () => KeyInput]>([
    ['a JWK without kid', () => jwks.p256],
    ['a JWK whose kid is not a string', () => ({ ...jwks.p256, kid: 7 as unknown as string })],
    ['a PEM', () => pems.rsa],
    ['an HMAC secret', () => SECRET_64],
    ['a KeyObject', () => keyObjects.p256],
    ['a CryptoKey', () => cryptoKeys.es256],
  ])('has none for %s', (_, input) => {
    expect((prepareKey(input()) as PreparedKey).kid).toBeUndefined();
  });
});
