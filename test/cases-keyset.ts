/**
 * Conformance scenarios of issue 9's key bullets: `secret` as several keys (rotation, choice by
 * `kid`), key functions returning several keys, key and issuers functions choosing by the
 * request's `Host` (multi-tenant). They run against every harness like the scenarios of
 * cases.ts, which spreads them at the end of its table.
 */
import { KeyObject } from 'node:crypto';
import type { AuthErrorCode, IssuerKeys, JWK } from '@jwtauth/core';
import type { Expect, Scenario, Send } from './cases.js';
import { HS_SECRET, now, sign, signWithText, type Keys } from './fixtures.js';

/** The helpers of cases.ts these scenarios use, handed over to keep the modules acyclic. */
export interface CaseHelpers {
  bearer: (token: string, path?: string) => Send;
  attached: () => (sent: Send) => Expect;
  failure: (code: AuthErrorCode, extra?: { description?: string }) => Expect;
  forwarded: (status: number, name: string, code: string | null, message: string) => Expect;
}

/** The secret that replaces {@link HS_SECRET}, which stays trusted while tokens signed with it live. */
const NEW_SECRET = 'the-new-conformance-secret-taking-over-0123456789abcdef-64-bytes';
const STRANGER = 'a-secret-no-harness-trusts-at-all-0123456789abcdef-sixty-four-b!';
const bytes = (text: string) => new TextEncoder().encode(text);

/** Tenants of the multi-tenant scenarios, told apart by the request's Host header. */
const TENANT_A = 'tenant-a.test';
const TENANT_B = 'tenant-b.test';
const TENANT_A_SECRETS = ['tenant-a-current-secret-long-enough-for-hs256-0123456789', 'tenant-a-previous-secret-long-enough-for-hs256-012345678'];
const TENANT_B_SECRET = 'tenant-b-only-secret-long-enough-for-hs256-0123456789abcd';
const TENANT_B_ISSUER = 'https://id.tenant-b.test';

/** What each framework hands core as "the request": read only through that framework's own API. */
interface FrameworkRequest {
  get?: (name: string) => string | undefined;
  app?: unknown;
  res?: unknown;
  state?: unknown;
  request?: unknown;
  response?: unknown;
  host?: unknown;
  raw?: unknown;
  server?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  req?: { raw?: unknown; header?: (name: string) => string | undefined };
}

/**
 * The Host header, read through the framework's own request object that core hands to key and
 * issuers functions: Hono's `c.req.header()`, the Koa context's `host`, the Fastify request (with
 * `raw` and `server`), Express's `req.get()`. A Node `IncomingMessage` or a Fetch `Request` (what
 * core itself reads, for Koa, Fastify and Hono) fits none of these: handed one, the functions
 * find no tenant and the request fails instead of passing.
 */
function frameworkHost(request: unknown): string | undefined {
  const r = (request ?? {}) as FrameworkRequest;
  if (r.req?.raw instanceof Request && typeof r.req.header === 'function') return r.req.header('host');
  if (r.state !== undefined && r.request !== undefined && r.response !== undefined && typeof r.host === 'string') return r.host;
  if (r.raw !== undefined && r.server !== undefined && typeof r.headers?.host === 'string') return r.headers.host;
  if (typeof r.get === 'function' && r.app !== undefined && r.res !== undefined) return r.get('host');
  return undefined;
}

/** One token for a whole scenario, so that later cases see what earlier ones left in the caches. */
function sharedToken(make: () => Promise<string>): () => Promise<string> {
  let token: Promise<string> | undefined;
  return () => (token ??= make());
}
const tenantAToken = sharedToken(() => sign({ sub: 'alice@a' }, { key: bytes(TENANT_A_SECRETS[1]!) }));

/** Paths on the shared key server of the harness whose cases run now (set by `options`). */
let run = 0;
const tenantPath = () => `/keyset-tenant/${run}/jwks.json`;

const rsaJwk = (key: CryptoKey, kid: string): JWK => ({ ...(KeyObject.from(key).export({ format: 'jwk' }) as JWK), kid });

export function keysetScenarios({ bearer, attached, failure, forwarded }: CaseHelpers): Scenario[] {
  const noKey = failure('invalid_signature', { description: 'No key matches the token' });
  const untrustedIssuer = failure('claim_invalid', { description: 'The iss claim is not a trusted issuer' });
  const at = (host: string, token: string): Send => ({ headers: { Authorization: `Bearer ${token}`, Host: host } });
  const checkFetches = (keys: Keys, expected: number) => {
    // What the previous case did to the key server: this case's request has not been sent yet.
    const fetched = keys.keyServer.count(tenantPath());
    if (fetched !== expected) throw new Error(`expected ${expected} fetches of ${tenantPath()} so far, saw ${fetched}`);
  };
  const tenantIssuerToken = (keys: Keys) => sign({ iss: keys.tenantIssuer }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } });

  return [
    {
      name: 'secret as an array: rotation from an old HMAC secret to a new one',
      options: () => ({ secret: [NEW_SECRET, HS_SECRET] }),
      cases: [
        { name: 'accepts a token signed with the new secret', send: async () => bearer(await sign({}, { key: bytes(NEW_SECRET) })), expect: attached() },
        { name: 'accepts a token signed with the old secret (no kid: tried in turn)', send: async () => bearer(await sign({})), expect: attached() },
        { name: 'accepts HS512 with the old secret', send: async () => bearer(await sign({}, { alg: 'HS512' })), expect: attached() },
        {
          name: 'accepts an old-secret token with a kid (no key has one: tried in turn)',
          send: async () => bearer(await sign({}, { header: { kid: 'v1' } })),
          expect: attached(),
        },
        {
          name: 'answers invalid_signature for a secret it does not hold',
          send: async () => bearer(await sign({}, { key: bytes(STRANGER) })),
          expect: failure('invalid_signature'),
        },
        {
          name: 'answers token_expired for an expired token of the old secret',
          send: async () => bearer(await sign({ iat: now() - 600, exp: now() - 60 })),
          expect: failure('token_expired'),
        },
        {
          name: 'answers algorithm_not_allowed for an RS256 token',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey })),
          expect: failure('algorithm_not_allowed'),
        },
      ],
    },
    {
      name: 'secret as an array of public keys chosen by kid',
      options: (keys) => ({ secret: [rsaJwk(keys.rs.publicKey, 'rs-1'), rsaJwk(keys.rsOther.publicKey, 'rs-2'), { ...keys.esPublicJwk, kid: 'ec-1' }] }),
      cases: [
        {
          name: 'verifies an RS256 token with the key of its kid',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'rs-1' } })),
          expect: attached(),
        },
        {
          name: 'verifies with the second RSA key by kid',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rsOther.privateKey, header: { kid: 'rs-2' } })),
          expect: attached(),
        },
        {
          name: 'verifies an ES256 token with the EC key of its kid (families may be mixed)',
          send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-1' } })),
          expect: attached(),
        },
        {
          name: 'tries only the key of the kid: a token of rs-1 under kid rs-2 fails',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'rs-2' } })),
          expect: failure('invalid_signature'),
        },
        {
          name: 'answers invalid_signature for a kid no key has',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'rs-retired' } })),
          expect: noKey,
        },
        {
          name: 'tries the keys in turn for a token without kid',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rsOther.privateKey })),
          expect: attached(),
        },
        {
          name: 'answers algorithm_not_allowed when the key of the kid cannot verify the alg',
          send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'rs-1' } })),
          expect: failure('algorithm_not_allowed'),
        },
        {
          name: 'refuses an HS256 token signed with the RSA public key text (algorithm confusion)',
          send: async (keys) => bearer(await signWithText({ sub: 'admin' }, keys.rsPublicPem)),
          expect: failure('algorithm_not_allowed'),
        },
      ],
    },
    {
      name: 'key function returning several keys',
      options: (keys) => ({
        secret: (header) => {
          if (header.kid === 'public') return [keys.rsPublicPem, keys.esPublicJwk];
          // A mistake: an HMAC secret returned with a public key.
          if (header.kid === 'mixed') return [HS_SECRET, keys.rsPublicPem];
          return [NEW_SECRET, HS_SECRET];
        },
      }),
      cases: [
        { name: 'verifies a token of the first key it returns', send: async () => bearer(await sign({}, { key: bytes(NEW_SECRET) })), expect: attached() },
        { name: 'verifies a token of the second key it returns (500 before)', send: async () => bearer(await sign({})), expect: attached() },
        {
          name: 'answers invalid_signature for a key it does not return',
          send: async () => bearer(await sign({}, { key: bytes(STRANGER) })),
          expect: failure('invalid_signature'),
        },
        {
          name: 'verifies RS256 with the public keys it returns',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey, header: { kid: 'public' } })),
          expect: attached(),
        },
        {
          name: 'refuses an HS256 token signed with the text of the RSA public key it returns',
          send: async (keys) => bearer(await sign({ sub: 'admin' }, { key: bytes(keys.rsPublicPem), header: { kid: 'public' } })),
          expect: failure('algorithm_not_allowed'),
        },
        {
          name: 'sends an HMAC secret returned with a public key to the error path as a TypeError',
          send: async () => bearer(await sign({}, { header: { kid: 'mixed' } })),
          expect: forwarded(
            500,
            'TypeError',
            null,
            'jwtAuth: the "secret" function returned keys that cannot be used together: it mixes HMAC secrets with public keys: every holder of the secret ' +
              'could then sign tokens that pass for the public-key issuer\'s (algorithm confusion). Keep one kind per list, and give each issuer its own keys with "issuers".',
          ),
        },
      ],
    },
    {
      name: 'key function choosing keys by the Host of the framework request (multi-tenant)',
      options: () => ({
        secret: (_header, _token, request) => {
          const host = frameworkHost(request);
          if (host === TENANT_A) return TENANT_A_SECRETS;
          return host === TENANT_B ? TENANT_B_SECRET : undefined;
        },
      }),
      cases: [
        { name: "verifies a tenant A token at tenant A's host", send: async () => at(TENANT_A, await tenantAToken()), expect: attached() },
        {
          name: "refuses the same token at tenant B's host (never from the token cache)",
          send: async () => at(TENANT_B, await tenantAToken()),
          expect: failure('invalid_signature'),
        },
        { name: "verifies it again at tenant A's host", send: async () => at(TENANT_A, await tenantAToken()), expect: attached() },
        {
          name: "verifies a tenant B token at tenant B's host",
          send: async () => at(TENANT_B, await sign({ sub: 'bob@b' }, { key: bytes(TENANT_B_SECRET) })),
          expect: attached(),
        },
        {
          name: 'answers invalid_signature "No key matches the token" at a host with no tenant',
          send: async () => at('nobody.test', await tenantAToken()),
          expect: noKey,
        },
      ],
    },
    {
      name: 'issuers as a function of the iss and the framework request',
      options: (keys) => {
        run += 1;
        keys.keyServer.setKeys([{ ...keys.esPublicJwk, kid: 'ec-remote', alg: 'ES256', use: 'sig' }], tenantPath());
        const uri = `${keys.keyServer.url}${tenantPath()}`;
        return {
          issuers: (iss, request): IssuerKeys<never> | undefined => {
            const host = frameworkHost(request);
            // A new object on every call: the keys built for the iss are kept all the same.
            if (host === TENANT_A && iss === keys.tenantIssuer) return { jwks: { uri, timeoutDuration: 2000 } };
            if (host === TENANT_B && iss === TENANT_B_ISSUER) return { secret: TENANT_B_SECRET };
            return undefined;
          },
        };
      },
      cases: [
        {
          name: 'answers claim_invalid for an issuer of another tenant',
          send: async (keys) => at(TENANT_B, await tenantIssuerToken(keys)),
          expect: untrustedIssuer,
        },
        {
          name: "fetched no keys for it, and verifies the token at its own tenant's host",
          send: async (keys) => {
            checkFetches(keys, 0);
            return at(TENANT_A, await tenantIssuerToken(keys));
          },
          expect: attached(),
        },
        {
          name: 'keeps the JWK Set built for the iss: no second fetch for the next token',
          send: async (keys) => {
            checkFetches(keys, 1);
            return at(TENANT_A, await tenantIssuerToken(keys));
          },
          expect: attached(),
        },
        {
          name: 'answers claim_invalid for an iss that no host trusts',
          send: async (keys) => {
            checkFetches(keys, 1);
            return at(TENANT_A, await sign({ iss: 'https://evil.test' }, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'ec-remote' } }));
          },
          expect: untrustedIssuer,
        },
        {
          name: "verifies a token of tenant B's HMAC issuer at its host",
          send: async () => at(TENANT_B, await sign({ iss: TENANT_B_ISSUER }, { key: bytes(TENANT_B_SECRET) })),
          expect: attached(),
        },
        {
          name: "answers claim_invalid for tenant B's issuer at tenant A's host",
          send: async () => at(TENANT_A, await sign({ iss: TENANT_B_ISSUER }, { key: bytes(TENANT_B_SECRET) })),
          expect: untrustedIssuer,
        },
      ],
    },
  ];
}
