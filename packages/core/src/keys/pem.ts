/** What a PEM block holds. */
export type PemKind = 'public' | 'certificate' | 'private' | 'other';

/** The one PEM block of a text. */
export interface PemBlock {
  /** The label of its armour, such as `PUBLIC KEY`. */
  readonly label: string;
  readonly kind: PemKind;
  /** The decoded body; undefined when it is not base64 (legacy encrypted keys carry headers). */
  readonly der: Uint8Array | undefined;
}

const BEGIN = /-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----/g;
/**
 * Armour a PEM reader would not take: lower case, four dashes, spaces inside the dashes (RFC 4716
 * SSH keys: `---- BEGIN SSH2 PUBLIC KEY ----`). The lookbehind starts a match only at the first
 * dash of a run, so a long run of dashes costs linear time.
 */
const LOOSE_ARMOUR = /(?<!-)-{3,} ?BEGIN [ A-Z0-9]+-{3,}/i;

function kindOf(label: string): PemKind {
  if (label === 'PUBLIC KEY') return 'public';
  if (label === 'CERTIFICATE') return 'certificate';
  if (label.endsWith('PRIVATE KEY')) return 'private';
  return 'other';
}

/**
 * Reads the one PEM block in a text: the block, a sentence saying what is wrong with its armour,
 * or undefined when the text has no PEM armour at all. Like OpenSSL it ignores text around the
 * block (RFC 7468 §2) and whitespace anywhere, so an indented template literal, a leading newline,
 * CRLF line ends or trailing spaces read the same; also literal `\n` escapes, which a key pasted
 * into an environment variable often carries.
 */
export function readPem(text: string): PemBlock | string | undefined {
  const begins = [...text.matchAll(BEGIN)];
  if (begins.length === 0) {
    if (!LOOSE_ARMOUR.test(text)) return undefined;
    return 'the PEM armour is not well-formed: the BEGIN and END lines need five dashes on each side and an upper-case label, exactly like -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY-----';
  }
  if (begins.length > 1) return `the text holds ${begins.length} PEM blocks; pass exactly one key or certificate`;
  const match = begins[0]!;
  const label = match[1]!;
  const start = match.index + match[0].length;
  const endLine = `-----END ${label}-----`;
  const end = text.indexOf(endLine, start);
  if (end === -1) return `the PEM has no "${endLine}" line after its BEGIN line`;
  const body = text.slice(start, end).replace(/\\[rn]|\s/g, '');
  return { label, kind: kindOf(label), der: base64Bytes(body) };
}

function base64Of(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The block in the exact form jose's importers read (they want the BEGIN line first and strip
 * only armour and whitespace): the DER re-encoded, 64 characters a line.
 */
export function armour(label: string, der: Uint8Array): string {
  const lines = base64Of(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
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

/** The bytes of unarmoured base64url (RFC 4648 §5), or undefined when the text is not base64url. */
export function base64UrlBytes(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(compact)) return undefined;
  return base64Bytes(compact.replace(/-/g, '+').replace(/_/g, '/'));
}
