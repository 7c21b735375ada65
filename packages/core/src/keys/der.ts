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

const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const SEQUENCE = 0x30;
const VERSION_TAG = 0xa0;
/** Tags found directly inside the keys and certificates people paste: INTEGER … SET, and [0]–[3]. */
const KEY_STRUCTURE_TAGS = new Set([0x02, 0x03, 0x04, 0x05, 0x06, 0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3]);

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
  for (let offset = parent.start; offset < parent.end;) {
    const child = readElement(der, offset, parent.end);
    if (child === undefined) return [];
    children.push(child);
    offset = child.end;
  }
  return children;
}

/**
 * The SubjectPublicKeyInfo: the whole DER of a public key, or the seventh field of a
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
  if (bitString === undefined || bitString.tag !== BIT_STRING) return undefined;
  // The BIT STRING content starts with its count of unused bits.
  const rsaPublicKey = readElement(der, bitString.start + 1, bitString.end);
  const modulus = rsaPublicKey && childrenOf(der, rsaPublicKey)[0];
  if (modulus === undefined || modulus.tag !== INTEGER) return undefined;
  let start = modulus.start;
  while (start < modulus.end && der[start] === 0) start++;
  if (start === modulus.end) return 0;
  return (modulus.end - start) * 8 - Math.clz32(der[start]!) + 24;
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

/** The key family of a DER PKCS #8 PrivateKeyInfo. */
export function pkcs8KeyFamily(der: Uint8Array): KeyFamily | undefined {
  const top = readElement(der, 0);
  if (top === undefined || top.tag !== SEQUENCE) return undefined;
  return algorithmFamily(der, childrenOf(der, top)[1]);
}

/** What DER-encoded bytes hold, as far as telling a user what they pasted needs. */
export type DerKind = 'spki' | 'certificate' | 'rsa-public' | 'private' | 'other';

/**
 * Recognises the DER of a key or certificate: one SEQUENCE spanning every byte whose fields are
 * all well-formed elements of the kinds keys are made of. Random bytes (a real HMAC secret) are
 * that by chance less than once in a billion (measured: about 2 in 10^11 for 32 to 64 bytes), so
 * this tells key material from a secret.
 */
export function derKind(der: Uint8Array): DerKind | undefined {
  const top = readElement(der, 0);
  if (top === undefined || top.tag !== SEQUENCE || top.end !== der.length) return undefined;
  const fields = childrenOf(der, top);
  if (fields.length < 2 || !fields.every((field) => KEY_STRUCTURE_TAGS.has(field.tag))) return undefined;
  if (derPublicKeyInfo(der, false) !== undefined) return 'spki';
  if (derPublicKeyInfo(der, true) !== undefined) return 'certificate';
  const tags = fields.map((field) => field.tag);
  // RFC 8017 RSAPublicKey: modulus and exponent, without the SPKI algorithm wrapper.
  if (tags.length === 2 && tags.every((tag) => tag === INTEGER)) return 'rsa-public';
  // PKCS #8 (version, algorithm, key), RFC 8017 RSAPrivateKey (nine INTEGERs), RFC 5915 EC (version, key, …).
  if (tags[0] === INTEGER && [INTEGER, SEQUENCE, OCTET_STRING].includes(tags[1]!)) return 'private';
  return 'other';
}
