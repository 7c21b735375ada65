// Differential property test of verifyDpopProof, which checks proofs with core's own decoder and
// signature check, against what RFC 9449 §4.3's checks give when the JWS part is left to jose
// (`jwtVerify` with `EmbeddedJWK`, `typ: dpop+jwt`, the same algorithms): for proofs jose signed
// and then tampered with at random (header members, the key, the signature, the claims), both must
// accept or refuse alike, with the same thumbprint when they accept. Neither may throw.
import { base64url, calculateJwkThumbprint, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, verifyDpopProof } from './proof.js';

const NOW = 1_800_000_000;
const URL_ = 'https://api.example/r';
const TOKEN = 'an.access.token';
const ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'];

/** RFC 9449 §4.3 with jose doing the JWS: the reference the rewrite must agree with. */
async function reference(proof: string): Promise<{ ok: boolean; jkt?: string }> {
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGORITHMS, currentDate: new Date(NOW * 1000) });
    const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) return { ok: false };
    if (htm !== 'GET' || typeof htu !== 'string' || !URL.canParse(htu)) return { ok: false };
    // Without query and fragment, after normalisation (RFC 9449 §4.3 check 9).
    const target = new URL(htu);
    if (`${target.origin}${target.pathname}` !== URL_) return { ok: false };
    if (typeof iat !== 'number' || Math.abs(NOW - iat) > 60) return { ok: false };
    if (nonce !== undefined && typeof nonce !== 'string') return { ok: false };
    if (ath !== (await accessTokenHash(TOKEN))) return { ok: false };
    return { ok: true, jkt: await calculateJwkThumbprint(protectedHeader.jwk!) };
  } catch {
    return { ok: false };
  }
}

interface Signer {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
  privateJwk: JWK;
}
let signers: Signer[];

beforeAll(async () => {
  signers = await Promise.all(
    [
      ['ES256', {}],
      ['ES384', {}],
      ['EdDSA', {}],
      ['PS256', { modulusLength: 2048 }],
      ['RS256', { modulusLength: 2048 }],
      ['ES512', {}],
    ].map(async ([alg, options]) => {
      const { privateKey, publicKey } = await generateKeyPair(alg as string, { ...(options as object), extractable: true });
      return { alg: alg as string, privateKey, jwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
    }),
  );
});

/** The valid value four times in five, else one of the others. */
const mostly = <T>(valid: T, ...others: T[]) => fc.oneof({ arbitrary: fc.constant(valid), weight: 4 }, { arbitrary: fc.constantFrom(...others), weight: 1 });

const tamper = fc.record({
  signer: fc.nat(5),
  /** Another signer's public key in the header. */
  otherJwk: mostly<number | undefined>(undefined, 0, 1, 2, 3, 4, 5),
  typ: mostly<unknown>('dpop+jwt', 'DPoP+JWT', 'application/dpop+jwt', 'JWT', 'at+jwt', undefined, 7),
  privateInHeader: mostly(false, true),
  extraHeader: mostly<Record<string, unknown>>(
    {},
    { kid: 'k' },
    { jwk: 'not-an-object' },
    { jwk: { kty: 'oct', k: 'c2VjcmV0' } },
    { jwk: { kty: 'EC', crv: 'P-256' } },
  ),
  jti: mostly<unknown>('j-1', '', 42, undefined, 'x'.repeat(257)),
  htm: mostly<string | undefined>('GET', 'get', 'POST', undefined),
  htu: mostly<string | undefined>(URL_, `${URL_}?q=1`, 'HTTPS://API.EXAMPLE/r', 'https://api.example/s', 'https://api.example:443/r', 'r', undefined),
  iatOffset: mostly(0, -59, 59, -61, 61, 3600, Number.NaN),
  ath: mostly('right', 'wrong', 'missing'),
  nonce: mostly<unknown>(undefined, 'n', 5),
  exp: mostly<unknown>(undefined, NOW + 10, NOW - 10, 'soon'),
  nbf: mostly<number | undefined>(undefined, NOW - 10, NOW + 10),
  signature: mostly('keep', 'flip', 'drop', 'truncate'),
});

type Tampering = typeof tamper extends fc.Arbitrary<infer T> ? T : never;

async function proofOf(t: Tampering): Promise<string> {
  const signer = signers[t.signer]!;
  const claims: Record<string, unknown> = {};
  if (t.jti !== undefined) claims.jti = t.jti;
  if (t.htm !== undefined) claims.htm = t.htm;
  if (t.htu !== undefined) claims.htu = t.htu;
  claims.iat = Number.isNaN(t.iatOffset) ? 'now' : NOW + t.iatOffset;
  if (t.ath !== 'missing') claims.ath = t.ath === 'right' ? await accessTokenHash(TOKEN) : 'x';
  if (t.nonce !== undefined) claims.nonce = t.nonce;
  if (t.exp !== undefined) claims.exp = t.exp;
  if (t.nbf !== undefined) claims.nbf = t.nbf;
  const jwk = t.privateInHeader ? signer.privateJwk : t.otherJwk === undefined ? signer.jwk : signers[t.otherJwk]!.jwk;
  const header = { alg: signer.alg, ...(t.typ === undefined ? {} : { typ: t.typ }), jwk, ...t.extraHeader } as never;
  const proof = await new SignJWT(claims).setProtectedHeader(header).sign(signer.privateKey);
  const [head, body, signature] = proof.split('.') as [string, string, string];
  const bytes = base64url.decode(signature);
  if (t.signature === 'flip') bytes[0] = bytes[0]! ^ 1;
  const changed = t.signature === 'drop' ? '' : t.signature === 'truncate' ? base64url.encode(bytes.slice(1)) : base64url.encode(bytes);
  return `${head}.${body}.${changed}`;
}

describe('verifyDpopProof agrees with RFC 9449 §4.3 done on jose', () => {
  it('for random tamperings of signed proofs', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(tamper, async (t) => {
        const proof = await proofOf(t);
        const expected = await reference(proof);
        const seen = await verifyDpopProof(proof, { method: 'GET', url: URL_, accessToken: TOKEN }, { algorithms: ALGORITHMS, iatWindow: 60, now: NOW });
        if (seen.ok) accepted++;
        expect(seen.ok, JSON.stringify(t)).toBe(expected.ok);
        if (seen.ok) expect(seen.jkt).toBe(expected.jkt);
      }),
      { numRuns: 600, seed: 9449 },
    );
    // The generator must reach acceptance often enough for the agreement to mean something.
    expect(accepted).toBeGreaterThan(5);
  });
});
