import { BODY_LIMIT, NO_STORE, bodyTooLarge, failure, type Answer } from './answer.js';

/** A POST to a token endpoint, as any framework sees it. */
export interface TokenRequest {
  /** The raw body (bytes, as read under the size limit), or `undefined` when there was none. */
  body: Uint8Array | string | undefined;
  /** The `Content-Type` header. */
  contentType: string | undefined;
  /** The `Cookie` header. */
  cookie: string | undefined;
  /** The `Content-Encoding` header: compressed bodies are refused (Express would inflate them, the others not). */
  contentEncoding?: string | undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; answer: Answer };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as a JSON object. Only `Content-Type: application/json` is accepted: a cross-site form
 * cannot send it without a CORS preflight, which is what keeps the refresh cookie CSRF-safe.
 */
export function parseJsonObject(request: Pick<TokenRequest, 'body' | 'contentType' | 'contentEncoding'>): Parsed<Record<string, unknown>> {
  // In the order of refuseBeforeReading(), for servers that read the body first.
  if (!isIdentity(request.contentEncoding)) return { ok: false, answer: encodedBody() };
  if (!isJson(request.contentType)) return { ok: false, answer: notJson() };
  let value: unknown;
  try {
    const text = typeof request.body === 'string' ? request.body : utf8.decode(request.body ?? new Uint8Array());
    value = JSON.parse(text);
  } catch {
    return { ok: false, answer: failure('invalid_json', 'The request body is not valid JSON') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, answer: failure('invalid_json', 'The request body must be a JSON object') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The headers of a token-endpoint request that decide, before its body is read, whether to read it. */
export interface BodyHeaders {
  contentLength: string | undefined;
  contentEncoding: string | undefined;
  contentType: string | undefined;
}

/**
 * The answer to a token-endpoint request that its headers already decide, or `undefined` when the
 * body should be read. Every server asks this before reading, so that none reads (or waits for) a
 * body it will refuse, and all answer in the same order: a `Content-Length` over
 * {@link BODY_LIMIT} first (413, whatever else is wrong), then a `Content-Encoding` (400), then a
 * `Content-Type` other than JSON (400, which also covers types a framework cannot parse). Each
 * answer closes the connection (`Connection: close`): Node would otherwise read the unread body to
 * its end to reuse the connection, for as long as the client streams it.
 */
export function refuseBeforeReading(headers: BodyHeaders): Answer | undefined {
  if (Number(headers.contentLength) > BODY_LIMIT) return bodyTooLarge();
  let refused: Answer | undefined;
  if (!isIdentity(headers.contentEncoding)) refused = encodedBody();
  else if (!isJson(headers.contentType)) refused = notJson(NO_STORE);
  return refused === undefined ? undefined : { ...refused, headers: { ...refused.headers, Connection: 'close' } };
}

function notJson(headers: Record<string, string> = {}): Answer {
  return failure('invalid_json', 'The request body must be JSON, sent with Content-Type: application/json', headers);
}

/** 400 for a body sent with a `Content-Encoding` (gzip, …): the endpoints take plain JSON only. */
export function encodedBody(): Answer {
  return failure('invalid_json', 'The request body must be plain JSON, without a Content-Encoding', NO_STORE);
}

function isIdentity(contentEncoding: string | undefined): boolean {
  return contentEncoding === undefined || contentEncoding.trim().toLowerCase() === 'identity';
}

/** Whether a `Content-Type` value names `application/json` (parameters such as `charset` allowed). */
export function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** An own string member of `object`; `undefined` when absent. */
export function optionalString(object: Record<string, unknown>, name: string): Parsed<string | undefined> {
  const value = Object.hasOwn(object, name) ? object[name] : undefined;
  if (value === undefined || typeof value === 'string') return { ok: true, value };
  return { ok: false, answer: missingField(name) };
}

/** An own string member of `object` that must be there. */
export function requiredString(object: Record<string, unknown>, name: string): Parsed<string> {
  const value = Object.hasOwn(object, name) ? object[name] : undefined;
  if (typeof value === 'string') return { ok: true, value };
  return { ok: false, answer: missingField(name) };
}

export function missingField(name: string, problem = 'is required and must be a string'): Answer {
  return failure('missing_field', `"${name}" ${problem}`);
}
