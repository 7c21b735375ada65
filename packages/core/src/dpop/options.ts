import type { Duration } from '../duration.js';
import type { DpopNonces } from './nonce.js';

/**
 * Where DPoP proofs' `jti`s are remembered, so that each proof is accepted once (RFC 9449 §11.1).
 * A {@link RevocationStore} with `markUsed` fits: `MemoryRevocationStore` for one process,
 * `@jwtauth/redis`'s store for several.
 */
export interface DpopReplayStore {
  /**
   * Records `key` as used until `expiresAt` (seconds since the epoch): `true` for its first use,
   * `false` when it was used already. Throws `StoreUnavailable` when the store cannot answer.
   */
  markUsed(key: string, expiresAt: number): boolean | Promise<boolean>;
}

/** The `dpop` option: sender-constrained tokens (RFC 9449) at this resource server. */
export interface DpopOptions {
  /**
   * `'allowed'` (default) accepts `Authorization: Bearer` and `Authorization: DPoP` with a proof;
   * `'required'` accepts only DPoP. In every mode a token bound to a key (`cnf.jkt`) is refused
   * when sent as a plain Bearer token.
   */
  mode?: 'allowed' | 'required';
  /**
   * Algorithms a proof may be signed with: asymmetric only. Default `ES256`, `ES384`, `ES512`,
   * `PS256`, `PS384`, `PS512`, `RS256`, `RS384`, `RS512` and `EdDSA`. Named in the `DPoP`
   * challenge's `algs`.
   */
  algorithms?: readonly string[];
  /**
   * How far a proof's `iat` may be from now, either way: a proof is fresh for this long. Default
   * `"60s"`. The proof's `jti` is remembered for as long.
   */
  iatWindow?: Duration;
  /**
   * Server nonces (RFC 9449 §9), from `createDpopNonces({ secret })`: a proof must carry a recent
   * one, or the request is answered `use_dpop_nonce` with a fresh `DPoP-Nonce`. Off by default.
   */
  nonces?: DpopNonces;
  /**
   * Where proof `jti`s are remembered. Default: a store in this process's memory, which a
   * proof replayed to another process does not see; give the shared store (Redis) when the app
   * runs on several.
   */
  replayStore?: DpopReplayStore;
  /**
   * The public origin of this server (`https://api.example`), against which a proof's `htu` is
   * checked with the request's path. Default: the `resource` option's origin when it is set, else
   * the origin the framework sees (Express and Fastify follow their `trust proxy` setting, Koa
   * its `proxy`, Hono the request URL).
   */
  origin?: string;
}
