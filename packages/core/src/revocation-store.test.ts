import { describe, expect, it } from 'vitest';
import { MemoryRevocationStore, StoreUnavailable, type RotateOptions } from './revocation-store.js';

describe('MemoryRevocationStore', () => {
  it('holds a revocation until it expires, then forgets it', () => {
    let now = 1_000_000;
    const store = new MemoryRevocationStore({ now: () => now });
    store.revoke('jti-1', now / 1000 + 60);
    expect(store.isRevoked('jti-1')).toBe(true);
    expect(store.isRevoked('jti-2')).toBe(false);
    now += 60_000;
    expect(store.isRevoked('jti-1')).toBe(false);
    expect(store.size).toBe(0);
  });

  it('keeps the later expiry when an id is revoked twice', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now });
    store.revoke('sid', 100);
    store.revoke('sid', 50);
    now = 80_000;
    expect(store.isRevoked('sid')).toBe(true);
  });

  it('sweeps expired entries so memory is bounded by live tokens', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now });
    for (let i = 0; i < 999; i++) store.revoke(`old-${i}`, 10);
    now = 20_000;
    store.revoke('fresh', 100);
    expect(store.size).toBe(1);
  });
});

describe('MemoryRevocationStore.rotate', () => {
  const options = (now: number, extra: Partial<RotateOptions> = {}): RotateOptions => ({
    now,
    reuseInterval: 10,
    expiresAt: now + 3600,
    revokeOnReplay: true,
    ...extra,
  });

  it('moves a session from one generation to the next, once per generation', () => {
    const store = new MemoryRevocationStore({ now: () => 0 });
    expect(store.rotate('s', 0, options(0))).toEqual({ outcome: 'rotated', generation: 1 });
    expect(store.rotate('s', 1, options(1))).toEqual({ outcome: 'rotated', generation: 2 });
    expect(store.size).toBe(1);
  });

  it('answers reused for the previous generation within the interval, replayed after it (and revokes)', () => {
    const store = new MemoryRevocationStore({ now: () => 0 });
    store.rotate('s', 0, options(100));
    expect(store.rotate('s', 0, options(110))).toEqual({ outcome: 'reused', generation: 1 });
    expect(store.isRevoked('s')).toBe(false);
    expect(store.rotate('s', 0, options(111))).toEqual({ outcome: 'replayed' });
    expect(store.isRevoked('s')).toBe(true);
    expect(store.rotate('s', 1, options(112))).toEqual({ outcome: 'revoked' });
  });

  it('never answers reused with an interval of 0', () => {
    const store = new MemoryRevocationStore({ now: () => 0 });
    store.rotate('s', 0, options(100, { reuseInterval: 0 }));
    expect(store.rotate('s', 0, options(100, { reuseInterval: 0, revokeOnReplay: false }))).toEqual({ outcome: 'replayed' });
    expect(store.isRevoked('s')).toBe(false);
  });

  it('answers revoked for a later generation it has no state for', () => {
    const store = new MemoryRevocationStore({ now: () => 0 });
    expect(store.rotate('s', 3, options(0))).toEqual({ outcome: 'revoked' });
  });

  it('forgets a session once its state has expired', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now });
    store.rotate('s', 0, options(0, { expiresAt: 60 }));
    now = 61_000;
    store.sweep();
    expect(store.size).toBe(0);
  });
});

describe('MemoryRevocationStore size bound', () => {
  it('refuses to grow past maxEntries with StoreUnavailable rather than forget a revocation', () => {
    const store = new MemoryRevocationStore({ now: () => 0, maxEntries: 3 });
    store.revoke('a', 100);
    store.revoke('b', 100);
    store.rotate('s', 0, { now: 0, reuseInterval: 0, expiresAt: 100, revokeOnReplay: true });
    expect(() => store.revoke('c', 100)).toThrow(StoreUnavailable);
    expect(() => store.rotate('t', 0, { now: 0, reuseInterval: 0, expiresAt: 100, revokeOnReplay: true })).toThrow(/full \(3 live entries\)/);
    // What it holds still counts, and updates of existing entries still work.
    expect(store.isRevoked('a')).toBe(true);
    expect(store.rotate('s', 1, { now: 1, reuseInterval: 0, expiresAt: 100, revokeOnReplay: true })).toEqual({ outcome: 'rotated', generation: 2 });
  });

  it('makes room by forgetting expired entries first', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now, maxEntries: 2 });
    store.revoke('a', 10);
    store.revoke('b', 10);
    now = 11_000;
    expect(() => store.revoke('c', 100)).not.toThrow();
    expect(store.size).toBe(1);
  });

  it('refuses a maxEntries that is not a whole number above 0', () => {
    expect(() => new MemoryRevocationStore({ maxEntries: 0 })).toThrow(TypeError);
  });
});
