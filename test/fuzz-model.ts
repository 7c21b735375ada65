/**
 * What the contract (/work/shared/contract.md, section 2) lets a client observe, written from the
 * RFCs rather than from core's code, so that the property tests in fuzz.test.ts can tell a right
 * answer from a wrong one without asking the code under test.
 */
import type { RawResponse } from './raw-http.js';

/** Contract codes that can answer a request to an unguarded route with an HMAC secret. */
export const ERROR_TABLE = {
  missing_token: { status: 401, error: 'unauthorized' },
  malformed_header: { status: 400, error: 'invalid_request' },
  multiple_tokens: { status: 400, error: 'invalid_request' },
  malformed_token: { status: 401, error: 'invalid_token' },
  invalid_signature: { status: 401, error: 'invalid_token' },
  algorithm_not_allowed: { status: 401, error: 'invalid_token' },
  token_expired: { status: 401, error: 'invalid_token' },
  token_not_yet_valid: { status: 401, error: 'invalid_token' },
  token_too_old: { status: 401, error: 'invalid_token' },
  claim_invalid: { status: 401, error: 'invalid_token' },
  wrong_token_type: { status: 401, error: 'invalid_token' },
} as const;

export type ContractCode = keyof typeof ERROR_TABLE;

/**
 * Bytes Node's HTTP parser refuses with its own 400 before any application code runs: in a field
 * value every control character except HTAB (RFC 9110 §5.5 allows only VCHAR, obs-text, SP and
 * HTAB); in the request target also SP, DEL and every byte above 0x7F (RFC 9112 §3.2).
 */
/* eslint-disable no-control-regex -- these name the control characters the HTTP parsers refuse */
export const REFUSED_IN_FIELD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
export const REFUSED_IN_TARGET = /[\x00-\x20\x7f-\xff]/;
/* eslint-enable no-control-regex */

/**
 * Node's parser's own 400 (`Connection: close`, no body), or, on Fastify, the answer of its
 * `clientError` handler. Nothing else counts as "refused before the app".
 */
export function isParserRefusal(answer: RawResponse, framework: string): boolean {
  if (answer.status !== 400 || answer.headers['www-authenticate'] !== undefined) return false;
  if (framework.startsWith('fastify')) return answer.body === '{"error":"Bad Request","message":"Client Error","statusCode":400}';
  return answer.body === '' && answer.headers['content-type'] === undefined;
}

/** RFC 6750 §2.1 `b64token`. */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Removes RFC 9110 OWS (SP and HTAB only: nothing else is whitespace in a field value). */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === ' ' || value[start] === '\t')) start++;
  while (end > start && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  return value.slice(start, end);
}

/** What the model expects: an exact code, any failure of one status, any failure, or success. */
export type Expected =
  | { kind: 'refused' }
  | { kind: 'ok' }
  /** A correctly signed token whose claims the model does not judge: 200, or a 401. */
  | { kind: 'ok-or-401' }
  | { kind: 'code'; code: ContractCode }
  | { kind: 'status'; status: 400 | 401 }
  /** Some contract failure; only its shape and its agreement across adapters are checked. */
  | { kind: 'failure' };

const code = (c: ContractCode): Expected => ({ kind: 'code', code: c });

/** The auth-scheme a credential starts with: a `token` (RFC 7235 §2.1); empty when none. */
function schemeOf(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(value)![0];
}

/** A Bearer credential proper: the scheme, then SP or HTAB or nothing. */
const isBearerLine = (value: string) => /^bearer(?:[ \t]|$)/i.test(value);

/**
 * The answer to `Authorization` field lines `values` (each as sent), when `valid` is the only
 * token that verifies. Where a comma makes the RFCs ambiguous (a Fetch `Headers` joins repeated
 * lines with `, `, so it cannot tell them from one line holding a comma), the model asks less.
 */
export function expectAuthorization(values: readonly string[], valid: string): Expected {
  if (values.some((value) => REFUSED_IN_FIELD_VALUE.test(value))) return { kind: 'refused' };
  const trimmed = values.map(trimOws);
  if (trimmed.length === 0) return code('missing_token');
  if (trimmed.length > 1) {
    // Several lines, one of them empty or a Bearer credential: "several Authorization headers".
    if (trimmed.some((value) => value === '' || isBearerLine(value))) return code('multiple_tokens');
    return { kind: 'failure' };
  }
  const value = trimmed[0]!;
  if (value === '') return code('missing_token');
  const scheme = schemeOf(value);
  if (scheme.toLowerCase() !== 'bearer') return value.includes(',') ? { kind: 'failure' } : code('missing_token');
  // A comma never belongs in a Bearer credential: malformed, or several credentials joined.
  if (value.includes(',')) return { kind: 'status', status: 400 };
  const token = /^ +(.*)$/s.exec(value.slice(scheme.length))?.[1];
  if (token === undefined || !B64TOKEN.test(token)) return code('malformed_header');
  return token === valid ? { kind: 'ok' } : { kind: 'status', status: 401 };
}

/** The tokens a `Cookie` field line gives cookie `name` (RFC 6265 §4.2.1, read leniently). */
export function cookieTokens(lines: readonly string[], name: string): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || trimOws(pair.slice(0, eq)) !== name) continue;
      let value = trimOws(pair.slice(eq + 1));
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (value !== '') found.push(value);
    }
  }
  return found;
}

/** The tokens a query string gives parameter `name` (RFC 6750 §2.3: form-urlencoded). */
export function queryTokens(query: string, name: string): string[] {
  const hash = query.indexOf('#');
  return new URLSearchParams(hash === -1 ? query : query.slice(0, hash)).getAll(name).filter((value) => value !== '');
}

/** What a request to the cookie-and-query scenario should get. */
export interface LocationsInput {
  /** At most one `Authorization` line. */
  authorization: readonly string[];
  cookies: readonly string[];
  query: string;
}

/**
 * The answer when tokens are read from the header, cookie `name` and query parameter `name`:
 * a bad header is reported first, then more than one token found is `multiple_tokens`.
 */
export function expectLocations(input: LocationsInput, name: string, valid: string): Expected {
  // Node reads spaces after the target as the separator before the HTTP version (RFC 9112 §3).
  const query = input.query.replace(/ +$/, '');
  if (input.cookies.some((line) => REFUSED_IN_FIELD_VALUE.test(line)) || REFUSED_IN_TARGET.test(query)) return { kind: 'refused' };
  const header = expectAuthorization(input.authorization, valid);
  if (header.kind === 'refused') return header;
  const found: Array<{ token: string; from: 'header' | 'elsewhere' }> = [];
  if (input.authorization.length > 0) {
    const value = trimOws(input.authorization[0]!);
    if (header.kind === 'code' && header.code !== 'missing_token') return header;
    if (header.kind !== 'code') found.push({ token: value.replace(/^[^ ]+ +/, ''), from: 'header' });
  }
  for (const token of [...cookieTokens(input.cookies, name), ...queryTokens(query, name)]) found.push({ token, from: 'elsewhere' });
  if (found.length > 1) return code('multiple_tokens');
  if (found.length === 0) return code('missing_token');
  const [only] = found;
  if (only!.from === 'elsewhere' && !B64TOKEN.test(only!.token)) return code('malformed_token');
  return only!.token === valid ? { kind: 'ok' } : { kind: 'status', status: 401 };
}

/** RFC 7230 quoted-string, as the challenge carries it. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/**
 * Checks one answer against the contract and `expected`; returns what is wrong, or `undefined`.
 * `valid` is the token a 200 must carry; it must never appear in an error description.
 */
export function contractViolation(answer: RawResponse, framework: string, expected: Expected, valid: string): string | undefined {
  if (expected.kind === 'refused') return isParserRefusal(answer, framework) ? undefined : 'expected the HTTP parser to refuse the request';
  if (isParserRefusal(answer, framework)) return 'refused by the HTTP parser, though every byte is allowed';
  const challenge = answer.headers['www-authenticate'];
  if (answer.status === 200) {
    if (expected.kind !== 'ok' && expected.kind !== 'ok-or-401') return 'answered 200 to a request without exactly one valid token';
    if (challenge !== undefined) return 'a 200 carries a challenge';
    const body = JSON.parse(answer.body) as { auth?: { token?: unknown } };
    return body.auth?.token === valid ? undefined : 'the 200 does not carry the valid token';
  }
  if (expected.kind === 'ok') return `answered ${answer.status} to a valid token`;
  if (answer.status !== 400 && answer.status !== 401) return `status ${answer.status} is not one of the contract's`;
  if (answer.headers['content-type']?.join() !== 'application/json') return `Content-Type ${answer.headers['content-type']?.join()}`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return 'the body is not JSON';
  }
  const { error, error_description: description, code: got, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return `extra body fields ${Object.keys(rest).join(', ')}`;
  if (typeof got !== 'string' || !(got in ERROR_TABLE)) return `code ${String(got)} is not a contract code here`;
  const row = ERROR_TABLE[got as ContractCode];
  if (row.status !== answer.status || row.error !== error) return `${got} answered as ${answer.status} ${String(error)}`;
  // A short token ("o") may well be a substring of an English sentence; a real one never is.
  if (typeof description !== 'string' || description === '' || (valid.length >= 16 && description.includes(valid))) return 'bad error_description';
  const wantChallenge = got === 'missing_token' ? 'Bearer' : `Bearer error=${quoted(row.error)}, error_description=${quoted(description)}`;
  if (challenge?.length !== 1 || challenge[0] !== wantChallenge) return `challenge ${JSON.stringify(challenge)}, expected ${wantChallenge}`;
  if (answer.headers['content-length']?.join() !== String(Buffer.byteLength(answer.body))) return 'Content-Length does not match the body';
  if (expected.kind === 'code' && got !== expected.code) return `code ${got}, expected ${expected.code}`;
  if (expected.kind === 'ok-or-401' && answer.status !== 401) return `status ${answer.status}, expected 200 or 401`;
  if (expected.kind === 'status' && answer.status !== expected.status) return `status ${answer.status}, expected ${expected.status}`;
  return undefined;
}

/**
 * What must be identical across adapters: everything for a failure; status and body for a
 * success (the frameworks spell a JSON Content-Type differently); the parser's refusal as such.
 */
export function comparable(answer: RawResponse, framework: string): unknown {
  if (isParserRefusal(answer, framework)) return 'refused by the HTTP parser';
  if (answer.status === 200) return { status: 200, body: answer.body === '' ? null : (JSON.parse(answer.body) as unknown) };
  return {
    status: answer.status,
    contentType: answer.headers['content-type'],
    challenge: answer.headers['www-authenticate'],
    contentLength: answer.headers['content-length'],
    body: answer.body,
  };
}
