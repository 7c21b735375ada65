import { createDpopNonces } from '@jwtauth/core';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { AuthErrorCode } from '@jwtauth/core';
import type { Expect, Scenario, Send } from './cases.js';
import { HS_SECRET, now, sign } from './fixtures.js';

/**
 * RFC 9449 at the resource server, on every adapter: `Authorization: DPoP <token>` with a proof
 * of the key the token is bound to (`cnf.jkt`). The proofs' `htu` is checked against
 * `dpop.origin`, so they do not depend on the port each harness listens on; test/dpop.test.ts
 * checks the origin each framework derives by itself.
 */

/** The public origin the apps are told they serve (`dpop.origin`). */
export const DPOP_ORIGIN = 'https://api.example';
const ALGS = ['ES256', 'EdDSA'] as const;
const ALGS_TEXT = ALGS.join(' ');
/** Shared by the apps (options) and the cases (expected `DPoP-Nonce`). */
export const DPOP_NONCES = createDpopNonces({ secret: 'conformance-dpop-nonce-secret-32-bytes!' });

interface ProofKey {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
  alg: string;
}
async function proofKey(alg: 'ES256' | 'EdDSA'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk), alg };
}
let keys: Promise<{ es: ProofKey; ed: ProofKey; other: ProofKey }> | undefined;
const proofKeys = () => (keys ??= Promise.all([proofKey('ES256'), proofKey('EdDSA'), proofKey('ES256')]).then(([es, ed, other]) => ({ es, ed, other })));

async function hashOf(token: string): Promise<string> {
  return Buffer.from(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString('base64url');
}

interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  /** The access token `ath` is the hash of; `null` leaves `ath` out. */
  athOf?: string | null;
  nonce?: string;
  typ?: string;
  /** Signs with this key while the header names `key`'s public key. */
  signWith?: CryptoKey;
  /** Extra header parameters (a private `jwk`, say). */
  header?: Record<string, unknown>;
}

/** A DPoP proof (RFC 9449 §4.2) by `key` for `GET <origin>/protected` and `token`, unless told otherwise. */
async function proof(key: ProofKey, token: string, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: crypto.randomUUID(),
    htm: options.htm ?? 'GET',
    htu: options.htu ?? `${DPOP_ORIGIN}/protected`,
    iat: options.iat ?? now(),
  };
  const athOf = options.athOf === undefined ? token : options.athOf;
  if (athOf !== null) claims.ath = await hashOf(athOf);
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? 'dpop+jwt', jwk: key.jwk, ...options.header })
    .sign(options.signWith ?? key.privateKey);
}

/** A token bound to `key` (HS256 with the conformance secret). */
const boundToken = (key: ProofKey, claims: Record<string, unknown> = {}) => sign({ scope: 'read', cnf: { jkt: key.jkt }, ...claims });

const dpopRequest = (token: string, proofValue: string | string[] | undefined, path = '/protected', scheme = 'DPoP'): Send => ({
  path,
  headers: { Authorization: `${scheme} ${token}`, ...(proofValue === undefined ? {} : { DPoP: proofValue }) },
});

const DESCRIPTIONS: Partial<Record<AuthErrorCode, string>> = {
  missing_token: 'Authentication is required: send a Bearer token',
  invalid_dpop_proof: 'The DPoP proof is invalid',
  use_dpop_nonce: 'The DPoP proof must carry the nonce given in the DPoP-Nonce header',
  dpop_binding_mismatch: 'The token is not bound to the key of the DPoP proof',
  dpop_required: 'This resource accepts only DPoP-bound tokens sent as Authorization: DPoP with a proof',
  token_bound: 'The token is bound to a DPoP key: send it as Authorization: DPoP with a proof',
  token_expired: 'The token has expired',
  invalid_signature: 'The token signature is invalid',
  insufficient_scope: 'The token does not grant the access this resource requires',
};
const ERRORS: Partial<Record<AuthErrorCode, string>> = {
  missing_token: 'unauthorized',
  invalid_dpop_proof: 'invalid_dpop_proof',
  use_dpop_nonce: 'use_dpop_nonce',
  insufficient_scope: 'insufficient_scope',
};

/**
 * The answer RFC 9449 §7.1 asks for: a `Bearer` challenge (when Bearer is accepted) and a `DPoP`
 * one with `algs`; the error parameters go with the scheme that failed.
 */
function dpopFailure(code: AuthErrorCode, at: { scheme: 'Bearer' | 'DPoP'; bearer?: boolean; scope?: string; nonce?: string }): Expect {
  const description = DESCRIPTIONS[code]!;
  const error = ERRORS[code] ?? 'invalid_token';
  const status = code === 'insufficient_scope' ? 403 : 401;
  const params = code === 'missing_token' ? [] : [`error="${error}"`, `error_description="${description}"`, ...(at.scope ? [`scope="${at.scope}"`] : [])];
  const bearerOffered = at.bearer ?? true;
  const dpopGetsError =
    at.scheme === 'DPoP' || !bearerOffered || ['invalid_dpop_proof', 'use_dpop_nonce', 'dpop_binding_mismatch', 'dpop_required'].includes(code);
  const bearerChallenge = !dpopGetsError && params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
  const dpopChallenge = `DPoP ${[...(dpopGetsError ? params : []), `algs="${ALGS_TEXT}"`].join(', ')}`;
  const body = { error, error_description: description, code };
  return {
    status,
    challenge: bearerOffered ? `${bearerChallenge}, ${dpopChallenge}` : dpopChallenge,
    body,
    contentLength: String(Buffer.byteLength(JSON.stringify(body))),
    ...(at.nonce === undefined ? {} : { dpopNonce: at.nonce }),
  };
}

/** The 200 of `/protected`: what was attached, with `auth.dpop.jkt` for a DPoP request. */
function attachedWith(jkt: string | undefined) {
  return (sent: Send): Expect => {
    const token = String(sent.headers!.Authorization).replace(/^\S+ +/, '');
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    const auth = { token, header, payload, scopes, ...(jkt === undefined ? {} : { dpop: { jkt } }) };
    return { status: 200, challenge: null, body: { auth, user: payload } };
  };
}

export function dpopScenarios(): Scenario[] {
  const options = (extra: Record<string, unknown> = {}) => ({ secret: HS_SECRET, dpop: { origin: DPOP_ORIGIN, algorithms: [...ALGS], ...extra } });
  const allowed = (code: AuthErrorCode, scheme: 'Bearer' | 'DPoP' = 'DPoP') => dpopFailure(code, { scheme });
  let jktOfEs = '';
  let jktOfEd = '';
  // The proof the previous case sent, for the replay case after it.
  let lastSent: Send | undefined;
  return [
    {
      name: 'DPoP allowed (RFC 9449): bound tokens with proofs, bearer tokens still accepted',
      options: () => options(),
      cases: [
        {
          name: 'accepts a bound token with an ES256 proof and attaches the key thumbprint',
          send: async () => {
            const { es } = await proofKeys();
            jktOfEs = es.jkt;
            const token = await boundToken(es);
            lastSent = dpopRequest(token, await proof(es, token));
            return lastSent;
          },
          expect: (sent) => attachedWith(jktOfEs)(sent),
        },
        {
          name: 'refuses the same proof sent again (jti replay) with invalid_dpop_proof',
          send: async () => lastSent!,
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'accepts an EdDSA proof and the scheme in any case',
          send: async () => {
            const { ed } = await proofKeys();
            jktOfEd = ed.jkt;
            const token = await boundToken(ed);
            return dpopRequest(token, await proof(ed, token), '/protected', 'dpop');
          },
          expect: (sent) => attachedWith(jktOfEd)(sent),
        },
        {
          name: 'ignores the query when matching htu',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, await proof(es, token), '/protected?page=2');
          },
          expect: (sent) => attachedWith(jktOfEs)(sent),
        },
        {
          name: 'still accepts an unbound Bearer token',
          send: async () => ({ headers: { Authorization: `Bearer ${await sign({ scope: 'read' })}` } }),
          expect: attachedWith(undefined),
        },
        {
          name: 'answers a request without a token with both challenges',
          send: async () => ({}),
          expect: dpopFailure('missing_token', { scheme: 'Bearer' }),
        },
        {
          name: 'refuses a bound token sent as Bearer (token_bound)',
          send: async () => ({ headers: { Authorization: `Bearer ${await boundToken((await proofKeys()).es)}` } }),
          expect: allowed('token_bound', 'Bearer'),
        },
        {
          name: 'refuses a token with a cnf.jkt that is not a string, sent as Bearer',
          send: async () => ({ headers: { Authorization: `Bearer ${await sign({ cnf: { jkt: 42 } })}` } }),
          expect: allowed('token_bound', 'Bearer'),
        },
        {
          name: 'refuses DPoP without a DPoP header',
          send: async () => dpopRequest(await boundToken((await proofKeys()).es), undefined),
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'refuses two DPoP headers',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, [await proof(es, token), await proof(es, token)]);
          },
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'refuses a DPoP header that is not a JWT',
          send: async () => dpopRequest(await boundToken((await proofKeys()).es), 'not-a-proof'),
          expect: allowed('invalid_dpop_proof'),
        },
        ...(
          [
            ['a proof for another method (htm)', () => ({ htm: 'POST' })],
            ['a proof for another URL (htu)', () => ({ htu: `${DPOP_ORIGIN}/other` })],
            ['a proof for another origin (htu)', () => ({ htu: 'https://evil.example/protected' })],
            ['a proof whose htu is not a URL', () => ({ htu: 'protected' })],
            ['a stale proof (iat two minutes ago)', () => ({ iat: now() - 120 })],
            ['a proof from the future (iat in two minutes)', () => ({ iat: now() + 120 })],
            ['a proof without ath', () => ({ athOf: null })],
            ['a proof whose ath is the hash of another token', () => ({ athOf: 'another.token.value' })],
            ['a proof with typ JWT', () => ({ typ: 'JWT' })],
          ] as const
        ).map(([what, tweak]: readonly [string, () => ProofOptions]) => ({
          name: `refuses ${what}`,
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, await proof(es, token, tweak()));
          },
          expect: allowed('invalid_dpop_proof'),
        })),
        {
          name: 'refuses a proof whose signature is not by its jwk',
          send: async () => {
            const { es, other } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, await proof(es, token, { signWith: other.privateKey }));
          },
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'refuses a proof that carries a private key',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            const privateJwk = await exportJWK(es.privateKey);
            return dpopRequest(token, await proof(es, token, { header: { jwk: privateJwk } }));
          },
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'refuses an HS256 proof (symmetric algorithms are never allowed)',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            const claims = { jti: crypto.randomUUID(), htm: 'GET', htu: `${DPOP_ORIGIN}/protected`, iat: now(), ath: await hashOf(token) };
            const hs = await new SignJWT(claims)
              .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as never })
              .sign(new TextEncoder().encode('secret'));
            return dpopRequest(token, hs);
          },
          expect: allowed('invalid_dpop_proof'),
        },
        {
          name: 'refuses a valid proof by another key than the token is bound to (dpop_binding_mismatch)',
          send: async () => {
            const { es, other } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, await proof(other, token));
          },
          expect: allowed('dpop_binding_mismatch'),
        },
        {
          name: 'refuses an unbound token sent with DPoP (dpop_binding_mismatch)',
          send: async () => {
            const { es } = await proofKeys();
            const token = await sign({ scope: 'read' });
            return dpopRequest(token, await proof(es, token));
          },
          expect: allowed('dpop_binding_mismatch'),
        },
        {
          name: 'answers an expired bound token in the DPoP challenge',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es, { iat: now() - 600, exp: now() - 60 });
            return dpopRequest(token, await proof(es, token));
          },
          expect: allowed('token_expired'),
        },
        {
          name: 'answers a guard refusal of a DPoP request in the DPoP challenge, with its scope',
          send: async () => {
            const { es } = await proofKeys();
            const token = await boundToken(es);
            return dpopRequest(token, await proof(es, token, { htu: `${DPOP_ORIGIN}/admin` }), '/admin');
          },
          expect: dpopFailure('insufficient_scope', { scheme: 'DPoP', scope: 'admin' }),
        },
        {
          name: 'answers a guard refusal of a Bearer request in the Bearer challenge',
          send: async () => ({ path: '/admin', headers: { Authorization: `Bearer ${await sign({ scope: 'read' })}` } }),
          expect: dpopFailure('insufficient_scope', { scheme: 'Bearer', scope: 'admin' }),
        },
      ],
    },
    {
      name: 'DPoP required: Bearer tokens are refused',
      options: () => options({ mode: 'required' }),
      cases: [
        {
          name: 'accepts a bound token with a proof',
          send: async () => {
            const { es } = await proofKeys();
            jktOfEs = es.jkt;
            const token = await boundToken(es);
            return dpopRequest(token, await proof(es, token));
          },
          expect: (sent) => attachedWith(jktOfEs)(sent),
        },
        {
          name: 'refuses an unbound Bearer token with dpop_required and only the DPoP challenge',
          send: async () => ({ headers: { Authorization: `Bearer ${await sign({})}` } }),
          expect: dpopFailure('dpop_required', { scheme: 'Bearer', bearer: false }),
        },
        {
          name: 'answers a request without a token with the DPoP challenge alone',
          send: async () => ({}),
          expect: dpopFailure('missing_token', { scheme: 'DPoP', bearer: false }),
        },
        {
          name: 'answers a bad signature in the DPoP challenge',
          send: async () => {
            const { es } = await proofKeys();
            const token = `${(await boundToken(es)).slice(0, -4)}AAAA`;
            return dpopRequest(token, await proof(es, token));
          },
          expect: dpopFailure('invalid_signature', { scheme: 'DPoP', bearer: false }),
        },
      ],
    },
    {
      name: 'DPoP with server nonces (RFC 9449 §9)',
      options: () => options({ nonces: DPOP_NONCES }),
      cases: (() => {
        let expectedNonce = '';
        return [
          {
            name: 'answers a proof without a nonce with use_dpop_nonce and a DPoP-Nonce',
            send: async () => {
              const { es } = await proofKeys();
              const token = await boundToken(es);
              expectedNonce = await DPOP_NONCES.current(now());
              return dpopRequest(token, await proof(es, token));
            },
            expect: () => dpopFailure('use_dpop_nonce', { scheme: 'DPoP', nonce: expectedNonce }),
          },
          {
            name: 'accepts a proof with the nonce handed out',
            send: async () => {
              const { es } = await proofKeys();
              jktOfEs = es.jkt;
              const token = await boundToken(es);
              return dpopRequest(token, await proof(es, token, { nonce: await DPOP_NONCES.current(now()) }));
            },
            expect: (sent) => attachedWith(jktOfEs)(sent),
          },
          {
            name: 'answers a made-up nonce with use_dpop_nonce',
            send: async () => {
              const { es } = await proofKeys();
              const token = await boundToken(es);
              expectedNonce = await DPOP_NONCES.current(now());
              return dpopRequest(token, await proof(es, token, { nonce: 'made-up' }));
            },
            expect: () => dpopFailure('use_dpop_nonce', { scheme: 'DPoP', nonce: expectedNonce }),
          },
        ];
      })(),
    },
  ];
}
