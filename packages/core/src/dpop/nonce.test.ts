import { describe, expect, it } from 'vitest';
import { createDpopNonces } from './nonce.js';

const SECRET = 'a-dpop-nonce-secret-of-32-bytes!';

describe('createDpopNonces', () => {
  it('hands out one nonce per window and accepts it in that window and the next', async () => {
    const nonces = createDpopNonces({ secret: SECRET, lifetime: '5m' });
    const t = 1_800_000_000 - (1_800_000_000 % 300);
    const nonce = await nonces.current(t);
    expect(await nonces.current(t + 299)).toBe(nonce);
    expect(await nonces.current(t + 300)).not.toBe(nonce);
    expect(await nonces.isValid(nonce, t + 10)).toBe(true);
    expect(await nonces.isValid(nonce, t + 599)).toBe(true);
    expect(await nonces.isValid(nonce, t + 600)).toBe(false);
    expect(await nonces.isValid(nonce, t - 1)).toBe(false);
  });

  it('accepts the nonces of another process with the same secret, not of another secret', async () => {
    const t = 1_800_000_000;
    const nonce = await createDpopNonces({ secret: SECRET }).current(t);
    expect(await createDpopNonces({ secret: new TextEncoder().encode(SECRET) }).isValid(nonce, t)).toBe(true);
    expect(await createDpopNonces({ secret: `${SECRET}?` }).isValid(nonce, t)).toBe(false);
  });

  it('refuses made-up, altered and oversized nonces', async () => {
    const nonces = createDpopNonces({ secret: SECRET });
    const t = 1_800_000_000;
    const nonce = await nonces.current(t);
    for (const bad of ['', 'made-up', `${nonce}x`, nonce.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 'x'.repeat(65)]) {
      expect(await nonces.isValid(bad, t)).toBe(false);
    }
  });

  it.each([
    [undefined, 'pass { secret }'],
    [{ secret: 'short' }, 'at least 32 bytes'],
    [{ secret: 42 }, 'at least 32 bytes'],
    [{ secret: SECRET, lifetime: '0s' }, '"lifetime"'],
    [{ secret: SECRET, lifetime: 'soon' }, '"lifetime"'],
  ])('throws a TypeError at creation for %j', (options, message) => {
    expect(() => createDpopNonces(options as never)).toThrow(TypeError);
    expect(() => createDpopNonces(options as never)).toThrow(message);
  });
});
