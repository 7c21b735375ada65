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

describe('MemoryRevocationStore.markUsed (one-time-use marks, DPoP proof replay)', () => {
  it('answers true for the first use of a key and false while the mark holds, by the store’s clock', () => {
    let now = 1_000_000;
    const store = new MemoryRevocationStore({ now: () => now });
    expect(store.markUsed('jti-1', now / 1000 + 60)).toBe(true);
    expect(store.markUsed('jti-1', now / 1000 + 60)).toBe(false);
    expect(store.markUsed('jti-2', now / 1000 + 60)).toBe(true);
    now += 59_999;
    expect(store.markUsed('jti-1', now / 1000 + 60)).toBe(false);
    // At its expiry the mark counts as unused: the key may be used (and marked) again.
    now += 1;
    expect(store.markUsed('jti-1', now / 1000 + 60)).toBe(true);
    expect(store.markUsed('jti-1', now / 1000 + 60)).toBe(false);
  });

  it('remembers nothing for a mark that has already expired', () => {
    const store = new MemoryRevocationStore({ now: () => 100_000 });
    expect(store.markUsed('k', 99)).toBe(true);
    expect(store.markUsed('k', 100)).toBe(true);
    expect(store.size).toBe(0);
  });

  it('is not a revocation, nor the other way round', () => {
    const store = new MemoryRevocationStore({ now: () => 0 });
    store.revoke('a', 100);
    expect(store.markUsed('a', 100)).toBe(true);
    expect(store.markUsed('b', 100)).toBe(true);
    expect(store.isRevoked('b')).toBe(false);
    expect(store.size).toBe(3);
  });

  it('counts marks in size, forgets expired ones on a sweep, and overwrites an expired mark in place', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now });
    store.markUsed('a', 10);
    store.markUsed('b', 20);
    expect(store.size).toBe(2);
    now = 15_000;
    expect(store.markUsed('a', 30)).toBe(true);
    expect(store.size).toBe(2);
    store.sweep();
    expect(store.size).toBe(2);
    now = 25_000;
    store.sweep();
    expect(store.size).toBe(1);
    expect(store.markUsed('a', 30)).toBe(false);
  });

  it('holds at most maxEntries: a full store refuses a new mark with StoreUnavailable, after forgetting expired entries', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now, maxEntries: 2 });
    store.markUsed('a', 10);
    store.revoke('r', 100);
    expect(() => store.markUsed('b', 100)).toThrow(StoreUnavailable);
    // A refused mark is not remembered: the key is still unused.
    expect(store.size).toBe(2);
    // An expired mark of the same key needs no room.
    now = 11_000;
    expect(store.markUsed('a', 100)).toBe(true);
    expect(() => store.markUsed('b', 100)).toThrow(StoreUnavailable);
    now = 101_000;
    expect(store.markUsed('b', 200)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('sweeps expired marks now and then, so memory is bounded by live marks', () => {
    let now = 0;
    const store = new MemoryRevocationStore({ now: () => now });
    for (let i = 0; i < 999; i++) store.markUsed(`old-${i}`, 10);
    now = 20_000;
    store.markUsed('fresh', 100);
    expect(store.size).toBe(1);
  });
});
