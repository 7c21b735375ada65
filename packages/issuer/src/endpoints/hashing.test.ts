import type { IncomingMessage } from 'node:http';
import { createTokenIssuer } from '@jwtauth/issuer';
import { createTokenEndpoints, type TokenEndpointsOptions } from '@jwtauth/issuer';
import { afterEach, describe, expect, it } from 'vitest';
import { post, serve, type Answer, type TestServer } from './test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const issuer = () => createTokenIssuer({ key: 'a-test-secret-of-at-least-32-bytes!!' });

/** A verifyCredentials that records how many of its calls run at once, and waits for `gate` to open. */
function slowCheck() {
  let active = 0;
  let calls = 0;
  let highest = 0;
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const verifyCredentials: TokenEndpointsOptions<IncomingMessage>['verifyCredentials'] = async (username, password) => {
    calls += 1;
    active += 1;
    highest = Math.max(highest, active);
    await gate;
    // A real hash takes a while: let the other requests pile up behind this one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    active -= 1;
    return password === 'right' ? { subject: username } : null;
  };
  return {
    verifyCredentials,
    open: () => open(),
    closeGate: () => (gate = new Promise<void>((resolve) => (open = resolve))),
    stats: () => ({ active, calls, highest }),
  };
}

/** Resolves once `count` of `answers` have arrived. */
function whenSettled(answers: Promise<Answer>[], count: number): Promise<Answer[]> {
  return new Promise((resolve) => {
    const done: Answer[] = [];
    for (const answer of answers) {
      void answer.then((a) => {
        done.push(a);
        if (done.length === count) resolve(done);
      });
    }
  });
}

describe('the bound on concurrent password checks', () => {
  it('never runs more verifyCredentials calls at once than hashing.concurrency', async () => {
    const check = slowCheck();
    server = await serve(createTokenEndpoints({ issuer: issuer(), verifyCredentials: check.verifyCredentials, throttle: false, hashing: { concurrency: 2 } }));
    const pending = Array.from({ length: 24 }, (_, i) => post(`${server!.url}/token`, { username: `u${i}`, password: i % 2 ? 'right' : 'wrong' }));
    // Held at the gate, the bound is reached and no third call starts.
    while (check.stats().active < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(check.stats()).toMatchObject({ active: 2, calls: 2 });
    check.open();
    const answers = await Promise.all(pending);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(12);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(12);
    expect(check.stats()).toEqual({ active: 0, calls: 24, highest: 2 });
  });

  it('runs one at a time by default', async () => {
    const check = slowCheck();
    check.open();
    server = await serve(createTokenEndpoints({ issuer: issuer(), verifyCredentials: check.verifyCredentials, throttle: false }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => post(`${server!.url}/token`, { username: `u${i}`, password: 'wrong' })));
    expect(check.stats().highest).toBe(1);
  });

  it('answers 503 login_busy with Retry-After beyond the queue, and serves the queued logins', async () => {
    const check = slowCheck();
    server = await serve(
      createTokenEndpoints({ issuer: issuer(), verifyCredentials: check.verifyCredentials, throttle: false, hashing: { concurrency: 1, queue: 3 } }),
    );
    const answers = Array.from({ length: 10 }, (_, i) => post(`${server!.url}/token`, { username: `u${i}`, password: 'right' }));
    // With the check held, 1 runs and 3 wait: the other 6 are answered at once.
    const refused = await whenSettled(answers, 6);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String), code: 'login_busy' });
    }
    expect(check.stats()).toMatchObject({ active: 1, calls: 1 });
    check.open();
    const all = await Promise.all(answers);
    expect(all.filter((a) => a.status === 200)).toHaveLength(4);
    expect(check.stats()).toEqual({ active: 0, calls: 4, highest: 1 });
  });

  it('gives the slot back when verifyCredentials throws, and handle() rejects with that error', async () => {
    let fail = true;
    const endpoints = createTokenEndpoints<null>({
      issuer: issuer(),
      throttle: false,
      hashing: { queue: 0 },
      verifyCredentials: (username) => {
        if (fail) throw new Error('user store down');
        return { subject: username };
      },
    });
    const request = { method: 'POST', path: '/token', body: { username: 'a', password: 'b' }, request: null };
    await expect(endpoints.handle(request)).rejects.toThrow('user store down');
    fail = false;
    expect((await endpoints.handle(request))?.status).toBe(200);
  });

  it('rejects with a TypeError when verifyCredentials returns no subject', async () => {
    const endpoints = createTokenEndpoints<null>({
      issuer: issuer(),
      verifyCredentials: () => ({ subject: '' }),
    });
    await expect(endpoints.handle({ method: 'POST', path: '/token', body: { username: 'a', password: 'b' }, request: null })).rejects.toThrow(TypeError);
  });
});
