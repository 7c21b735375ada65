/**
 * Options of @fastify/jwt 10 that have another name or no equivalent here, and what to write
 * instead: a migrating user gets this rather than core's bare "unknown option".
 */
const FASTIFY_JWT_OPTIONS: ReadonlyMap<string, string> = new Map([
  [
    'verify',
    'its fields are top-level options here: allowedIss → issuer, allowedAud → audience, allowedSub → subject, algorithms, maxAge → maxTokenAge, clockTolerance, requiredClaims, cache, extractToken → getToken',
  ],
  ['sign', 'this plugin only verifies: issue tokens with createTokenIssuer from @jwtauth/issuer'],
  ['decode', 'tokens are always verified before use; the verified header and payload are in request.auth'],
  ['cookie', 'use tokenFrom: { cookie: { name, signed } }'],
  ['trusted', 'use isRevoked(payload, header), which returns true to refuse a token'],
  ['formatUser', 'use resolveUser(payload, request), whose result becomes request.user'],
  ['decoratorName', 'the result is always in request.auth and request.user'],
  ['jwtVerify', 'with hook: false, a namespace names it: namespace: "x" gives request.xJwtVerify()'],
  ['jwtDecode', 'there is no decode without verification; use a namespace with hook: false'],
  ['jwtSign', 'this plugin only verifies: issue tokens with createTokenIssuer from @jwtauth/issuer'],
]);

/** Throws a `TypeError` naming our equivalent when an @fastify/jwt option is given. */
export function refusePeerOptions(options: object): void {
  for (const name of Object.keys(options)) {
    const instead = FASTIFY_JWT_OPTIONS.get(name);
    if (instead !== undefined) {
      throw new TypeError(`jwtAuth: "${name}" is an @fastify/jwt option: ${instead} (see "Coming from @fastify/jwt" in the @jwtauth/fastify README).`);
    }
  }
  const { secret } = options as { secret?: unknown };
  if (typeof secret === 'object' && secret !== null && !('kty' in secret) && ('public' in secret || 'private' in secret)) {
    throw new TypeError(
      'jwtAuth: "secret" { public, private } is @fastify/jwt\'s form: give the public key alone (secret: publicKey); tokens are issued with createTokenIssuer from @jwtauth/issuer.',
    );
  }
}
