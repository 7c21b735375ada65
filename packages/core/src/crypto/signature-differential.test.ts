// Differential property test of the two signature checks core has: node:crypto (Node, synchronous)
// and Web Crypto (Bun, Deno, Workers). For every supported algorithm, every key form core hands
// over (CryptoKey as keys.ts prepares it, Node KeyObject, HMAC bytes) and random tamperings of
// tokens jose signed, both must give the same boolean, and it must be jose's own answer
// (`compactVerify` with the same key and `algorithms: [alg]`). Neither may ever throw.
//
// Per algorithm: every tampering with every key it can choose, form and signature source where
// they matter (66 to 135 listed cases), then RANDOM_RUNS random ones; 1,862 cases in all, ~6 s.
// Keys are made once (two RSA 2048 keys, one rsa-pss, two per curve, HMAC secrets).
import { constants, createHmac, createPublicKey, createSecretKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { base64url, CompactSign, compactVerify, importSPKI } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SUPPORTED_ALGORITHMS } from '../keys/algorithms.js';
import type { VerifyKey } from '../keys/keys.js';
import { loadNodeCrypto, nodeSignatureCheck } from './node.js';
import { hashOf } from './signature.js';
import { webCrypto } from './web.js';

const ALGORITHMS = [...SUPPORTED_ALGORITHMS];
const nodeCheck = nodeSignatureCheck(loadNodeCrypto()!);

/** One key: an HMAC secret, or a key pair. `algs` are the algorithms it is meant for. */
interface Material {
  name: string;
  algs: readonly string[];
  secret?: Uint8Array;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  pem?: string;
}

const HS = ['HS256', 'HS384', 'HS512'];
const RS = ['RS256', 'RS384', 'RS512'];
const PS = ['PS256', 'PS384', 'PS512'];
const ED = ['EdDSA', 'Ed25519'];

type Family = 'hmac' | 'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519';
const FAMILY_OF: Record<string, Family> = {
  ...Object.fromEntries(HS.map((alg) => [alg, 'hmac'])),
  ...Object.fromEntries([...RS, ...PS].map((alg) => [alg, 'rsa'])),
  ES256: 'p256',
  ES384: 'p384',
  ES512: 'p521',
  EdDSA: 'ed25519',
  Ed25519: 'ed25519',
};

/** Two keys per family: the one tokens are signed with, and another of the same family. */
let families: Record<Family, [Material, Material]>;
/** HMAC secrets of lengths no HMAC algorithm should be used with (core refuses them when configured). */
let oddSecrets: Material[];
/** An RSA key of Node's `rsa-pss` type: PS* only, and neither jose nor Web Crypto can import it. */
let rsaPss: Material;

function pair(name: string, algs: readonly string[], keys: { privateKey: KeyObject; publicKey: KeyObject }): Material {
  return { name, algs, ...keys, pem: keys.publicKey.export({ format: 'pem', type: 'spki' }) as string };
}

function secret(name: string, length: number): Material {
  return { name, algs: HS, secret: Uint8Array.from({ length }, (_, i) => (i * 37 + length * 11 + name.length) & 0xff) };
}

beforeAll(() => {
  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
  families = {
    hmac: [secret('hmac-a', 64), secret('hmac-b', 64)],
    rsa: [pair('rsa-a', [...RS, ...PS], rsa()), pair('rsa-b', [...RS, ...PS], rsa())],
    p256: [pair('p256-a', ['ES256'], ec('P-256')), pair('p256-b', ['ES256'], ec('P-256'))],
    p384: [pair('p384-a', ['ES384'], ec('P-384')), pair('p384-b', ['ES384'], ec('P-384'))],
    p521: [pair('p521-a', ['ES512'], ec('P-521')), pair('p521-b', ['ES512'], ec('P-521'))],
    ed25519: [pair('ed-a', ED, generateKeyPairSync('ed25519')), pair('ed-b', ED, generateKeyPairSync('ed25519'))],
  };
  oddSecrets = [0, 1, 16, 31, 47, 65, 200].map((length) => secret(`hmac-${length}`, length));
  rsaPss = pair('rsa-pss', PS, generateKeyPairSync('rsa-pss', { modulusLength: 2048 }));
}, 60_000);

type Form = 'cryptoKey' | 'keyObject' | 'bytes';
const FORMS: readonly Form[] = ['cryptoKey', 'keyObject', 'bytes'];

const keyCache = new Map<string, Promise<VerifyKey>>();

/**
 * The verification key of `material` in `form`, a CryptoKey being imported for `keyAlg` as
 * keys.ts does (raw HMAC bound to the hash; jose's importSPKI). A form a key cannot take falls
 * back to its KeyObject (asymmetric keys as bytes; a CryptoKey of an empty secret or of an
 * `rsa-pss` key, which Web Crypto cannot import).
 */
function verifyKey(material: Material, form: Form, keyAlg: string): Promise<VerifyKey> {
  const id = `${material.name}/${form}/${form === 'cryptoKey' ? keyAlg : ''}`;
  let made = keyCache.get(id);
  if (made === undefined) {
    const keyObject = () => (material.secret === undefined ? createPublicKey(material.pem!) : createSecretKey(material.secret));
    const cryptoKey = () =>
      material.secret === undefined
        ? importSPKI(material.pem!, keyAlg)
        : crypto.subtle.importKey('raw', material.secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: hashOf(keyAlg)! }, false, ['verify']);
    const make = async (): Promise<VerifyKey> => {
      if (form === 'bytes' && material.secret !== undefined) return material.secret;
      if (form === 'cryptoKey') {
        try {
          return await cryptoKey();
        } catch {
          // Falls through to the KeyObject.
        }
      }
      return keyObject();
    };
    made = make();
    keyCache.set(id, made);
  }
  return made;
}

/**
 * `alg`'s signature of `input` made with `material`'s key by node:crypto directly (so also with
 * parameters that do not fit the key, such as a P-384 key with SHA-256); undefined when
 * node:crypto cannot make it.
 */
function signRaw(material: Material, alg: string, input: string, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Uint8Array | undefined {
  const digest = hashOf(alg)?.replace('SHA-', 'sha');
  const data = Buffer.from(input);
  try {
    if (material.secret !== undefined) return alg.startsWith('HS') ? createHmac(digest!, material.secret).update(data).digest() : undefined;
    const key = material.privateKey!;
    switch (alg.slice(0, 2)) {
      case 'RS':
        return nodeSign(digest, data, key);
      case 'PS':
        return nodeSign(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
      case 'ES':
        return nodeSign(digest, data, { key, dsaEncoding });
      default:
        return nodeSign(null, data, key);
    }
  } catch {
    return undefined;
  }
}

/**
 * The signature when the key checking it is not the token's: the token's own ('token'), or one the
 * checking key really made, with the algorithm its CryptoKey is bound to ('keyAlg') or with the
 * token's alg ('tokenAlg', e.g. a P-384 key hashing with SHA-256). Only jose's answer is right:
 * a key bound to another algorithm verifies nothing, even a signature it made.
 */
type Source = 'token' | 'keyAlg' | 'tokenAlg';
const SOURCES: readonly Source[] = ['token', 'keyAlg', 'tokenAlg'];

/** What is done to the token jose signed, or which key checks it. */
type Kind =
  | 'valid'
  | 'bitFlip' // one bit of the signature
  | 'truncate' // the signature cut short
  | 'extend' // bytes added to the signature
  | 'empty' // no signature
  | 'der' // ES*: the signature in DER, as node:crypto makes by default, not JWS's r || s
  | 'otherKey' // signed by another key of the same family
  | 'input' // one character of the signing input changed
  | 'wrongFamily' // checked with a key of another family (odd HMAC secrets and rsa-pss included)
  | 'hmacLength' // HS*: checked with a secret of another length (empty included)
  | 'wrongHash' // a CryptoKey bound to another hash, RSA padding or curve
  | 'rsaPssKey'; // RS*/PS*: checked with an `rsa-pss` KeyObject

function kindsFor(alg: string): Kind[] {
  const kinds: Kind[] = ['valid', 'bitFlip', 'truncate', 'extend', 'empty', 'otherKey', 'input', 'wrongFamily'];
  if (alg.startsWith('ES')) kinds.push('der');
  if (alg.startsWith('HS')) kinds.push('hmacLength');
  if (!ED.includes(alg)) kinds.push('wrongHash');
  if (alg.startsWith('RS') || alg.startsWith('PS')) kinds.push('rsaPssKey');
  return kinds;
}

interface Scenario {
  alg: string;
  kind: Kind;
  form: Form;
  source: Source;
  payload: Uint8Array;
  kid: string | undefined;
  /** Chooses among keys, algorithms and tamper positions. */
  pick: number;
  bit: number;
  extra: Uint8Array;
  char: number;
}

const scenario = (alg: string): fc.Arbitrary<Scenario> =>
  fc.record({
    alg: fc.constant(alg),
    kind: fc.constantFrom(...kindsFor(alg)),
    form: fc.constantFrom(...FORMS),
    source: fc.constantFrom(...SOURCES),
    payload: fc.uint8Array({ maxLength: 96 }),
    kid: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    pick: fc.nat(),
    bit: fc.nat(),
    extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    char: fc.integer({ min: 0x21, max: 0x7e }),
  });

/** What is checked: the token's alg, the key, the signing input and the signature. */
interface Case {
  alg: string;
  key: VerifyKey;
  signingInput: string;
  signature: Uint8Array;
}

const other = <T>(items: readonly T[], not: T, pick: number): T => {
  const rest = items.filter((item) => item !== not);
  return rest[pick % rest.length]!;
};

/** A token jose signs with the algorithm's first key, then tampered with as `s.kind` says. */
async function makeCase(s: Scenario): Promise<Case> {
  const { alg, kind, pick } = s;
  const [main, second] = families[FAMILY_OF[alg]!];
  const token = await new CompactSign(s.payload).setProtectedHeader(s.kid === undefined ? { alg } : { alg, kid: s.kid }).sign(main.secret ?? main.privateKey!);
  const signingInput = token.slice(0, token.lastIndexOf('.'));
  const signature = base64url.decode(token.slice(token.lastIndexOf('.') + 1));
  let verifier = main;
  let keyAlg = alg;
  let form = s.form;
  /** The signature made by the verifier's own key, as `s.source` says. */
  const fromVerifier = () =>
    (s.source === 'keyAlg' ? signRaw(verifier, keyAlg, signingInput) : s.source === 'tokenAlg' ? signRaw(verifier, alg, signingInput) : undefined) ?? signature;
  const result = (sig: Uint8Array, input = signingInput): Promise<Case> =>
    verifyKey(verifier, form, keyAlg).then((key) => ({ alg, key, signingInput: input, signature: sig }));

  switch (kind) {
    case 'valid':
      return result(signature);
    case 'bitFlip': {
      const flipped = signature.slice();
      const bit = s.bit % (flipped.length * 8);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      return result(flipped);
    }
    case 'truncate':
      return result(signature.slice(0, s.bit % signature.length));
    case 'extend':
      return result(Uint8Array.from([...signature, ...s.extra]));
    case 'empty':
      return result(new Uint8Array(0));
    case 'der':
      return result(signRaw(main, alg, signingInput, 'der')!);
    case 'otherKey':
      return result(signRaw(second, alg, signingInput)!);
    case 'input': {
      const at = s.bit % signingInput.length;
      const replacement = String.fromCharCode(s.char === signingInput.charCodeAt(at) ? (s.char === 0x7e ? 0x21 : s.char + 1) : s.char);
      return result(signature, signingInput.slice(0, at) + replacement + signingInput.slice(at + 1));
    }
    case 'wrongFamily': {
      // pick: which other family, which of its keys (the odd HMAC secrets and the rsa-pss key
      // included), which of its algorithms the CryptoKey is bound to.
      const family = other(Object.keys(families) as Family[], FAMILY_OF[alg]!, pick);
      const keys = [...families[family], ...(family === 'hmac' ? oddSecrets : family === 'rsa' ? [rsaPss] : [])];
      verifier = keys[Math.floor(pick / 5) % keys.length]!;
      keyAlg = verifier.algs[Math.floor(pick / 45) % verifier.algs.length]!;
      return result(fromVerifier());
    }
    case 'hmacLength':
      verifier = oddSecrets[pick % oddSecrets.length]!;
      return result(fromVerifier());
    case 'wrongHash': {
      // A CryptoKey bound to another algorithm of the same kind: another hash (HMAC, RSA), the
      // other RSA padding, another curve (ECDSA).
      form = 'cryptoKey';
      keyAlg = other(alg.startsWith('HS') ? HS : alg.startsWith('ES') ? ['ES256', 'ES384', 'ES512'] : [...RS, ...PS], alg, pick);
      verifier = families[FAMILY_OF[keyAlg]!][0];
      return result(fromVerifier());
    }
    case 'rsaPssKey':
      verifier = rsaPss;
      form = 'keyObject';
      keyAlg = PS[pick % PS.length]!;
      return result(fromVerifier());
  }
}

async function joseAccepts(c: Case): Promise<boolean> {
  const token = `${c.signingInput}.${base64url.encode(c.signature)}`;
  return compactVerify(token, c.key as Parameters<typeof compactVerify>[1], { algorithms: [c.alg] }).then(
    () => true,
    () => false,
  );
}

async function answers(c: Case) {
  const node = nodeCheck.verify(c.alg, c.key, c.signingInput, c.signature);
  const web = await webCrypto.verify(c.alg, c.key, c.signingInput, c.signature);
  return { node, web, jose: await joseAccepts(c) };
}

/** How many values of `pick` lead to different keys, for the kinds that choose one. */
function choices(alg: string, kind: Kind): number {
  switch (kind) {
    case 'wrongFamily':
      return 5 * 9; // other family × its key (up to 9 for HMAC)
    case 'hmacLength':
      return oddSecrets.length;
    case 'wrongHash':
      return alg.startsWith('HS') || alg.startsWith('ES') ? 2 : 5;
    case 'rsaPssKey':
      return PS.length;
    default:
      return 1;
  }
}

/**
 * Before the random runs, deterministic ones: every kind of tampering, every key it can choose,
 * every key form and every signature source (where they change anything).
 */
function examples(alg: string): [Scenario][] {
  const base: Omit<Scenario, 'kind' | 'form' | 'source' | 'pick'> = {
    alg,
    payload: new Uint8Array([123, 125]),
    kid: undefined,
    bit: 5,
    extra: new Uint8Array([0]),
    char: 0x41,
  };
  return kindsFor(alg).flatMap((kind) => {
    const made: [Scenario][] = [];
    const signedByVerifier = ['wrongFamily', 'hmacLength', 'wrongHash', 'rsaPssKey'].includes(kind);
    for (let pick = 0; pick < choices(alg, kind); pick++) {
      if (kind === 'wrongFamily') {
        // 45 keys of other families: one form and one source each, in turn.
        made.push([{ ...base, kind, form: FORMS[pick % 3]!, source: SOURCES[Math.floor(pick / 3) % 3]!, pick }]);
        continue;
      }
      for (const form of kind === 'wrongHash' || kind === 'rsaPssKey' ? (['cryptoKey'] as const) : FORMS) {
        for (const source of signedByVerifier ? SOURCES : (['token'] as const)) made.push([{ ...base, kind, form, source, pick }]);
      }
    }
    return made;
  });
}

/** Random scenarios per algorithm, after the listed ones. */
const RANDOM_RUNS = 40;

describe('node:crypto and Web Crypto signature checks agree with each other and with jose', () => {
  it.each(ALGORITHMS)('%s', async (alg) => {
    const seen = new Set<string>();
    const listed = examples(alg);
    await fc.assert(
      fc.asyncProperty(scenario(alg), async (s) => {
        const c = await makeCase(s);
        const { node, web, jose } = await answers(c);
        expect(typeof node).toBe('boolean');
        expect(typeof web).toBe('boolean');
        expect({ node, web }).toEqual({ node: jose, web: jose });
        seen.add(`${s.kind}:${jose}`);
      }),
      // Examples count towards numRuns: all of them, then RANDOM_RUNS random scenarios.
      { numRuns: listed.length + RANDOM_RUNS, examples: listed },
    );
    // The runs include tokens that verify, not only refusals.
    expect(seen.has('valid:true')).toBe(true);
  });
});
