import { calculateJwkThumbprint, type JWK } from 'jose';
import type { KeyInput } from '@jwtauth/core';
import { isSymmetric, prepareSigningKey, prepareVerifyingKey, publicJwk, type SigningKey, type SigningKeyInput, type VerifyingKey } from './signing-key.js';

/** A key that signed this issuer's tokens before the current one (`previousKeys` of `createTokenIssuer`). */
export interface PreviousKey {
  /**
   * The key: the private key or HMAC secret it signed with, or (asymmetric) just its public key:
   * SPKI PEM, X.509 certificate, public JWK, `KeyObject`, extractable `CryptoKey`.
   */
  key: SigningKeyInput;
  /**
   * The `kid` its tokens carry. Default: its RFC 7638 JWK thumbprint for an asymmetric key (what
   * `createTokenIssuer` gave it as the current key without a `kid`), none for an HMAC secret.
   */
  kid?: string;
  /** The algorithm it signed with. Default: as for `key` (RS256, the curve's ES*, EdDSA, HS256), or a JWK's `alg`. */
  algorithm?: string;
  /**
   * When it stopped signing (the deploy that replaced it): a `Date` or an ISO 8601 string. It stays
   * accepted and published until every token it can have signed has expired: this moment plus the
   * longest token lifetime (capped by `sessionLifetime`) plus `revocationGrace`. A later moment
   * than the true one is safe; an earlier one cuts its tokens off early.
   */
  retiredAt: Date | string;
}

/** One key of the public JWK Set: the public members, `kid`, `alg` and `use: "sig"`; never a private member. */
export type PublicJwk = Pick<JWK, 'kty' | 'crv' | 'n' | 'e' | 'x' | 'y'> & {
  /** The key's id, as in the `kid` header of the tokens it signs. */
  kid: string;
  /** The algorithm the key signs with. */
  alg: string;
  /** Always `"sig"`: the key verifies signatures. */
  use: 'sig';
};

/** The issuer's JWK Set (RFC 7517 §5), the current key first. */
export interface PublicJwkSet {
  /** The public keys, the current key first. */
  keys: PublicJwk[];
}

/** A key of the ring: the current one (no `until`) or a previous one, live until `until` (seconds). */
interface RingKey {
  readonly alg: string;
  readonly until: number | undefined;
  kid: () => Promise<string | undefined>;
  /** What `verifierOptions.secret` hands to core: the secret, or the public JWK with `kid` and `alg`. */
  verificationKey(): Promise<KeyInput>;
  /** The JWK Set entry; undefined for an HMAC secret, which is never published. */
  published(): Promise<PublicJwk> | undefined;
}

/** The signing key, the keys that signed before it, and what verifiers are given of them. */
export interface KeyRing {
  readonly signing: SigningKey;
  /** Every algorithm a live token can be signed with, the current one first. */
  readonly algorithms: string[];
  /** Whether the keys are HMAC secrets (and so never published). */
  readonly symmetric: boolean;
  /** The `kid` header of new tokens. */
  kid: () => Promise<string | undefined>;
  /** The keys that verify tokens at `now` (seconds): the current one and the previous ones still in their window. */
  verificationKeys(now: number): Promise<KeyInput[]>;
  /** The public JWK Set at `now`: the current key first, then the previous ones still in their window. */
  jwks(now: number): Promise<PublicJwkSet>;
}

function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** The moment as seconds since the epoch, or undefined when it is not a valid date. */
function secondsOf(value: unknown): number | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' && value !== '' ? new Date(value) : undefined;
  const ms = date?.getTime();
  return ms === undefined || Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** A comparable form of a key as given, to catch the same key listed twice (a copy-pasted variable). */
function identity(input: unknown): unknown {
  // A PEM reads the same whatever its whitespace; a secret is compared as it is.
  if (typeof input === 'string') return input.includes('-----BEGIN') ? input.replace(/\s+/g, '') : input;
  if (typeof input === 'object' && input !== null && typeof (input as JWK).kty === 'string' && !(input instanceof Uint8Array)) {
    return JSON.stringify(publicJwk(input)) + String((input as JWK).k ?? '');
  }
  return input;
}

function ringKey(prepared: VerifyingKey, explicitKid: string | undefined, until: number | undefined): RingKey {
  const { alg } = prepared;
  if (isSymmetric(alg)) {
    return { alg, until, kid: async () => explicitKid, verificationKey: () => prepared.verificationKey(), published: () => undefined };
  }
  const publicKey = memo(async () => publicJwk((await prepared.verificationKey()) as JWK));
  // RFC 7638: a name every verifier can recompute from the key itself, and the same on every restart.
  const kid = memo(async () => explicitKid ?? (await calculateJwkThumbprint(await publicKey(), 'sha256')));
  return {
    alg,
    until,
    kid,
    // One object per key, so that core prepares (imports) it once and not on every request.
    verificationKey: memo(async () => ({ ...(await publicKey()), alg, kid: await kid() })),
    published: memo(async () => ({ ...(await publicKey()), kid: await kid(), alg, use: 'sig' as const })),
  };
}

/**
 * Checks `key`, `algorithm`, `kid` and `previousKeys` (a mistake calls `fail` with a sentence that
 * says what to fix) and builds the ring. `window` is how long, in seconds, a previous key stays
 * after its `retiredAt`: the longest lifetime of a token plus `revocationGrace`.
 */
export function createKeyRing(
  options: { key: SigningKeyInput; algorithm?: string | undefined; kid?: string | undefined; previousKeys?: readonly PreviousKey[] | undefined },
  window: number,
  fail: (message: string) => never,
): KeyRing {
  const prepared = prepareSigningKey(options.key, options.algorithm);
  if (typeof prepared === 'string') fail(`"key": ${prepared}.`);
  const signing: SigningKey = prepared;
  if (options.kid !== undefined && (typeof options.kid !== 'string' || options.kid === '')) fail('"kid" must be a non-empty string.');
  const symmetric = isSymmetric(signing.alg);
  const current = ringKey(signing, options.kid, undefined);

  const previousKeys = options.previousKeys ?? [];
  if (!Array.isArray(previousKeys)) fail('"previousKeys" must be an array of { key, retiredAt, kid?, algorithm? }.');
  const kids = new Map<string, string>(options.kid === undefined ? [] : [[options.kid, '"kid"']]);
  const seen = new Map<unknown, string>([[identity(options.key), '"key"']]);
  const previous = previousKeys.map((entry: PreviousKey, index): RingKey => {
    const at = `"previousKeys[${index}]"`;
    if (typeof entry !== 'object' || entry === null) fail(`${at} must be { key, retiredAt, kid?, algorithm? }.`);
    if (entry.key === undefined || entry.key === null || entry.key === '') fail(`${at}.key is missing: is the environment variable it is read from set?`);
    const same = seen.get(identity(entry.key));
    if (same !== undefined) fail(`${at}.key is the same key as ${same}: list each key once (the current one only as "key").`);
    seen.set(identity(entry.key), `${at}.key`);
    const key = prepareVerifyingKey(entry.key, entry.algorithm);
    if (typeof key === 'string') fail(`${at}.key cannot verify the tokens it signed: ${key}.`);
    if (isSymmetric(key.alg) !== symmetric) {
      fail(
        `${at}.key is ${symmetric ? 'a public or private key' : 'an HMAC secret'} but "key" is ${symmetric ? 'an HMAC secret' : 'a private key'}: ` +
          "keep one kind. Accepting both would let every holder of the secret sign tokens that pass for the private key's (algorithm confusion); " +
          'switching between them means a new issuer, which verifiers trust separately.',
      );
    }
    if (entry.kid !== undefined) {
      if (typeof entry.kid !== 'string' || entry.kid === '') fail(`${at}.kid must be a non-empty string.`);
      const taken = kids.get(entry.kid);
      if (taken !== undefined) fail(`${at}.kid "${entry.kid}" is also the kid of ${taken}: every key needs its own kid, or verifiers cannot tell them apart.`);
      kids.set(entry.kid, at);
    }
    const retiredAt = secondsOf(entry.retiredAt);
    if (retiredAt === undefined) fail(`${at}.retiredAt must be a Date or an ISO 8601 string such as "2025-06-01T12:00:00Z": when the key stopped signing.`);
    return ringKey(key, entry.kid, retiredAt + window);
  });
  const ring = [current, ...previous];
  const live = (now: number) => ring.filter((key) => key.until === undefined || now <= key.until);

  return {
    signing,
    algorithms: [...new Set(ring.map((key) => key.alg))],
    symmetric,
    kid: current.kid,
    verificationKeys: (now) => Promise.all(live(now).map((key) => key.verificationKey())),
    async jwks(now) {
      const entries = await Promise.all(live(now).map((key) => key.published()!));
      // The same public key given twice (as a private and as a public key) has one thumbprint: list it once.
      return { keys: entries.filter((entry, index) => entries.findIndex((other) => other.kid === entry.kid) === index) };
    },
  };
}
