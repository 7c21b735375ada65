import { CompactSign, SignJWT, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticate.js';
import type { SignatureCheck } from '../crypto/signature.js';
import { useSignatureCheck } from './verify.js';
import type { JwtAuthOptions } from '../options.js';

const SECRET = 'token-cache-test-secret-long-enough-for-hs256';
const T0 = new Date('2030-01-01T00:00:00Z').getTime();

/** Signature checks, counted: the runtime's own checks still decide. */
let signatureChecks = 0;
let runtimeChecks: SignatureCheck;
beforeEach(() => {
  signatureChecks = 0;
  runtimeChecks = useSignatureCheck({ name: 'node:crypto', verify: (...args) => (signatureChecks++, runtimeChecks.verify(...args)) });
});
afterEach(() => useSignatureCheck(runtimeChecks));

/** An authenticator that counts signature verifications, on a clock the test moves. */
function counted(options: Partial<JwtAuthOptions> = {}) {
  const clock = { now: T0 };
  const authenticator = createAuthenticator({
    secret: SECRET,
    algorithms: ['HS256'],
    currentDate: () => new Date(clock.now),
    ...options,
  });
  const send = async (token: string) => {
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
    return result.ok ? 'ok' : result.error.code;
  };
  return { clock, send, verifications: () => signatureChecks };
}

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'alice', iat: T0 / 1000, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

describe('the verified-token cache', () => {
  it('keeps a token from its second verification on, and reuses the result within ttl', async () => {
    const { send, verifications } = counted();
    const token = await sign({ exp: T0 / 1000 + 300 });
    expect([await send(token), await send(token), await send(token), await send(token)]).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(verifications()).toBe(2);
  });

  it('keeps nothing of tokens seen once (each is verified, none is answered from the cache)', async () => {
    const { send, verifications } = counted({ cache: { max: 1000 } });
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, n) => sign({ n, exp: T0 / 1000 + 300 })));
    for (const token of tokens) expect(await send(token)).toBe('ok');
    expect(verifications()).toBe(10);
    // Each is kept once seen again, and answered from the cache after that.
    for (const token of tokens) await send(token);
    expect(verifications()).toBe(20);
    for (const token of tokens) await send(token);
    expect(verifications()).toBe(20);
  });

  it('verifies again once ttl has passed', async () => {
    const { clock, send, verifications } = counted({ cache: { ttl: 10 } });
    const token = await sign({ exp: T0 / 1000 + 300 });
    await send(token);
    await send(token);
    await send(token);
    expect(verifications()).toBe(2);
    clock.now += 11_000;
    expect(await send(token)).toBe('ok');
    expect(verifications()).toBe(3);
  });

  it('never answers from the cache past the token expiry', async () => {
    const { clock, send } = counted();
    const token = await sign({ exp: T0 / 1000 + 5 });
    expect([await send(token), await send(token)]).toEqual(['ok', 'ok']);
    // Past exp and the default 5 s clock tolerance.
    clock.now += 10_000;
    expect(await send(token)).toBe('token_expired');
  });

  it('never answers from the cache past maxTokenAge', async () => {
    const { clock, send } = counted({ maxTokenAge: 5, clockTolerance: 0 });
    const token = await sign({ exp: T0 / 1000 + 300 });
    expect([await send(token), await send(token)]).toEqual(['ok', 'ok']);
    clock.now += 7_000;
    expect(await send(token)).toBe('token_too_old');
  });

  it('still asks isRevoked on every request', async () => {
    let revoked = false;
    const { send } = counted({ isRevoked: () => revoked });
    const token = await sign({ exp: T0 / 1000 + 300 });
    expect([await send(token), await send(token)]).toEqual(['ok', 'ok']);
    revoked = true;
    expect(await send(token)).toBe('token_revoked');
  });

  it('keeps failures out: a bad token is verified (and refused) every time', async () => {
    const { send, verifications } = counted();
    const token = await sign({ exp: T0 / 1000 - 10 });
    expect([await send(token), await send(token)]).toEqual(['token_expired', 'token_expired']);
    expect(verifications()).toBe(2);
  });

  it('holds at most max tokens, forgetting the least recently used', async () => {
    const { send, verifications } = counted({ cache: { max: 2 } });
    const [a, b, c] = await Promise.all([1, 2, 3].map((n) => sign({ n, exp: T0 / 1000 + 300 })));
    for (const token of [a!, a!, b!, b!]) await send(token);
    expect(verifications()).toBe(4);
    await send(a!); // a hit: a is now the most recently used
    await send(c!);
    await send(c!); // c kept, b (the least recently used) forgotten
    expect(verifications()).toBe(6);
    await send(a!);
    expect(verifications()).toBe(6);
    await send(b!);
    expect(verifications()).toBe(7);
  });

  it('is off with cache: false', async () => {
    const { send, verifications } = counted({ cache: false });
    const token = await sign({ exp: T0 / 1000 + 300 });
    await send(token);
    await send(token);
    expect(verifications()).toBe(2);
  });

  it.each<[string, unknown]>([
    ['a zero max', { max: 0 }],
    ['a fractional max', { max: 1.5 }],
    ['a zero ttl', { ttl: 0 }],
    ['true', true],
  ])('refuses %s at creation', (_, cache) => {
    expect(() => createAuthenticator({ secret: SECRET, cache: cache as false })).toThrow(TypeError);
  });
});

describe('each request gets its own payload', () => {
  const authenticate = async (authenticator: ReturnType<typeof createAuthenticator>, token: string) => {
    const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
    if (!result.ok || result.auth === undefined) throw new Error('expected success');
    return result;
  };

  it.each([
    ['with the cache on', {}],
    ['with the cache off', { cache: false as const }],
  ])('a handler that changes the payload, header or user changes nothing for the next request (%s)', async (_, options) => {
    const authenticator = createAuthenticator({ secret: SECRET, currentDate: () => new Date(T0), ...options });
    const token = await sign({ exp: T0 / 1000 + 300, scope: 'read', roles: ['user'] });
    const first = await authenticate(authenticator, token);
    first.auth.payload.scope = `${String(first.auth.payload.scope)} admin`;
    (first.auth.payload.roles as string[]).push('admin');
    first.auth.header.alg = 'none';
    (first.user as Record<string, unknown>).sub = 'mallory';
    first.auth.scopes.push('admin');

    const second = await authenticate(authenticator, token);
    expect(second.auth.payload).toEqual({ sub: 'alice', iat: T0 / 1000, exp: T0 / 1000 + 300, scope: 'read', roles: ['user'] });
    expect(second.auth.header).toEqual({ alg: 'HS256' });
    expect(second.auth.scopes).toEqual(['read']);
    expect(second.user).toEqual(second.auth.payload);
    // The first request keeps what it changed.
    expect(first.auth.payload.scope).toBe('read admin');
  });
});

describe('a __proto__ claim', () => {
  it('stays an own property on the cached copies, never the prototype', async () => {
    const authenticator = createAuthenticator({ secret: SECRET, currentDate: () => new Date(T0) });
    const payload = new TextEncoder().encode(`{"sub":"alice","exp":${T0 / 1000 + 300},"__proto__":{"role":"admin"}}`);
    const token = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    for (const round of ['miss', 'hit']) {
      const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
      if (!result.ok || result.auth === undefined) throw new Error(`expected success (${round})`);
      expect(Object.getPrototypeOf(result.auth.payload)).toBe(Object.prototype);
      expect((result.auth.payload as { role?: unknown }).role).toBeUndefined();
      expect(Object.keys(result.auth.payload)).toEqual(['sub', 'exp', '__proto__']);
    }
  });
});

describe('what a cache hit hands out', () => {
  it('is the verified header and payload exactly, as a fresh copy each time', async () => {
    const clock = { now: T0 };
    const authenticator = createAuthenticator({ secret: SECRET, algorithms: ['HS256'], currentDate: () => new Date(clock.now) });
    const claims = {
      exp: T0 / 1000 + 300,
      nested: { list: [1, 'two', null, { deep: true }], text: 'Zoë ☃ 𝄞' },
      big: 12345678901234,
      ['__proto__']: { own: 'key' },
    };
    const token = await new SignJWT(JSON.parse(JSON.stringify({ sub: 'alice', iat: T0 / 1000, ...claims })) as JWTPayload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
      .sign(new TextEncoder().encode(SECRET));
    const payloadOf = async () => {
      const result = await authenticator.authenticate(new Request('http://127.0.0.1/', { headers: { Authorization: `Bearer ${token}` } }), null);
      if (!result.ok || result.auth === undefined) throw new Error('not authenticated');
      return result.auth;
    };
    const first = await payloadOf();
    const second = await payloadOf();
    const third = await payloadOf();
    expect(second.payload).toEqual(first.payload);
    expect(second.header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' });
    expect(Object.hasOwn(second.payload, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(second.payload)).toBe(Object.prototype);
    // A handler changing its copy changes nothing for the next request.
    (second.payload.nested as { list: unknown[] }).list.push('injected');
    second.header.alg = 'none';
    expect([third.payload.nested, third.header.alg]).toEqual([{ list: [1, 'two', null, { deep: true }], text: 'Zoë ☃ 𝄞' }, 'HS256']);
    expect((await payloadOf()).payload).toEqual(first.payload);
  });
});
