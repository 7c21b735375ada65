import { describe, expect, it } from 'vitest';
import { MemoryRevocationStore } from './revocation-store.js';

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
