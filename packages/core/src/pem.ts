import type { KeyFamily } from './algorithms.js';

/** DER encodings of the AlgorithmIdentifier OIDs that tell what a public key is. */
const OIDS: ReadonlyArray<readonly [number[], KeyFamily | 'ec']> = [
  [[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01], { kind: 'rsa' }],
  [[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a], { kind: 'rsa-pss' }],
  [[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], 'ec'],
  [[0x06, 0x03, 0x2b, 0x65, 0x70], { kind: 'ed25519' }],
];
const CURVES: ReadonlyArray<readonly [number[], string]> = [
  [[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], 'P-256'],
  [[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], 'P-384'],
  [[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], 'P-521'],
];

/** What a PEM string holds. */
export type PemKind = 'public' | 'certificate' | 'private' | 'other';

export function pemKind(pem: string): PemKind | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (match === null) return undefined;
  const label = match[1]!;
  if (label === 'PUBLIC KEY') return 'public';
  if (label === 'CERTIFICATE') return 'certificate';
  if (label.endsWith('PRIVATE KEY')) return 'private';
  return 'other';
}

function pemBody(pem: string): Uint8Array | undefined {
  return base64Bytes(pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, ''));
}

/** One DER element: its tag, and where its own encoding and its content lie. */
interface Element {
  tag: number;
  offset: number;
  start: number;
  end: number;
}

function readElement(der: Uint8Array, offset: number, limit = der.length): Element | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  return end > limit ? undefined : { tag, offset, start, end };
}

function childrenOf(der: Uint8Array, parent: Element): Element[] {
  const children: Element[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readElement(der, offset, parent.end);
    if (child === undefined) return [];
    children.push(child);
    offset = child.end;
  }
  return children;
}

const SEQUENCE = 0x30;
const VERSION_TAG = 0xa0;

/**
 * The SubjectPublicKeyInfo: the whole DER of a public key PEM, or the seventh field of a
 * certificate's TBSCertificate (sixth when the optional version is absent).
 */
function subjectPublicKeyInfo(der: Uint8Array, certificate: boolean): Element | undefined {
  const top = readElement(der, 0);
  if (top === undefined || top.tag !== SEQUENCE) return undefined;
  if (!certificate) return top;
  const tbs = childrenOf(der, top)[0];
  if (tbs === undefined || tbs.tag !== SEQUENCE) return undefined;
  const fields = childrenOf(der, tbs);
  const spki = fields[fields[0]?.tag === VERSION_TAG ? 6 : 5];
  return spki?.tag === SEQUENCE ? spki : undefined;
}

function sameBytes(der: Uint8Array, element: Element | undefined, expected: readonly number[]): boolean {
  if (element === undefined || element.end - element.offset !== expected.length) return false;
  return expected.every((byte, i) => der[element.offset + i] === byte);
}

/** What a public key is, read from its DER without importing it. */
export interface PublicKeyInfo {
  family: KeyFamily;
  /** Bits of an RSA modulus; undefined for other key types. */
  modulusBits?: number;
}

/** Bits of the RSA modulus inside a SubjectPublicKeyInfo's BIT STRING (RFC 8017 RSAPublicKey). */
function modulusBits(der: Uint8Array, bitString: Element | undefined): number | undefined {
  if (bitString === undefined || bitString.tag !== 0x03) return undefined;
  // The BIT STRING content starts with its count of unused bits.
  const rsaPublicKey = readElement(der, bitString.start + 1, bitString.end);
  const modulus = rsaPublicKey && childrenOf(der, rsaPublicKey)[0];
  if (modulus === undefined || modulus.tag !== 0x02) return undefined;
  let start = modulus.start;
  while (start < modulus.end && der[start] === 0) start++;
  if (start === modulus.end) return 0;
  return (modulus.end - start) * 8 - Math.clz32(der[start]!) + 24;
}

/**
 * Reads the key family (and an RSA key's size) of DER-encoded SPKI or X.509, so the algorithm
 * allowlist is known synchronously when the middleware is created. Only the subject's own
 * AlgorithmIdentifier is read: a certificate also names its issuer's signature algorithm.
 */
export function derPublicKeyInfo(der: Uint8Array, certificate: boolean): PublicKeyInfo | undefined {
  const spki = subjectPublicKeyInfo(der, certificate);
  if (spki === undefined) return undefined;
  const [algorithm, publicKey] = childrenOf(der, spki);
  const family = algorithmFamily(der, algorithm);
  if (family === undefined) return undefined;
  if (family.kind === 'rsa' || family.kind === 'rsa-pss') return { family, modulusBits: modulusBits(der, publicKey) };
  return { family };
}

/** The key family an AlgorithmIdentifier names (with the curve of an EC key). */
function algorithmFamily(der: Uint8Array, algorithm: Element | undefined): KeyFamily | undefined {
  if (algorithm === undefined || algorithm.tag !== SEQUENCE) return undefined;
  const [oid, parameters] = childrenOf(der, algorithm);
  const family = OIDS.find(([bytes]) => sameBytes(der, oid, bytes))?.[1];
  if (family !== 'ec') return family;
  const curve = CURVES.find(([bytes]) => sameBytes(der, parameters, bytes))?.[1];
  return curve === undefined ? undefined : { kind: 'ec', curve };
}

/** The key family of a PKCS #8 private key PEM (`-----BEGIN PRIVATE KEY-----`). */
export function pkcs8KeyFamily(pem: string): KeyFamily | undefined {
  if (!pem.includes('-----BEGIN PRIVATE KEY-----')) return undefined;
  const der = pemBody(pem);
  const top = der && readElement(der, 0);
  if (der === undefined || top === undefined || top.tag !== SEQUENCE) return undefined;
  return algorithmFamily(der, childrenOf(der, top)[1]);
}

/** {@link derPublicKeyInfo} for a PEM public key or certificate. */
export function pemPublicKeyInfo(pem: string): PublicKeyInfo | undefined {
  const der = pemBody(pem);
  return der === undefined ? undefined : derPublicKeyInfo(der, pemKind(pem) === 'certificate');
}

/** The bytes of unarmoured base64, or undefined when the text is not base64. */
export function base64Bytes(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  try {
    return Uint8Array.from(atob(compact), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}
