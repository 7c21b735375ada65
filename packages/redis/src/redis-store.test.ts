import { isStoreUnavailable, StoreUnavailable, type RotateOptions } from '@jwtauth/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, DEFAULT_TIMEOUT, LATE_TOLERANCE, type RedisStore } from './redis-store.js';
import { CLIENTS, eventually, inspector, seconds, startRedis, type Connected, type Inspector, type RedisServer } from './test-redis.js';

const options = (now: number, extra: Partial<RotateOptions> = {}): RotateOptions => ({
  now,
  reuseInterval: 10,
  expiresAt: now + 3600,
  revokeOnReplay: true,
  ...extra,
});
let unique = 0;
const id = (name: string) => `${name}-${++unique}-${Math.random().toString(36).slice(2, 8)}`;

/** Runs `work` and returns what it threw and how long it took, in ms. */
async function failure(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await work();
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  throw new Error('expected a failure, got an answer');
}

describe.each(CLIENTS.map((c) => [c.name, c] as const))('Redis store over %s', (_name, under) => {
  let redis: RedisServer;
  let look: Inspector;
  const open: Connected[] = [];
  const connect = async () => {
    const connected = await under.connect(redis.url);
    open.push(connected);
    return connected;
  };

  beforeAll(async () => {
    redis = await startRedis();
    look = await inspector(redis.url);
  });
  afterAll(async () => {
    for (const connected of open) await connected.close();
    await look?.close();
    await redis?.close();
  });

  describe('keys', () => {
    it('lays out one key per revocation and one per rotated session, each expiring when it may be forgotten', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const t = seconds();
      const [jti, sid] = [id('jti'), id('sid')];
      await store.revoke(jti, t + 100);
      await store.rotate(sid, 0, options(t, { expiresAt: t + 3600 }));
      expect(await look.keys(`jwtauth:{${sid}}:*`)).toEqual([`jwtauth:{${sid}}:session`]);
      expect(await look.get(`jwtauth:{${sid}}:session`)).toBe(`1:${t}:${t + 3600}`);
      expect(await look.expiresAt(`jwtauth:{${jti}}:revoked`)).toBe((t + 100) * 1000);
      expect(await look.expiresAt(`jwtauth:{${sid}}:session`)).toBe((t + 3600) * 1000);

      // A replay revokes the session until the state's end.
      await store.rotate(sid, 1, options(t + 1, { expiresAt: t + 7200 }));
      await store.rotate(sid, 1, options(t + 20, { expiresAt: t + 7200 }));
      expect(await look.expiresAt(`jwtauth:{${sid}}:revoked`)).toBe((t + 7200) * 1000);
      expect(await look.expiresAt(`jwtauth:{${sid}}:session`)).toBe((t + 7200) * 1000);

      // Nothing the store wrote lives forever (-1: no expiry).
      const keys = [...(await look.keys(`*${jti}*`)), ...(await look.keys(`*${sid}*`))];
      expect(keys).toEqual([`jwtauth:{${jti}}:revoked`, `jwtauth:{${sid}}:revoked`, `jwtauth:{${sid}}:session`]);
      for (const key of keys) expect(await look.expiresAt(key), key).toBeGreaterThan(Date.now());
    });

    it('extends a revocation revoked again for longer, and never shortens it', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const t = seconds();
      const sid = id('sid');
      await store.revoke(sid, t + 100);
      await store.revoke(sid, t + 50);
      expect(await look.expiresAt(`jwtauth:{${sid}}:revoked`)).toBe((t + 100) * 1000);
      await store.revoke(sid, t + 500);
      expect(await look.expiresAt(`jwtauth:{${sid}}:revoked`)).toBe((t + 500) * 1000);
    });

    it('stores nothing for a revocation that has already expired', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const jti = id('jti');
      await store.revoke(jti, seconds() - 10);
      expect(await look.keys(`*${jti}*`)).toEqual([]);
    });

    it('lays out one key per one-time-use mark, expiring at expiresAt (rounded up to whole seconds), and none for a mark already expired', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const t = seconds();
      const [proof, other, gone] = [id('proof'), id('proof'), id('proof')];
      expect(await store.markUsed(proof, t + 100)).toBe(true);
      expect(await look.keys(`*${proof}*`)).toEqual([`jwtauth:{${proof}}:used`]);
      expect(await look.get(`jwtauth:{${proof}}:used`)).toBe('1');
      expect(await look.expiresAt(`jwtauth:{${proof}}:used`)).toBe((t + 100) * 1000);
      // A second use neither answers true nor moves the expiry.
      expect(await store.markUsed(proof, t + 500)).toBe(false);
      expect(await look.expiresAt(`jwtauth:{${proof}}:used`)).toBe((t + 100) * 1000);
      expect(await store.markUsed(other, t + 10.2)).toBe(true);
      expect(await look.expiresAt(`jwtauth:{${other}}:used`)).toBe((t + 11) * 1000);
      expect(await store.markUsed(gone, t - 10)).toBe(true);
      expect(await look.keys(`*${gone}*`)).toEqual([]);
    });

    it('forgets a mark when Redis expires it: the key is unused again', { timeout: 10_000 }, async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const proof = id('proof');
      // Whole seconds: the mark ends one to two seconds from now.
      const until = seconds() + 2;
      expect(await store.markUsed(proof, until)).toBe(true);
      expect(await store.markUsed(proof, until)).toBe(false);
      await eventually(async () => (await look.keys(`*${proof}*`)).length === 0, 5000, 'Redis expires the mark');
      expect(await store.markUsed(proof, seconds() + 60)).toBe(true);
      expect(await store.markUsed(proof, seconds() + 60)).toBe(false);
    });

    it('puts every key under its prefix: two prefixes share one Redis without seeing each other', async () => {
      const { client } = await connect();
      const first = createRedisStore({ client, prefix: 'app1:' });
      const second = createRedisStore({ client, prefix: 'app2:' });
      const sid = id('sid');
      await first.revoke(sid, seconds() + 60);
      expect(await first.isRevoked(sid)).toBe(true);
      expect(await second.isRevoked(sid)).toBe(false);
      expect(await look.keys(`*${sid}*`)).toEqual([`app1:{${sid}}:revoked`]);
      expect(await first.markUsed(sid, seconds() + 60)).toBe(true);
      expect(await second.markUsed(sid, seconds() + 60)).toBe(true);
      expect(await look.keys(`*${sid}*`)).toEqual([`app1:{${sid}}:revoked`, `app1:{${sid}}:used`, `app2:{${sid}}:used`]);
    });
  });

  describe('round trips', () => {
    it('checks a token and its session with one EXISTS, and rotates with one EVALSHA', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const sid = id('sid');
      await store.rotate(sid, 0, options(seconds())); // the script is loaded now
      await look.reset();
      await store.anyRevoked([id('jti'), sid]);
      expect(await look.calls()).toMatchObject({ exists: 1 });
      await look.reset();
      expect(await store.rotate(sid, 1, options(seconds()))).toEqual({ outcome: 'rotated', generation: 2 });
      const calls = await look.calls();
      expect(calls).toMatchObject({ evalsha: 1 });
      expect(calls.eval).toBeUndefined();
    });

    it('marks a key used with one EVALSHA, and sends the script in full once Redis lost its script cache', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      await look.command(['SCRIPT', 'FLUSH']);
      await look.reset();
      expect(await store.markUsed(id('proof'), seconds() + 60)).toBe(true);
      expect(await look.calls()).toMatchObject({ evalsha: 1, eval: 1, set: 1 });
      await look.reset();
      expect(await store.markUsed(id('proof'), seconds() + 60)).toBe(true);
      const calls = await look.calls();
      expect(calls).toMatchObject({ evalsha: 1, set: 1 });
      expect(calls.eval).toBeUndefined();
    });

    it('sends the script again when Redis lost its script cache (SCRIPT FLUSH, a restart), then by SHA again', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const sid = id('sid');
      await look.command(['SCRIPT', 'FLUSH']);
      await look.reset();
      expect(await store.rotate(sid, 0, options(seconds()))).toEqual({ outcome: 'rotated', generation: 1 });
      expect(await look.calls()).toMatchObject({ evalsha: 1, eval: 1 });
      await look.reset();
      expect(await store.rotate(sid, 1, options(seconds()))).toEqual({ outcome: 'rotated', generation: 2 });
      expect((await look.calls()).eval).toBeUndefined();
    });
  });

  describe('two instances (two connections, as two processes) racing on one refresh token', () => {
    const race = async (stores: RedisStore[], sid: string, extra: Partial<RotateOptions>) => {
      const now = seconds();
      return Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.rotate(sid, 0, options(now, extra))));
    };

    it('strict (reuse interval 0): exactly one rotates, the first other one is a replay that ends the session, the rest find it revoked', async () => {
      const stores = [createRedisStore({ client: (await connect()).client }), createRedisStore({ client: (await connect()).client })];
      const sid = id('sid');
      const results = await race(stores, sid, { reuseInterval: 0 });
      expect(results.filter((r) => r.outcome === 'rotated')).toEqual([{ outcome: 'rotated', generation: 1 }]);
      expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'revoked')).toHaveLength(38);
      expect(await stores[1]!.isRevoked(sid)).toBe(true);
    });

    it('within the reuse interval: one rotates and every other one reuses, all at the same generation', async () => {
      const stores = [createRedisStore({ client: (await connect()).client }), createRedisStore({ client: (await connect()).client })];
      const sid = id('sid');
      const results = await race(stores, sid, { reuseInterval: 10 });
      expect(results.filter((r) => r.outcome === 'rotated')).toEqual([{ outcome: 'rotated', generation: 1 }]);
      expect(results.filter((r) => r.outcome === 'reused')).toEqual(Array(39).fill({ outcome: 'reused', generation: 1 }));
      expect(await stores[0]!.isRevoked(sid)).toBe(false);
    });
  });

  describe('two instances (two connections, as two processes) racing on one DPoP proof', () => {
    it('20 concurrent markUsed of one key: exactly one is the first use', async () => {
      const stores = [createRedisStore({ client: (await connect()).client }), createRedisStore({ client: (await connect()).client })];
      const proof = id('proof');
      const until = seconds() + 60;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.markUsed(proof, until)));
      expect(results.filter((first) => first)).toHaveLength(1);
      expect(results.filter((first) => !first)).toHaveLength(19);
      expect(await stores[0]!.markUsed(proof, until)).toBe(false);
      expect(await stores[1]!.markUsed(proof, until)).toBe(false);
    });
  });

  describe('when Redis cannot answer', () => {
    let stopped = false;
    const stop = async () => {
      stopped = true;
      await redis.stop();
    };
    const start = async () => {
      stopped = false;
      await redis.start();
    };
    afterEach(async () => {
      redis.resume();
      if (stopped) await start();
    });

    it('stopped: every operation fails with StoreUnavailable within the timeout; failOpen answers "not revoked" and "first use" for checks only', async () => {
      const { client } = await connect();
      const reported: StoreUnavailable[] = [];
      const store = createRedisStore({ client, onError: (error) => reported.push(error) });
      const open = createRedisStore({ client, failOpen: true, onError: (error) => reported.push(error) });
      const sid = id('sid');
      await store.revoke(sid, seconds() + 600);
      await stop();

      for (const work of [
        () => store.anyRevoked(['a', sid]),
        () => store.isRevoked(sid),
        () => store.rotate(id('s'), 0, options(seconds())),
        () => store.revoke(id('s'), seconds() + 60),
        () => store.markUsed(id('proof'), seconds() + 60),
      ]) {
        const { error, ms } = await failure(work);
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect(isStoreUnavailable(error)).toBe(true);
        // The default timeout is 500 ms; far below 3 s, far above it on a loaded machine too.
        expect(ms).toBeLessThan(3000);
      }
      expect(await open.anyRevoked(['a', sid])).toBe(false);
      expect(await open.isRevoked(sid)).toBe(false);
      // failOpen accepts a proof it cannot check (availability over replay detection), and reports it.
      expect(await open.markUsed(id('proof'), seconds() + 60)).toBe(true);
      expect((await failure(() => open.rotate(id('s'), 0, options(seconds())))).error).toBeInstanceOf(StoreUnavailable);
      expect((await failure(() => open.revoke(id('s'), seconds() + 60))).error).toBeInstanceOf(StoreUnavailable);
      // Every failure was reported, those failOpen answered too.
      expect(reported).toHaveLength(10);
      expect(reported.every((error) => error instanceof StoreUnavailable)).toBe(true);
    });

    it('hung (the process frozen): operations fail within the timeout instead of waiting, and work again once it answers', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client, timeout: 300 });
      const sid = id('sid');
      await store.revoke(sid, seconds() + 600);
      redis.pause();
      for (const work of [
        () => store.anyRevoked([sid]),
        () => store.rotate(id('s'), 0, options(seconds())),
        () => store.revoke(id('s'), seconds() + 60),
        () => store.markUsed(id('proof'), seconds() + 60),
      ]) {
        const { error, ms } = await failure(work);
        expect(error).toBeInstanceOf(StoreUnavailable);
        expect((error as Error).message).toMatch(/did not answer .* within 300 ms/);
        expect(ms).toBeLessThan(3000);
      }
      redis.resume();
      await eventually(() => store.isRevoked(sid), 5000, 'the revocation is seen again');
      expect(await store.rotate(sid, 0, options(seconds()))).toEqual({ outcome: 'revoked' });
    });

    it('restarted with its data (AOF): recovers by itself, a revocation made before is still refused, and rotation state survives', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const [revokedSid, liveSid] = [id('sid'), id('sid')];
      const t = seconds();
      await store.revoke(revokedSid, t + 600);
      expect(await store.rotate(liveSid, 0, options(t))).toEqual({ outcome: 'rotated', generation: 1 });
      await stop();
      expect((await failure(() => store.anyRevoked([revokedSid]))).error).toBeInstanceOf(StoreUnavailable);
      await start();
      await eventually(async () => (await store.anyRevoked(['x'])) === false, 10_000, 'the store answers again');
      expect(await store.anyRevoked(['some-jti', revokedSid])).toBe(true);
      // The script cache is empty after a restart: EVALSHA falls back to EVAL.
      expect(await store.rotate(liveSid, 1, options(t + 1))).toEqual({ outcome: 'rotated', generation: 2 });
      expect(await store.rotate(liveSid, 0, options(t + 2))).toEqual({ outcome: 'replayed' });
    });

    it('a client you closed: StoreUnavailable at once, never a crash', async () => {
      const connected = await connect();
      const store = createRedisStore({ client: connected.client });
      await connected.close();
      const { error, ms } = await failure(() => store.anyRevoked(['a', 'b']));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(ms).toBeLessThan(3000);
    });

    it('a key of another type where the store expects its own (a prefix collision): StoreUnavailable, not a crash', async () => {
      const { client } = await connect();
      const store = createRedisStore({ client });
      const sid = id('sid');
      await look.command(['HSET', `jwtauth:{${sid}}:session`, 'field', 'value']);
      const { error } = await failure(() => store.rotate(sid, 0, options(seconds())));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toMatch(/WRONGTYPE/);
    });
  });
});

describe('late rotations', () => {
  let redis: RedisServer;
  let connected: Connected;
  beforeAll(async () => {
    redis = await startRedis();
    connected = await CLIENTS[0]!.connect(redis.url);
  });
  afterAll(async () => {
    redis?.resume();
    await connected?.close();
    await redis?.close();
  });

  it(
    'a rotation that reaches Redis long after the caller gave up (a hung server) changes nothing, so the retry still rotates',
    { timeout: 30_000 },
    async () => {
      const store = createRedisStore({ client: connected.client, timeout: 200 });
      const sid = id('sid');
      const t = seconds();
      expect(await store.rotate(sid, 0, options(t, { reuseInterval: 0 }))).toEqual({ outcome: 'rotated', generation: 1 });
      redis.pause();
      // Sent into the frozen server's socket, where it waits; the caller gets 503.
      expect((await failure(() => store.rotate(sid, 1, options(t, { reuseInterval: 0 })))).error).toBeInstanceOf(StoreUnavailable);
      await new Promise((resolve) => setTimeout(resolve, 200 + LATE_TOLERANCE + 500));
      redis.resume();
      // The late script ran and dropped itself: generation 1 is still current, even in strict mode.
      await eventually(async () => (await store.anyRevoked(['x'])) === false, 5000, 'the store answers again');
      expect(await store.rotate(sid, 1, options(seconds(), { reuseInterval: 0 }))).toEqual({ outcome: 'rotated', generation: 2 });
    },
  );

  it("says so when Redis's clock is ahead of this host's by more than the tolerance", async () => {
    const store = createRedisStore({ client: connected.client });
    const real = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(real - LATE_TOLERANCE - DEFAULT_TIMEOUT - 5000);
    try {
      const { error } = await failure(() => store.rotate(id('sid'), 0, options(seconds())));
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect((error as Error).message).toMatch(/clock is more than 5 s ahead/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('createRedisStore options', () => {
  const client = { exists: () => 0, evalSha: () => 0, eval: () => 0 };

  it.each([
    ['no options', undefined, /options are required/],
    ['no client', {}, /"client" must be a node-redis client/],
    ['a client of neither library', { client: { get: () => 0 } }, /"client" must be a node-redis client/],
    ['a URL instead of a client', { client: 'redis://localhost:6379' }, /"client" must be/],
    ['a prefix with a hash tag', { client, prefix: 'app:{x}:' }, /"prefix" must be a string without "\{" or "\}"/],
    ['a prefix that is not a string', { client, prefix: 42 }, /"prefix"/],
    ['a timeout of 0', { client, timeout: 0 }, /"timeout" must be a number of milliseconds above 0/],
    ['an infinite timeout', { client, timeout: Infinity }, /"timeout"/],
    ['a timeout as a string', { client, timeout: '500' }, /"timeout"/],
    ['failOpen as a string', { client, failOpen: 'yes' }, /"failOpen" must be true or false/],
    ['onError not a function', { client, onError: 'log' }, /"onError" must be a function/],
  ])('refuses %s with a TypeError that says what to fix', (_name, given, message) => {
    expect(() => createRedisStore(given as never)).toThrow(TypeError);
    expect(() => createRedisStore(given as never)).toThrow(message);
  });

  it('refuses misuse of its methods with a TypeError, not a 503', async () => {
    const store = createRedisStore({ client });
    await expect(store.rotate('s', -1, options(0))).rejects.toThrow(TypeError);
    await expect(store.rotate('s', 0, { ...options(0), now: Number.NaN })).rejects.toThrow(TypeError);
    await expect(store.revoke('s', Number.NaN)).rejects.toThrow(TypeError);
    await expect(store.anyRevoked([1 as unknown as string])).rejects.toThrow(TypeError);
    await expect(store.markUsed(1 as unknown as string, seconds() + 60)).rejects.toThrow(TypeError);
    await expect(store.markUsed('k', Number.NaN)).rejects.toThrow(TypeError);
  });

  it('answers StoreUnavailable when a client answers nonsense', async () => {
    const store = createRedisStore({ client });
    await expect(store.anyRevoked(['a'])).resolves.toBe(false);
    const odd = createRedisStore({ client: { ...client, exists: async () => 'many', evalSha: async () => ['9'] } });
    await expect(odd.anyRevoked(['a'])).rejects.toThrow(StoreUnavailable);
    await expect(odd.rotate('s', 0, options(0))).rejects.toThrow(StoreUnavailable);
    await expect(odd.markUsed('k', seconds() + 60)).rejects.toThrow(/markUsed script with something unexpected/);
  });

  it('throws no unhandled rejection when a command fails after its timeout', async () => {
    let fail: (error: Error) => void = () => {};
    const slow = { ...client, exists: () => new Promise((_, reject) => (fail = reject)) };
    const store = createRedisStore({ client: slow, timeout: 20 });
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await expect(store.anyRevoked(['a'])).rejects.toThrow(/did not answer EXISTS within 20 ms/);
      fail(new Error('Connection lost'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
