import type { JWSHeaderParameters, JWTPayload } from 'jose';

/** Tokens beyond this many characters are refused before any decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether a segment is unpadded base64url in the one canonical spelling of its bytes (RFC 4648
 * §3.5). The last character of an unpadded segment carries 2 or 4 unused bits that base64
 * decoders (jose's included) ignore, so `…TT4` and `…TT5` verify as the same signature. Accepting
 * both would let anyone mint new strings for an issued token, which a revocation or audit list
 * keyed by the token string would not recognise. Issuers always leave those bits zero, so only a
 * changed token has them set.
 */
function isBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  const unused = [0, -1, 4, 2][segment.length % 4]!;
  if (unused === -1) return false;
  return unused === 0 || (ALPHABET.indexOf(segment.at(-1)!) & ((1 << unused) - 1)) === 0;
}

/** Each base64url character's 6-bit value, by char code (-1 for characters outside the alphabet). */
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/**
 * Decodes a segment already checked by {@link isBase64url}, in one pass: no intermediate
 * strings, no callback per character (this runs for every token a server sees).
 */
function base64urlBytes(segment: string): Uint8Array {
  const length = segment.length;
  const bytes = new Uint8Array((length * 3) >> 2);
  let out = 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const n =
      (SEXTETS[segment.charCodeAt(i)]! << 18) |
      (SEXTETS[segment.charCodeAt(i + 1)]! << 12) |
      (SEXTETS[segment.charCodeAt(i + 2)]! << 6) |
      SEXTETS[segment.charCodeAt(i + 3)]!;
    bytes[out++] = n >> 16;
    bytes[out++] = (n >> 8) & 0xff;
    bytes[out++] = n & 0xff;
  }
  const rest = length - i;
  if (rest >= 2) {
    const n =
      (SEXTETS[segment.charCodeAt(i)]! << 18) | (SEXTETS[segment.charCodeAt(i + 1)]! << 12) | (rest === 3 ? SEXTETS[segment.charCodeAt(i + 2)]! << 6 : 0);
    bytes[out++] = n >> 16;
    if (rest === 3) bytes[out++] = (n >> 8) & 0xff;
  }
  return bytes;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A segment's JSON text, or `undefined` when it is not canonical base64url of UTF-8. JWT headers
 * and payloads are nearly always ASCII: those become a string straight from their bytes, and only
 * others go through the (strict) UTF-8 decoder.
 */
function segmentText(segment: string): string | undefined {
  if (!isBase64url(segment)) return undefined;
  const bytes = base64urlBytes(segment);
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii && bytes.length <= ASCII_CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Bytes turned into a string in one call (well below any engine's argument limit). */
const ASCII_CHUNK = 8192;

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A compact JWS split and decoded, not yet verified. */
export interface DecodedToken {
  header: JWSHeaderParameters & { alg: string };
  payload: JWTPayload;
  /**
   * The header's and payload's JSON text, as decoded: what the verified-token cache keeps (parsing
   * it again gives exactly `header` and `payload`, at no cost to copy).
   */
  headerJson: string;
  payloadJson: string;
  /** The three segments as sent (a JWK Set's key lookup takes them). */
  segments: readonly [string, string, string];
  /** What the signature covers: the token up to its last `.`. */
  signingInput: string;
  /** The signature's bytes (empty for an empty segment). */
  signature: Uint8Array;
}

/**
 * Decodes a compact JWS once (header, payload and signature, each in one pass), for key
 * selection, the signature check and the claim checks alike; or `undefined` when the token is not one:
 * wrong segment count, bad or non-canonical base64url, or header/payload that are not JSON
 * objects.
 */
export function decodeCompact(token: string): DecodedToken | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const segments = token.split('.');
  if (segments.length !== 3) return undefined;
  // An empty signature is well-formed (`alg: none`); the algorithm check rejects it.
  if (segments[2] !== '' && !isBase64url(segments[2]!)) return undefined;
  const headerJson = segmentText(segments[0]!);
  const payloadJson = segmentText(segments[1]!);
  const header = parseJson(headerJson);
  const payload = parseJson(payloadJson);
  if (!isObject(header) || !isObject(payload) || typeof header.alg !== 'string') return undefined;
  return {
    header: header as DecodedToken['header'],
    payload: payload,
    headerJson: headerJson!,
    payloadJson: payloadJson!,
    segments: segments as [string, string, string],
    signingInput: token.slice(0, segments[0]!.length + 1 + segments[1]!.length),
    signature: base64urlBytes(segments[2]!),
  };
}
