import { toSeconds } from '../duration.js';
import { isChallengeSafe } from '../http/challenge.js';
import { MemoryRevocationStore } from '../revocation-store.js';
import { EDDSA_ALGORITHMS, RSA_ALGORITHMS } from '../keys/algorithms.js';
import type { DpopNonces } from './nonce.js';
import type { DpopOptions, DpopReplayStore } from './options.js';

/** The `dpop` option, checked. */
export interface DpopConfig {
  /** Mode `'required'`: Bearer tokens are refused. */
  required: boolean;
  /** Proof algorithms accepted. */
  algorithms: readonly string[];
  /** Seconds a proof's `iat` may be from now. */
  iatWindow: number;
  /** Server nonces, when required. */
  nonces: DpopNonces | undefined;
  /** Where proof `jti`s are remembered. */
  replayStore: DpopReplayStore;
  /** The public origin `htu` is checked against, when set (the option, or the resource's). */
  origin: string | undefined;
}

/** Asymmetric algorithms only (RFC 9449 §4.2): a proof's key is public, in its header. */
const PROOF_ALGORITHMS: ReadonlySet<string> = new Set(['ES256', 'ES384', 'ES512', ...RSA_ALGORITHMS, ...EDDSA_ALGORITHMS]);
const DEFAULT_PROOF_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] as const;
const DPOP_OPTIONS = new Set(['mode', 'algorithms', 'iatWindow', 'nonces', 'replayStore', 'origin']);

/** `scheme://host[:port]` of an http(s) URL with nothing after it, or `undefined`. */
function originOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '' && !value.includes('?');
    return (url.protocol === 'https:' || url.protocol === 'http:') && bare ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The proof checks the resource server and the token endpoints share: `algorithms` (asymmetric
 * only, default {@link DEFAULT_PROOF_ALGORITHMS}) and `iatWindow` (1 s to 1 h, default 60 s).
 */
export function proofOptions(
  given: { algorithms?: unknown; iatWindow?: unknown },
  fail: (message: string) => never,
): { algorithms: readonly string[]; iatWindow: number } {
  let algorithms: readonly string[] = DEFAULT_PROOF_ALGORITHMS;
  if (given.algorithms !== undefined) {
    const list: unknown = given.algorithms;
    if (!Array.isArray(list) || list.length === 0) fail('"dpop.algorithms" must be a non-empty array such as ["ES256", "EdDSA"].');
    for (const alg of list as unknown[]) {
      if (typeof alg !== 'string' || !PROOF_ALGORITHMS.has(alg)) {
        fail(`"dpop.algorithms" may hold only asymmetric algorithms (${[...PROOF_ALGORITHMS].join(', ')}), not ${JSON.stringify(alg)}.`);
      }
    }
    algorithms = [...new Set(list as string[])];
  }
  const iatWindow =
    given.iatWindow === undefined ? 60 : typeof given.iatWindow === 'number' || typeof given.iatWindow === 'string' ? toSeconds(given.iatWindow) : undefined;
  if (iatWindow === undefined || iatWindow < 1 || iatWindow > 3600) fail('"dpop.iatWindow" must be a duration between 1 second and 1 hour, such as "60s".');
  return { algorithms, iatWindow };
}

/** `dpop.origin`: `scheme://host[:port]` with nothing after it. */
export function proofOrigin(value: unknown, fail: (message: string) => never): string {
  const origin = originOf(value);
  if (origin === undefined || !isChallengeSafe(origin)) fail('"dpop.origin" must be an origin such as "https://api.example", without a path.');
  return origin;
}

/** Checks the `dpop` option; `resourceUrl` (the `resource` option's) gives the default origin. */
export function dpopFrom(value: unknown, resourceUrl: string | undefined, fail: (message: string) => never): DpopConfig | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) fail('"dpop" must be an object such as { mode: "allowed" } or { mode: "required" }.');
  const given = value as DpopOptions & Record<string, unknown>;
  for (const name of Object.keys(given)) if (!DPOP_OPTIONS.has(name)) fail(`unknown option "dpop.${name}".`);
  if (given.mode !== undefined && given.mode !== 'allowed' && given.mode !== 'required') fail('"dpop.mode" must be "allowed" or "required".');
  const { algorithms, iatWindow } = proofOptions(given, fail);
  const { nonces, replayStore } = given;
  if (nonces !== undefined && (typeof nonces !== 'object' || nonces === null || typeof nonces.current !== 'function' || typeof nonces.isValid !== 'function')) {
    fail('"dpop.nonces" must come from createDpopNonces({ secret }).');
  }
  if (replayStore !== undefined && (typeof replayStore !== 'object' || replayStore === null || typeof replayStore.markUsed !== 'function')) {
    fail('"dpop.replayStore" must have markUsed(key, expiresAt), as MemoryRevocationStore and @jwtauth/redis\'s store do.');
  }
  const origin = given.origin === undefined ? (resourceUrl === undefined ? undefined : new URL(resourceUrl).origin) : proofOrigin(given.origin, fail);
  return {
    required: given.mode === 'required',
    algorithms,
    iatWindow,
    nonces,
    replayStore: replayStore ?? new MemoryRevocationStore(),
    origin,
  };
}
