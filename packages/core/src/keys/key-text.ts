import { derKind, type DerKind } from './der.js';
import { base64Bytes, base64UrlBytes, readPem, type PemBlock } from './pem.js';

// An HMAC secret must be a secret. Key text used as one — a public key, a certificate, a JWK Set,
// a URL — is public, so anyone could sign tokens with it (the key-confusion attack, RFC 8725
// §3.1), and a private key used as one is simply the wrong key. Each is refused with the way to
// pass it properly.

/** Whether the key will verify tokens (`secret`) or sign them (the issuer's `key`): the fixes differ. */
export type KeyUse = 'verify' | 'sign';

/** What was found, and how to pass it instead for each use. */
interface Finding {
  what: string;
  verify: string;
  sign: string;
}

const PUBLIC_CANNOT_SIGN = 'a public key cannot sign; pass the private key (a PKCS #8 PEM or a private JWK)';
const ONE_PRIVATE_JWK = 'to sign, pass one private JWK, parsed (JSON.parse)';

/** OpenSSH public keys and certificates, also after `authorized_keys` options. */
const OPENSSH_PUBLIC_KEY =
  /(?:^|\s)(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(?:-cert-v01@openssh\.com)?\s+AAAA[A-Za-z0-9+/]/;

function jsonFinding(text: string): Finding | undefined {
  if (!/^[[{]/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const isJwk = (value: unknown) => typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';
  if (Array.isArray(parsed)) {
    if (!parsed.some(isJwk)) return undefined;
    return { what: 'the JSON text of an array of JWKs', verify: 'pass it as jwks: { keys: JSON.parse(text) } instead', sign: ONE_PRIVATE_JWK };
  }
  if (isJwk(parsed))
    return {
      what: 'the JSON text of a JWK',
      verify: 'pass the parsed JWK object instead (JSON.parse)',
      sign: 'pass the parsed private JWK instead (JSON.parse)',
    };
  if (Array.isArray((parsed as { keys?: unknown }).keys)) {
    return { what: 'the JSON text of a JWK Set', verify: 'pass it as jwks: JSON.parse(text) instead', sign: ONE_PRIVATE_JWK };
  }
  return undefined;
}

/** What DER bytes are, and how to pass them; `encoding` names how they were given. */
function derFinding(kind: DerKind, encoding: 'base64' | 'base64url' | 'DER'): Finding {
  const unarmoured = encoding === 'DER' ? 'in binary DER' : `in ${encoding} without PEM armour`;
  // Bytes can be turned into a KeyObject; base64 text needs only its armour lines.
  const asPem = (label: string) =>
    encoding === 'DER'
      ? `pass it as PEM text, or as a KeyObject (${label === 'CERTIFICATE' ? 'new crypto.X509Certificate(bytes).publicKey' : 'crypto.createPublicKey({ key: bytes, format: "der", type: "spki" })'})`
      : `wrap it in -----BEGIN ${label}----- / -----END ${label}----- lines${encoding === 'base64url' ? ' (after turning base64url into base64: - to +, _ to /)' : ''}`;
  const privateFix =
    encoding === 'DER'
      ? 'pass it as a PKCS #8 PEM string, or as a KeyObject (crypto.createPrivateKey)'
      : 'pass it as a PKCS #8 PEM: its base64 between -----BEGIN PRIVATE KEY----- / -----END PRIVATE KEY----- lines (openssl pkcs8 -topk8 -nocrypt converts other forms)';
  switch (kind) {
    case 'spki':
      return { what: `a public key ${unarmoured}`, verify: asPem('PUBLIC KEY'), sign: PUBLIC_CANNOT_SIGN };
    case 'certificate':
      return { what: `a certificate ${unarmoured}`, verify: asPem('CERTIFICATE'), sign: PUBLIC_CANNOT_SIGN };
    case 'rsa-public':
      return {
        what: `a PKCS #1 RSA public key ${unarmoured}`,
        verify: 'convert it to an SPKI public key (openssl rsa -RSAPublicKey_in -in key.pem -pubout) and pass that PEM',
        sign: PUBLIC_CANNOT_SIGN,
      };
    case 'private':
      return { what: `a private key ${unarmoured}`, verify: 'pass the public key (or certificate) instead', sign: privateFix };
    case 'other':
      return { what: `a key or certificate ${unarmoured}`, verify: 'pass the public key as PEM instead', sign: privateFix };
  }
}

/** Key text in a string that has no PEM armour. */
function textFinding(raw: string): Finding | undefined {
  const text = raw.trim();
  const json = jsonFinding(text);
  if (json !== undefined) return json;
  if (OPENSSH_PUBLIC_KEY.test(text)) {
    return {
      what: 'an OpenSSH public key',
      verify: 'convert it to a PEM public key (ssh-keygen -e -m PKCS8 -f key.pub) and pass that',
      sign: PUBLIC_CANNOT_SIGN,
    };
  }
  if (/^https?:\/\/\S+$/i.test(text)) {
    return {
      what: 'a URL',
      verify: 'to verify with the keys published there, use jwks: { uri } (or issuer with discovery: true)',
      sign: 'pass the signing key itself',
    };
  }
  for (const [encoding, decode] of [
    ['base64', base64Bytes],
    ['base64url', base64UrlBytes],
  ] as const) {
    const der = decode(text);
    const kind = der === undefined ? undefined : derKind(der);
    if (kind !== undefined) return derFinding(kind, encoding);
  }
  return undefined;
}

function sentence(subject: 'string is' | 'bytes are', finding: Finding, use: KeyUse): string {
  return `the secret ${subject} ${finding.what}, not an HMAC secret; ${finding[use]}`;
}

/**
 * A sentence when a string given as an HMAC secret is really key text (see the top of this file),
 * or undefined for a string that may be a secret. PEM armour is read before this, by the caller.
 */
export function secretTextProblem(text: string, use: KeyUse): string | undefined {
  const finding = textFinding(text);
  return finding && sentence('string is', finding, use);
}

function pemBytesFix(pem: PemBlock | string, use: KeyUse): string {
  const asText = 'readFileSync(path, "utf8")';
  const kind = typeof pem === 'string' ? 'other' : pem.kind;
  if (use === 'verify') {
    return kind === 'private' ? `pass the public key (or certificate) as a string instead, e.g. ${asText}` : `pass it as a string instead, e.g. ${asText}`;
  }
  return kind === 'private' ? `pass it as a string instead, e.g. ${asText}` : PUBLIC_CANNOT_SIGN;
}

/**
 * A sentence when bytes given as an HMAC secret are key material: a key file read without an
 * encoding (`readFileSync('key.pem')` gives the PEM text as bytes), binary DER, or any of the
 * text forms {@link secretTextProblem} refuses. Undefined for bytes that may be a secret.
 */
export function secretBytesProblem(bytes: Uint8Array, use: KeyUse): string | undefined {
  const kind = derKind(bytes);
  if (kind !== undefined) return sentence('bytes are', derFinding(kind, 'DER'), use);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined; // Not text: random bytes, as a secret should be.
  }
  const pem = readPem(text);
  if (pem !== undefined) return `the secret bytes are PEM text (a key file read without an encoding?), not an HMAC secret; ${pemBytesFix(pem, use)}`;
  const finding = textFinding(text);
  return finding && sentence('bytes are', { ...finding, what: `text: ${finding.what}` }, use);
}
