import { trimOws } from './field-value.js';

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The outcome of reading one `Authorization` header value. */
export type BearerParse =
  /** One well-formed bearer token. */
  | {
      /** Which outcome this is. */
      kind: 'token';
      /** The token, without the scheme. */
      token: string;
      /** The scheme it came with: `DPoP` only when {@link ParseOptions.dpop} accepts it. */
      scheme: 'Bearer' | 'DPoP';
    }
  /** Another scheme (`Basic …`): as if no bearer credentials were sent. */
  | {
      /** Which outcome this is. */
      kind: 'other-scheme';
    }
  /** `Bearer` with no token, illegal characters or extra parts. */
  | {
      /** Which outcome this is. */
      kind: 'malformed';
    }
  /** Several credentials joined into one value (repeated headers merged by a Fetch `Headers`). */
  | {
      /** Which outcome this is. */
      kind: 'multiple';
    };

/** True when `value` is a syntactically valid RFC 6750 b64token. */
export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value);
}

/** The RFC 7235 `auth-scheme` (a `token`) a credential starts with; empty when it starts with none. */
function schemeOf(credential: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(credential)![0];
}

/** `scheme credentials`; not `name = value`, a parameter with whitespace around `=` (RFC 7235 BWS). */
const SCHEME_WITH_CREDENTIALS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ +[^ \t=]/;

/**
 * Whether a piece after a comma starts a credential of its own (`scheme`, `scheme <anything>`)
 * rather than continuing the previous one with an `auth-param` (`name=value`, as Digest does).
 */
function startsCredential(piece: string): boolean {
  const scheme = schemeOf(piece);
  if (scheme === '') return false;
  const after = piece.slice(scheme.length);
  if (after.startsWith('=')) return false;
  // `name = value` (RFC 7235 allows whitespace around `=`) is a parameter too, except after
  // `Bearer` (and `DPoP`, its sender-constrained twin): what may be a second token is refused
  // rather than explained away.
  const lower = scheme.toLowerCase();
  return lower === 'bearer' || lower === 'dpop' || !trimOws(after).startsWith('=');
}

/**
 * Whether a value holds several credentials. A Fetch `Headers` joins repeated `Authorization`
 * lines with `, ` (RFC 9110 §5.3) and nothing can tell the result from one line, so a Node request
 * is read the same way (see `findToken`) and this decides for both. Several credentials show as:
 * an empty line joined in (nothing before the first `, `, or a blank piece such as the trailing
 * `, ` an empty last line leaves: the value must not be trimmed before this), a new credential
 * after a comma, or anything after `, ` once the value started with a Bearer credential, which has
 * no parameters (RFC 6750 §2.1). A bare run of commas (`Bearer ,,,`) is one malformed line.
 * Split first and test each piece with anchored patterns: one pattern over the whole value would
 * backtrack quadratically on a run of commas.
 */
function holdsSeveralCredentials(value: string): boolean {
  if (!value.includes(',')) return false;
  const [first, ...rest] = value.split(',');
  if (trimOws(first!) === '' && rest[0]!.startsWith(' ')) return true;
  const firstScheme = schemeOf(trimOws(first!)).toLowerCase();
  const bearer = firstScheme === 'bearer' || firstScheme === 'dpop';
  return rest.some((piece) => {
    const trimmed = trimOws(piece);
    if (trimmed === '') return piece !== '';
    if (SCHEME_WITH_CREDENTIALS.test(trimmed)) return true;
    // Without the space of `, ` no line was joined here: `Bearer abc,def` stays one malformed token.
    return piece.startsWith(' ') && (bearer || startsCredential(trimmed));
  });
}

/** Options of {@link parseAuthorization}. */
export interface ParseOptions {
  /** Accept the `DPoP` scheme (RFC 9449 §7.1) as well as `Bearer`. Default `false`: `DPoP` is another scheme. */
  dpop?: boolean;
}

/**
 * Parses `credentials = auth-scheme 1*SP b64token` (RFC 7235 / RFC 6750 §2.1). The scheme is
 * matched case-insensitively and any number of spaces may follow it. `value` is the field value
 * as a Fetch `Headers` gives it: several lines joined with `, `.
 */
export function parseAuthorization(value: string, options: ParseOptions = {}): BearerParse {
  if (holdsSeveralCredentials(value)) return { kind: 'multiple' };
  const trimmed = trimOws(value);
  const scheme = schemeOf(trimmed);
  const lower = scheme.toLowerCase();
  if (lower !== 'bearer' && !(lower === 'dpop' && options.dpop === true)) return { kind: 'other-scheme' };
  // Only spaces may separate the scheme from the token (RFC 7235 `1*SP`); a tab is malformed.
  const spaced = /^ +(.*)$/s.exec(trimmed.slice(scheme.length));
  if (spaced === null || !isB64Token(spaced[1]!)) return { kind: 'malformed' };
  return { kind: 'token', token: spaced[1]!, scheme: lower === 'dpop' ? 'DPoP' : 'Bearer' };
}
