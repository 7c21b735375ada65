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
  const base64 = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  try {
    const binary = atob(base64);
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Finds the key family of an SPKI public key or X.509 certificate without importing it, so the
 * algorithm allowlist is known synchronously when the middleware is created. The first key OID
 * in the DER is the one of the subject public key (a certificate's signature algorithm OIDs are
 * different values).
 */
export function pemKeyFamily(pem: string): KeyFamily | undefined {
  const der = pemBody(pem);
  if (der === undefined || der.length === 0) return undefined;
  let best: { at: number; family: KeyFamily | 'ec' } | undefined;
  for (const [oid, family] of OIDS) {
    const at = indexOf(der, oid);
    if (at !== -1 && (best === undefined || at < best.at)) best = { at, family };
  }
  if (best === undefined) return undefined;
  if (best.family !== 'ec') return best.family;
  for (const [oid, curve] of CURVES) if (indexOf(der, oid) !== -1) return { kind: 'ec', curve };
  return undefined;
}
