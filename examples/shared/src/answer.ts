import { toErrorResponse, type AuthError } from '@jwtauth/core';

/**
 * A ready HTTP answer. Every server writes it out as it is (status, these headers, this body) and
 * never lets its framework serialise JSON, so all four answer the same bytes.
 */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The largest request body the token endpoints accept, in bytes (16 KiB). */
export const BODY_LIMIT = 16 * 1024;

/** `body` as JSON, in the key order it was built with. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  const text = JSON.stringify(body);
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers },
    body: text,
  };
}

/** The error codes of examples/README.md, besides the contract's own. */
export type ExampleErrorCode =
  | 'invalid_credentials'
  | 'invalid_json'
  | 'missing_field'
  | 'body_too_large'
  | 'not_found'
  | 'bad_request'
  | 'headers_too_large'
  | 'request_timeout';

const ERRORS: Record<ExampleErrorCode, { status: number; error: string }> = {
  invalid_credentials: { status: 401, error: 'invalid_grant' },
  invalid_json: { status: 400, error: 'invalid_request' },
  missing_field: { status: 400, error: 'invalid_request' },
  body_too_large: { status: 413, error: 'invalid_request' },
  not_found: { status: 404, error: 'not_found' },
  bad_request: { status: 400, error: 'invalid_request' },
  headers_too_large: { status: 431, error: 'invalid_request' },
  request_timeout: { status: 408, error: 'invalid_request' },
};

/** An error in the contract's shape: `{"error","error_description","code"}`. */
export function failure(code: ExampleErrorCode, description: string, headers: Record<string, string> = {}): Answer {
  const { status, error } = ERRORS[code];
  return json(status, { error, error_description: description, code }, headers);
}

/** Every answer of the token endpoints, errors included, must not be cached (RFC 6749 §5.1). */
export const NO_STORE: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' };

/** The answer of the contract for an {@link AuthError} from the token issuer. */
export function authFailure(error: AuthError): Answer {
  const { status, headers, body } = toErrorResponse(error, 'POST');
  return { status, headers, body: body! };
}

/**
 * 413 from a token endpoint, for a body over {@link BODY_LIMIT} (declared in `Content-Length` or
 * seen arriving). `Connection: close`: the server stops reading, so the rest of the body is not
 * read (and thrown away) first, and the connection cannot be reused.
 */
export function bodyTooLarge(): Answer {
  return failure('body_too_large', `The request body is larger than ${BODY_LIMIT} bytes`, { ...NO_STORE, Connection: 'close' });
}

/** 400 for a request that is not valid HTTP, or whose URL or `Host` header is malformed. */
export function badRequest(description = 'The request is malformed'): Answer {
  return failure('bad_request', description);
}

/** 404 for every method and path no route serves. */
export function notFound(): Answer {
  return failure('not_found', 'There is nothing at this address');
}
