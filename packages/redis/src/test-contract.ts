// The store contract: MemoryRevocationStore (the reference) and the Redis store through each
// client library must give the same answers to the same calls (store-contract.test.ts,
// cluster.test.ts). Times are real seconds since the epoch, as an issuer passes them, because Redis
// expires keys by its own clock.
import type { RevocationStore, RotateOptions, RotateResult } from '@jwtauth/core';
import { seconds } from './test-redis.js';

type Step =
  | { revoke: string; until: number }
  | { isRevoked: string; expect: boolean }
  | { anyRevoked: string[]; expect: boolean }
  | { markUsed: string; until: number; expect: boolean }
  | { rotate: string; generation: number; at: number; options?: Partial<Omit<RotateOptions, 'now'>>; expect: RotateResult };

export interface Scenario {
  name: string;
  /** `t` is now (whole seconds); ids are made unique per run. */
  steps: (t: number) => Step[];
}

const rotated = (generation: number): RotateResult => ({ outcome: 'rotated', generation });
const reused = (generation: number): RotateResult => ({ outcome: 'reused', generation });
const replayed: RotateResult = { outcome: 'replayed' };
const revoked: RotateResult = { outcome: 'revoked' };

export const SCENARIOS: Scenario[] = [
  {
    name: 'a revocation holds until it expires; other ids are not revoked',
    steps: (t) => [
      { revoke: 'jti', until: t + 60 },
      { isRevoked: 'jti', expect: true },
      { isRevoked: 'other', expect: false },
      { revoke: 'gone', until: t - 1 },
      { isRevoked: 'gone', expect: false },
    ],
  },
  {
    name: 'revoking twice keeps the later expiry',
    steps: (t) => [
      { revoke: 'sid', until: t + 3600 },
      { revoke: 'sid', until: t - 5 },
      { isRevoked: 'sid', expect: true },
    ],
  },
  {
    name: 'anyRevoked answers for a token and its session together',
    steps: (t) => [
      { anyRevoked: [], expect: false },
      { anyRevoked: ['jti', 'sid'], expect: false },
      { revoke: 'sid', until: t + 60 },
      { anyRevoked: ['jti', 'sid'], expect: true },
      { anyRevoked: ['sid', 'jti'], expect: true },
      { anyRevoked: ['jti'], expect: false },
    ],
  },
  {
    name: 'rotation moves a session on once per generation',
    steps: (t) => [
      { rotate: 's', generation: 0, at: t, expect: rotated(1) },
      { rotate: 's', generation: 1, at: t + 1, expect: rotated(2) },
      { rotate: 's', generation: 2, at: t + 2, expect: rotated(3) },
      { isRevoked: 's', expect: false },
    ],
  },
  {
    name: 'the previous generation is reused within the interval (boundary included), replayed after it, and the replay revokes the session',
    steps: (t) => [
      { rotate: 's', generation: 0, at: t, expect: rotated(1) },
      { rotate: 's', generation: 0, at: t, expect: reused(1) },
      { rotate: 's', generation: 0, at: t + 10, expect: reused(1) },
      { isRevoked: 's', expect: false },
      { rotate: 's', generation: 0, at: t + 11, expect: replayed },
      { isRevoked: 's', expect: true },
      { anyRevoked: ['some-jti', 's'], expect: true },
      { rotate: 's', generation: 1, at: t + 12, expect: revoked },
    ],
  },
  {
    name: 'a reuse changes nothing: the current generation still rotates',
    steps: (t) => [
      { rotate: 's', generation: 0, at: t, expect: rotated(1) },
      { rotate: 's', generation: 0, at: t + 1, expect: reused(1) },
      { rotate: 's', generation: 1, at: t + 2, expect: rotated(2) },
      // Reused counts from the last rotation, and only for the generation just before it.
      { rotate: 's', generation: 1, at: t + 3, expect: reused(2) },
      { rotate: 's', generation: 0, at: t + 4, expect: replayed },
      { isRevoked: 's', expect: true },
    ],
  },
  {
    name: 'an interval of 0 is strict: the previous generation is a replay at once',
    steps: (t) => [
      { rotate: 's', generation: 0, at: t, options: { reuseInterval: 0 }, expect: rotated(1) },
      { rotate: 's', generation: 0, at: t, options: { reuseInterval: 0, revokeOnReplay: false }, expect: replayed },
      { isRevoked: 's', expect: false },
      { rotate: 's', generation: 1, at: t, options: { reuseInterval: 0 }, expect: rotated(2) },
      { rotate: 's', generation: 1, at: t, options: { reuseInterval: 0 }, expect: replayed },
      { isRevoked: 's', expect: true },
    ],
  },
  {
    name: 'a generation ahead of the state, or a state that is gone, fails closed',
    steps: (t) => [
      { rotate: 'unknown', generation: 3, at: t, expect: revoked },
      { isRevoked: 'unknown', expect: false },
      { rotate: 's', generation: 0, at: t, expect: rotated(1) },
      { rotate: 's', generation: 5, at: t + 1, options: { revokeOnReplay: false }, expect: replayed },
      { isRevoked: 's', expect: false },
    ],
  },
  {
    name: 'a state past its expiresAt (by the caller’s clock) is forgotten',
    steps: (t) => [
      { rotate: 's', generation: 0, at: t, options: { expiresAt: t + 60 }, expect: rotated(1) },
      { rotate: 's', generation: 1, at: t + 60, expect: revoked },
      { rotate: 's', generation: 0, at: t + 61, expect: rotated(1) },
    ],
  },
  {
    name: 'a revoked session is never rotated, whatever the generation',
    steps: (t) => [
      { revoke: 's', until: t + 60 },
      { rotate: 's', generation: 0, at: t, expect: revoked },
      { rotate: 's', generation: 1, at: t, expect: revoked },
    ],
  },
  {
    name: 'a one-time-use mark: the first use is true, every later one false, other keys are unaffected',
    steps: (t) => [
      { markUsed: 'proof', until: t + 60, expect: true },
      { markUsed: 'proof', until: t + 60, expect: false },
      { markUsed: 'proof', until: t + 3600, expect: false },
      { markUsed: 'other', until: t + 60, expect: true },
      { markUsed: 'other', until: t + 60, expect: false },
      { markUsed: 'proof', until: t + 60, expect: false },
    ],
  },
  {
    name: 'a mark that has already expired is not remembered: the key is unused again',
    steps: (t) => [
      { markUsed: 'late', until: t - 1, expect: true },
      { markUsed: 'late', until: t - 1, expect: true },
      { markUsed: 'late', until: t + 60, expect: true },
      { markUsed: 'late', until: t + 60, expect: false },
    ],
  },
  {
    name: 'marks and revocations are kept apart: a used key is not revoked, a revoked id is not used',
    steps: (t) => [
      { revoke: 'jti', until: t + 60 },
      { markUsed: 'jti', until: t + 60, expect: true },
      { markUsed: 'fresh', until: t + 60, expect: true },
      { isRevoked: 'fresh', expect: false },
      { anyRevoked: ['fresh', 'jti'], expect: true },
      { markUsed: 'jti', until: t + 60, expect: false },
    ],
  },
];

export async function play(store: RevocationStore, scenario: Scenario, unique: string): Promise<unknown[]> {
  const t = seconds();
  const id = (name: string) => `${name}-${unique}`;
  const answers: unknown[] = [];
  for (const step of scenario.steps(t)) {
    if ('revoke' in step) answers.push(await store.revoke(id(step.revoke), step.until));
    else if ('isRevoked' in step) answers.push(await store.isRevoked(id(step.isRevoked)));
    else if ('anyRevoked' in step) answers.push(await store.anyRevoked!(step.anyRevoked.map(id)));
    else if ('markUsed' in step) answers.push(await store.markUsed!(id(step.markUsed), step.until));
    else {
      const options = { now: step.at, reuseInterval: 10, expiresAt: t + 3600, revokeOnReplay: true, ...step.options };
      answers.push(await store.rotate(id(step.rotate), step.generation, options));
    }
  }
  return answers;
}

export const expected = (scenario: Scenario) => scenario.steps(0).map((step) => ('revoke' in step ? undefined : step.expect));
