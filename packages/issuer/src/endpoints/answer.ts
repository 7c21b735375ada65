import type { AuthError, EndpointAnswer } from '@jwtauth/core';

/** Error codes of the token endpoints, besides the contract's own `AuthErrorCode`s. */
export type EndpointErrorCode = 'invalid_credentials' | 'invalid_json' | 'missing_field' | 'too_many_requests' | 'login_busy' | 'invalid_dpop_proof';

/** The one code→HTTP table of the endpoints' own errors (the contract's live in core). */
const ERRORS: Record<EndpointErrorCode, { status: number; error: string }> = {
  invalid_credentials: { status: 401, error: 'invalid_grant' },
  invalid_json: { status: 400, error: 'invalid_request' },
  missing_field: { status: 400, error: 'invalid_request' },
  too_many_requests: { status: 429, error: 'too_many_requests' },
  login_busy: { status: 503, error: 'temporarily_unavailable' },
  // RFC 9449 §5: a token endpoint answers a bad or missing proof 400 invalid_dpop_proof.
  invalid_dpop_proof: { status: 400, error: 'invalid_dpop_proof' },
};

/** Every answer of the token endpoints, errors included, must not be cached (RFC 6749 §5.1). */
const NO_STORE = { 'Cache-Control': 'no-store' } as const;

/** A JSON answer; every one carries `Cache-Control: no-store`. */
export function json(status: number, body: EndpointAnswer['body'], headers: Record<string, string> = {}): EndpointAnswer {
  return { status, headers: { 'Content-Type': 'application/json', ...NO_STORE, ...headers }, body };
}

/** An error in the contract's shape: `{"error","error_description","code"}`. */
export function failure(code: EndpointErrorCode, description: string, headers: Record<string, string> = {}): EndpointAnswer {
  const { status, error } = ERRORS[code];
  return json(status, { error, error_description: description, code }, headers);
}

/** The contract's answer for an {@link AuthError} of the token issuer (challenge or `Retry-After` included). */
export function authFailure(error: AuthError): EndpointAnswer {
  return json(error.status, error.toJSON(), { ...error.headers });
}

/** 400 `missing_field` for a member that is absent or not a string. */
export function missingField(name: string, problem = 'is required and must be a string'): EndpointAnswer {
  return failure('missing_field', `"${name}" ${problem}`);
}
