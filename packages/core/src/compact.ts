import type { JWSHeaderParameters, JWTPayload } from 'jose';

/** Tokens beyond this many characters are refused before any decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function decodeSegment(segment: string): unknown {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  try {
    const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
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
}

/**
 * Decodes the header and payload of a compact JWS, or `undefined` when the token is not one:
 * wrong segment count, bad base64url, or header/payload that are not JSON objects.
 */
export function decodeCompact(token: string): DecodedToken | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const segments = token.split('.');
  // An empty signature is well-formed (`alg: none`); the algorithm check rejects it.
  if (segments.length !== 3 || (segments[2] !== '' && !BASE64URL.test(segments[2]!))) return undefined;
  const header = decodeSegment(segments[0]!);
  const payload = decodeSegment(segments[1]!);
  if (!isObject(header) || !isObject(payload) || typeof header.alg !== 'string') return undefined;
  return { header: header as DecodedToken['header'], payload: payload as JWTPayload };
}
