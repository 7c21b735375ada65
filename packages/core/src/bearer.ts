/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The outcome of reading one `Authorization` header value. */
export type BearerParse =
  | { kind: 'token'; token: string }
  /** Another scheme (`Basic …`): as if no bearer credentials were sent. */
  | { kind: 'other-scheme' }
  /** `Bearer` with no token, illegal characters or extra parts. */
  | { kind: 'malformed' }
  /** Several credentials joined into one value (repeated headers merged by a Fetch `Headers`). */
  | { kind: 'multiple' };

/** True when `value` is a syntactically valid RFC 6750 b64token. */
export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value);
}

/**
 * Parses `credentials = auth-scheme 1*SP b64token` (RFC 7235 / RFC 6750 §2.1). The scheme is
 * matched case-insensitively and any number of spaces may follow it.
 */
export function parseAuthorization(value: string): BearerParse {
  const trimmed = value.trim();
  const match = /^(\S+)(.*)$/s.exec(trimmed);
  if (match === null) return { kind: 'other-scheme' };
  const scheme = match[1]!;
  if (scheme.toLowerCase() !== 'bearer') {
    // "Basic x, Bearer y": two credentials merged from two headers.
    return /,\s*bearer(?:\s|$)/i.test(trimmed) ? { kind: 'multiple' } : { kind: 'other-scheme' };
  }
  // Only spaces may separate the scheme from the token (RFC 7235 `1*SP`); a tab is malformed.
  const spaced = /^ +(.*)$/s.exec(match[2]!);
  const rest = spaced === null ? match[2]! : spaced[1]!;
  if (/,\s*\S+\s+\S/.test(rest) || /,\s*bearer$/i.test(rest)) return { kind: 'multiple' };
  if (spaced === null || !isB64Token(rest)) return { kind: 'malformed' };
  return { kind: 'token', token: rest };
}
