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

const SCHEME_WITH_CREDENTIALS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ +\S/;
const BARE_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Whether a value holds several credentials joined by commas, as a Fetch `Headers` joins
 * repeated `Authorization` headers (`, `). Split first and test each piece with an anchored
 * pattern: one pattern over the whole value would backtrack quadratically on a run of commas.
 */
function holdsSeveralCredentials(value: string): boolean {
  if (!value.includes(',')) return false;
  return value
    .split(',')
    .slice(1)
    .some((piece) => {
      const trimmed = piece.trim();
      // A bare scheme counts only after `, ` so that `Bearer abc,def` stays one malformed token.
      return SCHEME_WITH_CREDENTIALS.test(trimmed) || (piece.startsWith(' ') && BARE_SCHEME.test(trimmed));
    });
}

/**
 * Parses `credentials = auth-scheme 1*SP b64token` (RFC 7235 / RFC 6750 §2.1). The scheme is
 * matched case-insensitively and any number of spaces may follow it.
 */
export function parseAuthorization(value: string): BearerParse {
  const trimmed = value.trim();
  if (holdsSeveralCredentials(trimmed)) return { kind: 'multiple' };
  const match = /^(\S+)(.*)$/s.exec(trimmed);
  if (match === null) return { kind: 'other-scheme' };
  if (match[1]!.toLowerCase() !== 'bearer') return { kind: 'other-scheme' };
  // Only spaces may separate the scheme from the token (RFC 7235 `1*SP`); a tab is malformed.
  const spaced = /^ +(.*)$/s.exec(match[2]!);
  if (spaced === null || !isB64Token(spaced[1]!)) return { kind: 'malformed' };
  return { kind: 'token', token: spaced[1]! };
}
