/**
 * Conformance scenarios of remote JWK Sets that show on the wire (issue 7): a rotated-in kid is
 * honoured at once, keys stop verifying once the set is older than `maxStale`, and a token
 * without `kid` is tried against at most `maxCandidates` keys. They run against every harness
 * like the scenarios of cases.ts, which spreads them at the end of its table.
 *
 * Each harness gets its own paths on the shared key server (options() runs once per harness,
 * right before that harness's cases), so what one harness's cases do to "their" set cannot leak
 * into the next harness.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AuthErrorCode } from '@jwtauth/core';
import type { Case, Expect, Scenario, Send } from './cases.js';
import { sign, type KeyPair, type Keys } from './fixtures.js';

/** The helpers of cases.ts these scenarios use, handed over to keep the modules acyclic. */
export interface CaseHelpers {
  bearer: (token: string, path?: string) => Send;
  attached: () => (sent: Send) => Expect;
  failure: (code: AuthErrorCode, extra?: { description?: string }) => Expect;
  keysUnavailable: () => Expect;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Paths of the harness whose cases run now (set by `options`, read by `send`). */
let run = 0;
const path = (name: string) => `/conformance-${name}/${run}/jwks.json`;

const CANDIDATES = '/conformance-candidates/jwks.json';
let manyKeys: Promise<{ pairs: KeyPair[]; jwks: JWK[] }> | undefined;

/**
 * Twelve P-256 keys, published without kid (so every one is a candidate for a token without one)
 * on the key server; made once. Called before each request: the set is fetched lazily, after.
 */
async function candidates(keys: Keys): Promise<KeyPair[]> {
  manyKeys ??= (async () => {
    const pairs = await Promise.all(Array.from({ length: 12 }, () => generateKeyPair('ES256', { extractable: true })));
    const jwks = await Promise.all(pairs.map(async (pair) => ({ ...(await exportJWK(pair.publicKey)), alg: 'ES256', use: 'sig' })));
    return { pairs, jwks };
  })();
  const { pairs, jwks } = await manyKeys;
  keys.keyServer.setKeys(jwks, CANDIDATES);
  return pairs;
}

export function jwksScenarios({ bearer, attached, failure, keysUnavailable }: CaseHelpers): Scenario[] {
  const withKid = (keys: Keys, kid: string) => ({ ...keys.esPublicJwk, kid, alg: 'ES256' });
  const signedAs = (keys: Keys, kid: string) => sign({}, { alg: 'ES256', key: keys.es.privateKey, header: { kid } });
  const noKidBy = (pair: KeyPair) => sign({}, { alg: 'ES256', key: pair.privateKey });

  const rotation: Case[] = [
    { name: 'verifies a token whose kid is in the fetched set', send: async (keys) => bearer(await signedAs(keys, 'rot-a')), expect: attached() },
    {
      name: 'honours a kid the provider published after the set was fetched, at once',
      send: async (keys) => {
        keys.keyServer.setKeys([withKid(keys, 'rot-a'), withKid(keys, 'rot-b')], path('rotation'));
        return bearer(await signedAs(keys, 'rot-b'));
      },
      expect: attached(),
    },
    {
      name: 'honours a kid published moments after the last refetch, once the cooldown allows the next',
      send: async (keys) => {
        keys.keyServer.setKeys([withKid(keys, 'rot-a'), withKid(keys, 'rot-b'), withKid(keys, 'rot-c')], path('rotation'));
        return bearer(await signedAs(keys, 'rot-c'));
      },
      expect: attached(),
    },
    {
      name: 'answers invalid_signature for a kid the provider never published',
      send: async (keys) => bearer(await signedAs(keys, 'rot-never')),
      expect: failure('invalid_signature', { description: 'No key matches the token' }),
    },
  ];

  const stale: Case[] = [
    { name: 'verifies with a freshly fetched set', send: async (keys) => bearer(await signedAs(keys, 'stale-1')), expect: attached() },
    {
      name: 'keeps verifying a cached key past cacheMaxAge while the provider fails',
      send: async (keys) => {
        await keys.keyServer.setMode('500', path('stale'));
        await sleep(300);
        return bearer(await signedAs(keys, 'stale-1'));
      },
      expect: attached(),
    },
    {
      name: 'answers 503 key_unavailable once the last good fetch is older than maxStale',
      send: async (keys) => {
        await sleep(1000);
        return bearer(await signedAs(keys, 'stale-1'));
      },
      expect: keysUnavailable(),
    },
    {
      name: 'verifies again soon after the provider recovers',
      send: async (keys) => {
        await keys.keyServer.setMode('ok', path('stale'));
        await sleep(300);
        return bearer(await signedAs(keys, 'stale-1'));
      },
      expect: attached(),
    },
  ];

  return [
    {
      name: 'remote JWK Set rotating in new kids',
      options: (keys) => {
        run += 1;
        keys.keyServer.setKeys([withKid(keys, 'rot-a')], path('rotation'));
        return { jwks: { uri: `${keys.keyServer.url}${path('rotation')}`, cooldownDuration: 400, timeoutDuration: 2000 } };
      },
      cases: rotation,
    },
    {
      name: 'remote JWK Set older than maxStale',
      options: (keys) => {
        run += 1;
        keys.keyServer.setKeys([withKid(keys, 'stale-1')], path('stale'));
        return { jwks: { uri: `${keys.keyServer.url}${path('stale')}`, cacheMaxAge: 150, maxStale: 900, cooldownDuration: 200, timeoutDuration: 1000 } };
      },
      cases: stale,
    },
    {
      name: 'remote JWK Set with more candidates than maxCandidates (default 10)',
      options: (keys) => ({ jwks: { uri: `${keys.keyServer.url}${CANDIDATES}`, timeoutDuration: 2000 } }),
      cases: [
        {
          name: 'verifies a token without kid signed by the first key of the set',
          send: async (keys) => bearer(await noKidBy((await candidates(keys))[0]!)),
          expect: attached(),
        },
        {
          name: 'verifies a token without kid signed by the tenth key',
          send: async (keys) => bearer(await noKidBy((await candidates(keys))[9]!)),
          expect: attached(),
        },
        {
          name: 'answers invalid_signature for a token without kid signed by the twelfth key',
          send: async (keys) => bearer(await noKidBy((await candidates(keys))[11]!)),
          expect: failure('invalid_signature'),
        },
      ],
    },
    {
      name: 'remote JWK Set with maxCandidates raised',
      options: (keys) => ({ jwks: { uri: `${keys.keyServer.url}${CANDIDATES}`, maxCandidates: 12, timeoutDuration: 2000 } }),
      cases: [
        {
          name: 'verifies a token without kid signed by the twelfth key',
          send: async (keys) => bearer(await noKidBy((await candidates(keys))[11]!)),
          expect: attached(),
        },
      ],
    },
  ];
}
