import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticate.js';
import type { JwtAuthOptions } from './options.js';

const SECRET = 'a-config-test-secret-of-sixty-four-bytes-enough-for-every-hs-alg';

let rsaPem: string;
let rsaPrivatePem: string;
let rsaJwk: JWK;
let rsaPrivateJwk: JWK;
let esJwk: JWK;
let rsaKeyObject: unknown;
let rsaCryptoKey: CryptoKey;

beforeAll(async () => {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const es = await generateKeyPair('ES256', { extractable: true });
  rsaPem = await exportSPKI(rs.publicKey);
  rsaPrivatePem = await exportPKCS8(rs.privateKey);
  rsaJwk = await exportJWK(rs.publicKey);
  rsaPrivateJwk = await exportJWK(rs.privateKey);
  esJwk = await exportJWK(es.publicKey);
  rsaKeyObject = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  rsaCryptoKey = rs.publicKey;
});

type Options = JwtAuthOptions<never, unknown, unknown>;
const create = (options: unknown) => createAuthenticator(options as Options);

describe('createAuthenticator: configuration is checked at creation', () => {
  it.each<[string, () => unknown]>([
    ['no options at all', () => undefined],
    ['neither secret nor jwks', () => ({})],
    ['both secret and jwks', () => ({ secret: SECRET, jwks: { keys: [rsaJwk] } })],
    ['algorithms: ["none"]', () => ({ secret: SECRET, algorithms: ['none'] })],
    ['algorithms: ["NONE"]', () => ({ secret: SECRET, algorithms: ['HS256', 'NONE'] })],
    ['an unknown algorithm', () => ({ secret: SECRET, algorithms: ['HS1'] })],
    ['an empty algorithms list', () => ({ secret: SECRET, algorithms: [] })],
    ['algorithms given as a string', () => ({ secret: SECRET, algorithms: 'HS256' })],
    ['HS256 requested with an RSA PEM (algorithm confusion)', () => ({ secret: rsaPem, algorithms: ['HS256'] })],
    ['HS256 and RS256 requested with an RSA PEM', () => ({ secret: rsaPem, algorithms: ['RS256', 'HS256'] })],
    ['HS256 requested with an RSA JWK', () => ({ secret: rsaJwk, algorithms: ['HS256'] })],
    ['HS256 requested with an RSA KeyObject', () => ({ secret: rsaKeyObject, algorithms: ['HS256'] })],
    ['HS256 requested with an RSA CryptoKey', () => ({ secret: rsaCryptoKey, algorithms: ['HS256'] })],
    ['RS256 requested with an HMAC secret', () => ({ secret: SECRET, algorithms: ['RS256'] })],
    ['ES384 requested with a P-256 JWK', () => ({ secret: esJwk, algorithms: ['ES384'] })],
    ['HS256 requested with a JWK Set of RSA keys', () => ({ jwks: { keys: [rsaJwk] }, algorithms: ['HS256'] })],
    ['a private key PEM', () => ({ secret: rsaPrivatePem })],
    ['a private JWK', () => ({ secret: rsaPrivateJwk })],
    ['a private JWK in a JWK Set', () => ({ jwks: { keys: [rsaPrivateJwk] } })],
    ['a JWK with use "enc"', () => ({ secret: { ...rsaJwk, use: 'enc' } })],
    ['a JWK Set whose only key has use "enc"', () => ({ jwks: { keys: [{ ...rsaJwk, use: 'enc' }] } })],
    ['an empty JWK Set', () => ({ jwks: { keys: [] } })],
    ['a JWK Set entry that is not a JWK', () => ({ jwks: { keys: [{ n: 'x' }] } })],
    ['jwks that is neither keys nor uri', () => ({ jwks: 'https://example.com/jwks.json' })],
    ['a jwks uri that is not a URL', () => ({ jwks: { uri: 'not a url' } })],
    ['a jwks uri with a non-HTTP scheme', () => ({ jwks: { uri: 'file:///etc/jwks.json' } })],
    ['a negative jwks timeout', () => ({ jwks: { uri: 'https://example.com/jwks.json', timeoutDuration: -1 } })],
    ['an empty secret', () => ({ secret: '' })],
    ['an empty byte secret', () => ({ secret: new Uint8Array(0) })],
    ['a numeric secret', () => ({ secret: 42 })],
    ['an unknown option name ("algorithm")', () => ({ secret: SECRET, algorithm: 'HS256' })],
    ['an unknown option name ("issuers")', () => ({ secret: SECRET, issuers: ['a'] })],
    ['a clockTolerance that cannot be read', () => ({ secret: SECRET, clockTolerance: 'soon' })],
    ['a clockTolerance with an unknown unit', () => ({ secret: SECRET, clockTolerance: '30 parsecs' })],
    ['a negative clockTolerance', () => ({ secret: SECRET, clockTolerance: -5 })],
    ['a non-finite clockTolerance', () => ({ secret: SECRET, clockTolerance: Number.POSITIVE_INFINITY })],
    ['a maxTokenAge that cannot be read', () => ({ secret: SECRET, maxTokenAge: 'forever' })],
    ['a realm with a newline', () => ({ secret: SECRET, realm: 'api\r\nSet-Cookie: a=b' })],
    ['a realm with a non-ASCII character', () => ({ secret: SECRET, realm: 'caf\u00e9' })],
    ['a realm that is not a string', () => ({ secret: SECRET, realm: 5 })],
    ['getToken together with tokenFrom', () => ({ secret: SECRET, getToken: () => undefined, tokenFrom: { header: true } })],
    ['tokenFrom enabling nothing', () => ({ secret: SECRET, tokenFrom: { header: false } })],
    ['tokenFrom that is not an object', () => ({ secret: SECRET, tokenFrom: 'cookie' })],
    ['a tokenFrom cookie name with a space', () => ({ secret: SECRET, tokenFrom: { cookie: 'my token' } })],
    ['a tokenFrom query name that is empty', () => ({ secret: SECRET, tokenFrom: { query: '' } })],
    ['tokenFrom.header that is neither a boolean nor a header name', () => ({ secret: SECRET, tokenFrom: { header: 1 } })],
    ...['Host', 'Content-Type', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Set-Cookie', 'Proxy-Authorization', 'Forwarded'].map(
      (header) =>
        [`tokenFrom.header "${header}", which every request (or a proxy) sets`, () => ({ secret: SECRET, tokenFrom: { header } })] as [string, () => unknown],
    ),
    ['an empty issuer', () => ({ secret: SECRET, issuer: '' })],
    ['an empty audience list', () => ({ secret: SECRET, audience: [] })],
    ['an audience list with a number', () => ({ secret: SECRET, audience: ['a', 1] })],
    ['an empty subject', () => ({ secret: SECRET, subject: '' })],
    ['an empty typ', () => ({ secret: SECRET, typ: '' })],
    ['requiredClaims that is not a list', () => ({ secret: SECRET, requiredClaims: 'sub' })],
    ['credentialsRequired that is not a boolean', () => ({ secret: SECRET, credentialsRequired: 'false' })],
    ['forwardErrors that is not a boolean', () => ({ secret: SECRET, forwardErrors: 1 })],
    ['isRevoked that is not a function', () => ({ secret: SECRET, isRevoked: true })],
    ['resolveUser that is not a function', () => ({ secret: SECRET, resolveUser: {} })],
    ['getToken that is not a function', () => ({ secret: SECRET, getToken: 'header' })],
    ['currentDate that is not a function', () => ({ secret: SECRET, currentDate: new Date() })],
    ['an empty array of keys', () => ({ secret: [] })],
    ['an HMAC secret and an RSA PEM in one array (algorithm confusion)', () => ({ secret: [SECRET, rsaPem] })],
    ['an RSA JWK and an HMAC secret in one array', () => ({ secret: [rsaJwk, SECRET] })],
    ['an oct JWK and an EC JWK in one array', () => ({ secret: [{ kty: 'oct', k: 'x'.repeat(64) }, esJwk] })],
    ['an array holding a private key', () => ({ secret: [rsaPem, rsaPrivatePem] })],
    ['an array holding a short secret', () => ({ secret: [SECRET, 'too-short'] })],
    ['an array holding null', () => ({ secret: [SECRET, null] })],
    ['an array holding a key function', () => ({ secret: [async () => SECRET] })],
    ['an array of keys that cannot verify the requested algorithm', () => ({ secret: [rsaPem, esJwk], algorithms: ['HS256'] })],
    ['issuers as an array', () => ({ issuers: [{ secret: SECRET }] })],
    ['an issuers function next to a top-level secret', () => ({ issuers: () => undefined, secret: SECRET })],
  ])('throws a TypeError at creation for %s', (_, options) => {
    expect(() => create(options())).toThrow(TypeError);
  });

  it('names the option to fix in the message', () => {
    expect(() => create({ secret: SECRET, algorithm: 'HS256' })).toThrow(/"algorithm"/);
    expect(() => create({ secret: SECRET, algorithms: ['none'] })).toThrow(/none/);
  });

  it('never puts the secret in a configuration error', () => {
    try {
      create({ secret: rsaPrivatePem });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(rsaPrivatePem.split('\n')[1]);
    }
  });

  it.each<[string, () => unknown]>([
    ['an HMAC secret', () => ({ secret: SECRET })],
    ['an HMAC secret with a narrowed allowlist', () => ({ secret: SECRET, algorithms: ['HS512'] })],
    ['an RSA PEM with RS256 only', () => ({ secret: rsaPem, algorithms: ['RS256'] })],
    ['a local JWK Set', () => ({ jwks: { keys: [rsaJwk, esJwk] } })],
    ['a JWK Set with one encryption key among signing keys', () => ({ jwks: { keys: [rsaJwk, { ...esJwk, use: 'enc' }] } })],
    ['a remote JWK Set (not fetched at creation)', () => ({ jwks: { uri: 'https://127.0.0.1:1/jwks.json', timeoutDuration: 100 } })],
    ['a key function', () => ({ secret: async () => SECRET })],
    ['a key function using the request', () => ({ secret: async (_header: unknown, _token: string, request: { host: string }) => request.host })],
    ['two HMAC secrets (rotation)', () => ({ secret: [SECRET, `${SECRET}-previous`] })],
    ['several public key families in one array', () => ({ secret: [rsaPem, esJwk, rsaKeyObject, rsaCryptoKey] })],
    ['an array of keys with a narrowed allowlist', () => ({ secret: [rsaPem, esJwk], algorithms: ['ES256', 'PS256'] })],
    ['ten HMAC secrets without kid', () => ({ secret: Array.from({ length: 10 }, (_, i) => `${SECRET}-${i}`) })],
    ['twelve JWKs with a kid each', () => ({ secret: Array.from({ length: 12 }, (_, i) => ({ ...esJwk, kid: `k${i}` })) })],
    ['an issuers function', () => ({ issuers: () => undefined, audience: 'api' })],
    ['an issuer whose secret is an array', () => ({ issuers: { 'https://a.example.com': { secret: [SECRET, `${SECRET}-previous`] } } })],
    [
      'every option at once',
      () => ({
        secret: SECRET,
        algorithms: ['HS256'],
        issuer: ['a', 'b'],
        audience: 'api',
        subject: 'user',
        typ: 'at+jwt',
        clockTolerance: '30s',
        maxTokenAge: '1 hour',
        requiredClaims: ['jti'],
        credentialsRequired: false,
        tokenFrom: { header: true, cookie: 'access_token', query: 'access_token' },
        isRevoked: () => false,
        resolveUser: (payload: unknown) => payload,
        realm: 'My API "v2"',
        forwardErrors: true,
        currentDate: () => new Date(),
      }),
    ],
    ['getToken without tokenFrom', () => ({ secret: SECRET, getToken: () => undefined })],
    ['tokenFrom reading only a cookie', () => ({ secret: SECRET, tokenFrom: { header: false, cookie: 'at' } })],
    ['secret: undefined next to jwks (one of two variables set)', () => ({ secret: undefined, jwks: { keys: [rsaJwk] } })],
    ['discovery with jwks holding only timing', () => ({ issuer: 'https://id.example.com', discovery: true, jwks: { timeoutDuration: 100 } })],
  ])('accepts %s', (_, options) => {
    expect(() => create(options())).not.toThrow();
  });

  it('exposes forwardErrors', () => {
    expect(create({ secret: SECRET }).forwardErrors).toBe(false);
    expect(create({ secret: SECRET, forwardErrors: true }).forwardErrors).toBe(true);
  });
});

describe('start-up messages say what to fix', () => {
  const JWKS_URI = 'https://id.example.com/.well-known/jwks.json';
  const ISSUER = 'https://a.example.com';
  /** An environment variable nobody sets: what `process.env.JWT_SECRET` is on a misdeployed server. */
  const unset = process.env.JWTAUTH_TEST_VARIABLE_THAT_IS_NEVER_SET;

  it.each<[string, () => unknown, RegExp]>([
    ['no options', () => undefined, /options are required: \{ secret \}, \{ jwks \}, \{ issuer, discovery: true \} or \{ issuers \}/],
    [
      'secret read from an unset environment variable',
      () => ({ secret: unset }),
      /"secret" is undefined: is the environment variable it is read from \(such as JWT_SECRET\) set\?/,
    ],
    ['secret: undefined with an issuer and audience', () => ({ secret: undefined, issuer: ISSUER, audience: 'api' }), /"secret" is undefined: .*JWT_SECRET/],
    ['secret: an empty string (JWT_SECRET= in a .env file)', () => ({ secret: '' }), /"secret" is an empty string: .*JWT_SECRET.* set to a value\?/],
    ['secret: null', () => ({ secret: null }), /"secret" is null; give the key/],
    ['jwks given as a URL string', () => ({ jwks: JWKS_URI }), /"jwks" is a string; to fetch a JWK Set from a URL write jwks: \{ uri: 'https:\/\/…' \}/],
    [
      'jwks given as the JSON text of a JWK Set',
      () => ({ jwks: JSON.stringify({ keys: [rsaJwk] }) }),
      /"jwks" is a string of JSON; pass the parsed JWK Set: jwks: JSON\.parse\(text\)/,
    ],
    ['jwks: { url } instead of uri', () => ({ jwks: { url: JWKS_URI } }), /"jwks" has "url"; the option is named "uri": jwks: \{ uri: /],
    ['jwks: { jwksUri }', () => ({ jwks: { jwksUri: JWKS_URI } }), /"jwks" has "jwksUri"; the option is named "uri"/],
    ['jwks.uri read from an unset environment variable', () => ({ jwks: { uri: unset } }), /"jwks\.uri" is undefined: .*JWKS_URI.* set\?/],
    ['jwks.uri an empty string', () => ({ jwks: { uri: '' } }), /"jwks\.uri" is an empty string/],
    ['jwks with both uri and keys', () => ({ jwks: { uri: JWKS_URI, keys: [rsaJwk] } }), /give "jwks\.uri" or "jwks\.keys", not both/],
    ['jwks given as an array of JWKs', () => ({ jwks: [rsaJwk] }), /"jwks" is an array; write jwks: \{ keys: \[\.\.\.\] \}/],
    ['jwks given as one JWK', () => ({ jwks: rsaJwk }), /"jwks" is a single JWK; write jwks: \{ keys: \[jwk\] \}/],
    ['jwks with only timing and no discovery', () => ({ jwks: { timeoutDuration: 100 } }), /"jwks" needs "uri" \(to fetch a JWK Set\) or "keys"/],
    ['jwks: null', () => ({ jwks: null }), /"jwks" must be \{ uri: 'https:\/\/…' \} to fetch a JWK Set, or \{ keys: \[\.\.\.\] \}/],
    [
      'discovery with a jwks uri as well',
      () => ({ issuer: ISSUER, discovery: true, jwks: { uri: JWKS_URI } }),
      /with "discovery", "jwks" holds only timing options/,
    ],
    ['discovery: "true" (a string)', () => ({ issuer: ISSUER, discovery: 'true' }), /"discovery" must be true or false/],
    ['no key source at all', () => ({ issuer: ISSUER }), /no key given: give exactly one of "secret" .*"jwks" .*"discovery: true" .*or "issuers"/],
    ['secret and jwks', () => ({ secret: SECRET, jwks: { keys: [rsaJwk] } }), /give exactly one of "secret" .*"issuers", not "secret" and "jwks" together/],
    ['secret and discovery', () => ({ secret: SECRET, issuer: ISSUER, discovery: true }), /not "secret" and "discovery" together/],
    [
      'an issuer whose secret is undefined',
      () => ({ issuers: { [ISSUER]: { secret: unset } } }),
      /"issuers\["https:\/\/a\.example\.com"\]\.secret" is undefined: .*JWT_SECRET/,
    ],
    [
      'an issuer with no key',
      () => ({ issuers: { [ISSUER]: {} } }),
      /no key given: give exactly one of "issuers\[.*\]\.secret", "issuers\[.*\]\.jwks" or "issuers\[.*\]\.discovery: true"\.$/,
    ],
    [
      'an issuer whose jwks is a string',
      () => ({ issuers: { [ISSUER]: { jwks: JWKS_URI } } }),
      /"issuers\[.*\]\.jwks" is a string; to fetch a JWK Set from a URL write issuers\[.*\]\.jwks: \{ uri/,
    ],
    [
      'an issuer with jwks: { url }',
      () => ({ issuers: { [ISSUER]: { jwks: { url: JWKS_URI } } } }),
      /"issuers\[.*\]\.jwks" has "url"; the option is named "uri"/,
    ],
    ['express-jwt\'s "algorithm"', () => ({ secret: SECRET, algorithm: 'HS256' }), /unknown option "algorithm"; did you mean "algorithms" \(an array\)\?/],
    ['passport-jwt\'s "secretOrKey"', () => ({ secretOrKey: SECRET }), /unknown option "secretOrKey"; did you mean "secret"\?/],
    ['jwks-rsa\'s "jwksUri"', () => ({ jwksUri: JWKS_URI }), /unknown option "jwksUri"; did you mean jwks: \{ uri \}\?/],
    [
      'express-oauth2-jwt-bearer\'s "issuerBaseURL"',
      () => ({ issuerBaseURL: ISSUER }),
      /unknown option "issuerBaseURL"; did you mean "issuer" with discovery: true\?/,
    ],
    [
      'an option named like an Object.prototype member',
      () => JSON.parse('{"secret":"x","constructor":1}') as object,
      /^jwtAuth: unknown option "constructor"\.$/,
    ],
    ['secret: [] (an empty array)', () => ({ secret: [] }), /^jwtAuth: "secret" is an empty array; give at least one key\.$/],
    [
      'a second secret read from an unset environment variable',
      () => ({ secret: [SECRET, unset] }),
      /^jwtAuth: "secret\[1\]" is undefined: is the environment variable it is read from \(such as JWT_SECRET\) set\?$/,
    ],
    ['a second secret that is an empty string', () => ({ secret: [SECRET, ''] }), /^jwtAuth: "secret\[1\]" is an empty string/],
    ['a short secret in an array', () => ({ secret: [SECRET, 'too-short'] }), /^jwtAuth: "secret\[1\]": the HMAC secret is 9 bytes/],
    ['null in an array', () => ({ secret: [null] }), /^jwtAuth: "secret\[0\]": the key is null\.$/],
    [
      'a function in an array',
      () => ({ secret: [SECRET, () => SECRET] }),
      /^jwtAuth: "secret\[1\]" is a function; a key function must be "secret" itself, returning one key or an array of keys\.$/,
    ],
    [
      'an HMAC secret next to an RSA public key',
      () => ({ secret: [SECRET, rsaPem] }),
      /^jwtAuth: "secret": it mixes HMAC secrets with public keys: every holder of the secret could then sign tokens that pass for the public-key issuer's \(algorithm confusion\)\. Keep one kind per list, and give each issuer its own keys with "issuers"\.$/,
    ],
    [
      'eleven HMAC secrets without kid',
      () => ({ secret: Array.from({ length: 11 }, (_, i) => `${SECRET}-${i}`) }),
      /^jwtAuth: "secret" holds more than 10 keys without a kid that verify HS256, and at most 10 are tried for a token: remove retired keys, or give the keys a kid/,
    ],
    [
      'RS256 requested with HMAC secrets',
      () => ({ secret: [SECRET, `${SECRET}-2`], algorithms: ['RS256'] }),
      /^jwtAuth: This list of keys cannot verify RS256; it can verify HS256, HS384, HS512\./,
    ],
    [
      'an issuer mixing key families',
      () => ({ issuers: { [ISSUER]: { secret: [rsaJwk, SECRET] } } }),
      /^jwtAuth: "issuers\["https:\/\/a\.example\.com"\]\.secret": it mixes HMAC secrets with public keys/,
    ],
    [
      'an issuer with an unknown option',
      () => ({ issuers: { [ISSUER]: { secret: SECRET, kid: 'x' } } }),
      /^jwtAuth: unknown option "kid" in "issuers\["https:\/\/a\.example\.com"\]"\.$/,
    ],
    [
      'an issuer with algorithms that are not a list',
      () => ({ issuers: { [ISSUER]: { secret: SECRET, algorithms: 'HS256' } } }),
      /^jwtAuth: "issuers\["https:\/\/a\.example\.com"\]\.algorithms" must be a non-empty array of algorithm names\.$/,
    ],
    [
      'issuers given as an array',
      () => ({ issuers: [] }),
      /"issuers" must map each trusted issuer to \{ secret \}, \{ jwks \} or \{ discovery: true \}, or be a function \(iss, request\) => such keys/,
    ],
  ])('throws a TypeError for %s that says what to fix', (_, options, message) => {
    expect(() => create(options())).toThrow(TypeError);
    expect(() => create(options())).toThrow(message);
  });
});
