import { describe, expect, it } from 'vitest';
import { reconnectDelay, redactUrl } from './store.js';

describe('redactUrl', () => {
  it('hides the password of a Redis URL, and keeps the rest', () => {
    expect(redactUrl('redis://:s3cret-pass@redis.internal:6380/2')).toBe('redis://:***@redis.internal:6380/2');
    expect(redactUrl('rediss://app:s3cret-pass@redis.internal')).toBe('rediss://app:***@redis.internal');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('reconnectDelay', () => {
  it('starts at 50 ms and doubles up to 1 s, plus under 100 ms of jitter', () => {
    for (const [retries, base] of [
      [0, 50],
      [1, 100],
      [3, 400],
      [4, 800],
      [5, 1000],
      [40, 1000],
    ] as const) {
      const delay = reconnectDelay(retries);
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThan(base + 100);
    }
  });
});
