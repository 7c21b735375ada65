import type { AuthErrorCode, KeyInput } from '@jwtauth/core';
import type { Expect, failure as Failure, Scenario, Send } from './cases.js';
import { HS_SECRET, sign, signWithText } from './fixtures.js';

/** The helpers of cases.ts, handed in so this file needs no runtime import of it. */
export interface CaseHelpers {
  bearer: (token: string, path?: string) => Send;
  attached: () => (sent: Send) => Expect;
  failure: typeof Failure;
  forwarded: (status: number, name: string, code: string | null, message: string) => Expect;
}

/** Kids that name a member every object inherits: `keys[kid]` finds Object.prototype or a function. */
const INHERITED_KIDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

const UNUSABLE = 'jwtAuth: the "secret" function returned an unusable key: ';

/** Scenarios of issue 7's key bullets: key functions that find no key, and PEM text laid out loosely. */
export function keyScenarios({ bearer, attached, failure, forwarded }: CaseHelpers): Scenario[] {
  const noKey = (code: AuthErrorCode = 'invalid_signature') => failure(code, { description: 'No key matches the token' });
  return [
    {
      name: 'key function looking the key up by kid',
      options: (keys) => {
        const registry: Record<string, KeyInput> = {
          hs: HS_SECRET,
          es: keys.esPublicJwk,
          short: 'a-16-byte-secret',
          // A PEM file read without an encoding: key text offered as an HMAC secret.
          'pem-bytes': new TextEncoder().encode(keys.rsPublicPem),
        };
        return { secret: (header) => registry[header.kid ?? ''] };
      },
      cases: [
        { name: 'verifies an HS256 token with the secret it finds', send: async () => bearer(await sign({}, { header: { kid: 'hs' } })), expect: attached() },
        {
          name: 'verifies an ES256 token with the JWK it finds',
          send: async (keys) => bearer(await sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid: 'es' } })),
          expect: attached(),
        },
        ...INHERITED_KIDS.map((kid) => ({
          name: `answers 401 invalid_signature for kid ${JSON.stringify(kid)}`,
          send: async () => bearer(await sign({}, { header: { kid } })),
          expect: noKey(),
        })),
        {
          name: 'answers 401 invalid_signature for an unknown kid',
          send: async () => bearer(await sign({}, { header: { kid: 'rotated-out' } })),
          expect: noKey(),
        },
        { name: 'answers 401 invalid_signature for a token without kid', send: async () => bearer(await sign({})), expect: noKey() },
        {
          name: 'sends a key too short for HMAC to the error path as a TypeError',
          send: async () => bearer(await sign({}, { header: { kid: 'short' } })),
          expect: forwarded(
            500,
            'TypeError',
            null,
            `${UNUSABLE}the HMAC secret is 16 bytes; RFC 7518 §3.2 requires at least 32 bytes for HS256, 48 for HS384 and 64 for HS512.`,
          ),
        },
        {
          name: 'sends PEM bytes to the error path, never verifying a token signed with them',
          // Signed with the very bytes the function returns, under the kid that finds them.
          send: async (keys) => bearer(await sign({ sub: 'attacker' }, { key: new TextEncoder().encode(keys.rsPublicPem), header: { kid: 'pem-bytes' } })),
          expect: forwarded(
            500,
            'TypeError',
            null,
            `${UNUSABLE}the secret bytes are PEM text (a key file read without an encoding?), not an HMAC secret; pass it as a string instead, e.g. readFileSync(path, "utf8").`,
          ),
        },
      ],
    },
    {
      name: 'RSA public key as an indented PEM with CRLF line ends',
      options: (keys) => ({ secret: `\r\n    ${keys.rsPublicPem.trim().split('\n').join('\r\n    ')}\r\n  ` }),
      cases: [
        { name: 'accepts RS256', send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rs.privateKey })), expect: attached() },
        {
          name: 'answers invalid_signature for another RSA key',
          send: async (keys) => bearer(await sign({}, { alg: 'RS256', key: keys.rsOther.privateKey })),
          expect: failure('invalid_signature'),
        },
        {
          name: 'refuses an HS256 token signed with the public key text',
          send: async (keys) => bearer(await signWithText({}, keys.rsPublicPem)),
          expect: failure('algorithm_not_allowed'),
        },
      ],
    },
  ];
}
