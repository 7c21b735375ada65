/** Parameters of an RFC 6750 §3 `WWW-Authenticate: Bearer` challenge, or an RFC 9449 §7.1 `DPoP` one. */
export interface ChallengeParams {
  /** The scheme: `Bearer` (default) or `DPoP`. */
  scheme?: 'Bearer' | 'DPoP' | undefined;
  /** The `realm` attribute (the protection space). */
  realm?: string | undefined;
  /** The `error` attribute (`invalid_request`, `invalid_token`, `insufficient_scope`); none for a request without credentials. */
  error?: string | undefined;
  /** The `error_description` attribute, for the developer reading the answer (written only with `error`). */
  description?: string | undefined;
  /** The scopes the resource needs: the space-separated `scope` attribute. */
  scopes?: readonly string[] | undefined;
  /** RFC 9728 §5.1 `resource_metadata`: the URL of this resource's metadata. */
  resourceMetadata?: string | undefined;
  /** RFC 9449 §7.1 `algs`: the DPoP proof algorithms accepted (a `DPoP` challenge only). */
  algs?: readonly string[] | undefined;
}

/** RFC 7230 quoted-string: backslash-escape `"` and `\`. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Printable ASCII only: the challenge is a header value, so control characters would break it. */
export function isChallengeSafe(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

/**
 * The characters RFC 6750 §3 allows in `error_description` (printable ASCII without `"` and
 * `\`), so the value needs no escaping in any client's parser.
 */
export function isDescriptionSafe(value: string): boolean {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(value);
}

/**
 * Serialises a Bearer (or DPoP) challenge. With no `error` it is the bare challenge RFC 6750 §3.1 asks for
 * when a request carried no credentials.
 */
export function buildChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm=${quote(params.realm)}`);
  if (params.error !== undefined) parts.push(`error=${quote(params.error)}`);
  if (params.error !== undefined && params.description !== undefined) {
    parts.push(`error_description=${quote(params.description)}`);
  }
  if (params.scopes !== undefined && params.scopes.length > 0) parts.push(`scope=${quote(params.scopes.join(' '))}`);
  if (params.resourceMetadata !== undefined) parts.push(`resource_metadata=${quote(params.resourceMetadata)}`);
  if (params.algs !== undefined && params.algs.length > 0) parts.push(`algs=${quote(params.algs.join(' '))}`);
  const scheme = params.scheme ?? 'Bearer';
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}
