import { isB64Token, parseAuthorization } from './bearer.js';
import { cookieValues } from './cookies.js';
import { headerValues, queryString, type RequestLike } from './request.js';

/** Where tokens are read from. */
export interface TokenFrom {
  /** Read `Authorization: Bearer <token>`. Default `true`. */
  header?: boolean;
  /** Name of a cookie that holds the token. Not read unless given. */
  cookie?: string;
  /** Name of a query parameter that holds the token (RFC 6750 §2.3). Not read unless given. */
  query?: string;
}

/** The outcome of looking for a token in every enabled location. */
export type TokenLookup =
  | { kind: 'token'; token: string }
  | { kind: 'none' }
  | { kind: 'malformed_header' }
  | { kind: 'multiple_tokens' }
  /** A cookie or query value that cannot be a token. */
  | { kind: 'malformed_token' };

function queryValues(request: RequestLike, name: string): string[] {
  const query = queryString(request);
  if (query === '') return [];
  return new URLSearchParams(query).getAll(name).filter((value) => value !== '');
}

/** Looks for the token in every location `from` enables; more than one found is an error. */
export function findToken(request: RequestLike, from: Required<Pick<TokenFrom, 'header'>> & TokenFrom): TokenLookup {
  const found: string[] = [];
  if (from.header) {
    const lines = headerValues(request, 'authorization');
    if (lines.length > 0) {
      // Node hands every line; a Fetch `Headers` has joined them with `, ` and nothing can take
      // them apart again. Join them the same way, so both runtimes read the same value and answer
      // alike (an empty second line, a garbled one): parseAuthorization tells several from one.
      const parsed = parseAuthorization(lines.join(', '));
      if (parsed.kind === 'malformed') return { kind: 'malformed_header' };
      if (parsed.kind === 'multiple') return { kind: 'multiple_tokens' };
      if (parsed.kind === 'token') found.push(parsed.token);
    }
  }
  const extra = [
    ...(from.cookie === undefined ? [] : cookieValues(request, from.cookie)),
    ...(from.query === undefined ? [] : queryValues(request, from.query)),
  ];
  found.push(...extra);
  if (found.length > 1) return { kind: 'multiple_tokens' };
  if (found.length === 0) return { kind: 'none' };
  if (extra.length === 1 && !isB64Token(extra[0]!)) return { kind: 'malformed_token' };
  return { kind: 'token', token: found[0]! };
}
