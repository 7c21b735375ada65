/**
 * A ready HTTP answer, for what the servers answer outside their framework (`requestProblem()`
 * before routing, `answerClientError()` on the socket): written out as it is, the same bytes from
 * all four.
 */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** `body` as JSON, in the key order it was built with. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  const text = JSON.stringify(body);
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers },
    body: text,
  };
}

/** The error codes answered outside the frameworks (examples/README.md). */
export type ExampleErrorCode = 'not_found' | 'bad_request' | 'headers_too_large' | 'request_timeout';

const ERRORS: Record<ExampleErrorCode, { status: number; error: string }> = {
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

/** 400 for a request that is not valid HTTP, or whose URL or `Host` header is malformed. */
export function badRequest(description = 'The request is malformed'): Answer {
  return failure('bad_request', description);
}

/** 404 for every method and path no route serves. */
export function notFound(): Answer {
  return failure('not_found', 'There is nothing at this address');
}
