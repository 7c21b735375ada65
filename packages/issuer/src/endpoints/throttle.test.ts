import type { IncomingMessage } from 'node:http';
import { createTokenIssuer } from '@jwtauth/issuer';
import { createTokenEndpoints, type ThrottleOptions } from '@jwtauth/issuer';
import { afterEach, describe, expect, it } from 'vitest';
import { post, serve, type Answer, type TestServer } from './test-server.js';

const ALICE = { username: 'alice', password: 'alice-password' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(throttle?: ThrottleOptions | false) {
  server = await serve(
    createTokenEndpoints<IncomingMessage>({
      issuer: createTokenIssuer({ key: 'a-test-secret-of-at-least-32-bytes!!' }),
      verifyCredentials: (username, password) => (username === ALICE.username && password === ALICE.password ? { subject: username } : null),
      ...(throttle === undefined ? {} : { throttle }),
    }),
  );
  return server.url;
}

/** Sends `count` logins one after the other; `vary(i)` gives each its body and address. */
async function guesses(api: string, count: number, vary: (i: number) => { body: object; address: string }): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < count; i += 1) {
    const { body, address } = vary(i);
    answers.push(await post(`${api}/token`, body, { 'X-Forwarded-For': address }));
  }
  return answers;
}

function expectThrottled(answer: Answer) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.body).toEqual({ error: 'too_many_requests', error_description: expect.any(String), code: 'too_many_requests' });
}

describe('login throttling', () => {
  it('answers 429 with Retry-After after 5 wrong passwords for one username, from 100 different addresses', async () => {
    const api = await start();
    const answers = await guesses(api, 100, (i) => ({ body: { username: 'alice', password: `guess-${i}` }, address: `10.0.${i >> 8}.${i & 255}` }));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    for (const answer of answers.slice(5)) expectThrottled(answer);
    // Retry-After is what is left of the 15-minute window.
    expect(Number(answers[99]!.headers.get('retry-after'))).toBeGreaterThan(60);
    // The right password does not get through either: guessing on is pointless.
    expectThrottled(await post(`${api}/token`, ALICE, { 'X-Forwarded-For': '10.9.9.9' }));
  });

  it('answers 429 after 20 logins from one address, whatever the usernames', async () => {
    const api = await start();
    const answers = await guesses(api, 100, (i) => ({ body: { username: `user-${i}`, password: 'x' }, address: '192.0.2.7' }));
    expect(answers.slice(0, 20).every((a) => a.status === 401)).toBe(true);
    for (const answer of answers.slice(20)) expectThrottled(answer);
    // Another address is not held back.
    expect((await post(`${api}/token`, ALICE, { 'X-Forwarded-For': '192.0.2.8' })).status).toBe(200);
  });

  it('starts the username count over after a successful login', async () => {
    const api = await start();
    const wrong = (i: number) => ({ body: { username: 'alice', password: `guess-${i}` }, address: `10.1.0.${i}` });
    expect((await guesses(api, 4, wrong)).map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect((await post(`${api}/token`, ALICE, { 'X-Forwarded-For': '10.1.1.1' })).status).toBe(200);
    const after = await guesses(api, 6, (i) => wrong(10 + i));
    expect(after.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expectThrottled(after[5]!);
  });

  it('counts usernames after NFKC and lower-casing, so case variants share one count', async () => {
    const api = await start();
    const variants = ['alice', 'ALICE', 'Alice', 'aLiCe', 'ａｌｉｃｅ', 'alicE'];
    const answers = await guesses(api, variants.length, (i) => ({ body: { username: variants[i], password: 'x' }, address: `10.2.0.${i}` }));
    expect(answers.slice(0, 5).every((a) => a.status === 401)).toBe(true);
    expectThrottled(answers[5]!);
  });

  it('takes its limits from the options, and each can be turned off', async () => {
    const api = await start({ username: { points: 2, duration: 60 }, address: false });
    const answers = await guesses(api, 3, () => ({ body: { username: 'bob', password: 'x' }, address: '192.0.2.1' }));
    expect(answers.map((a) => a.status)).toEqual([401, 401, 429]);
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // 30 logins of distinct users from one address: no address limit.
    const many = await guesses(api, 30, (i) => ({ body: { username: `u${i}`, password: 'x' }, address: '192.0.2.1' }));
    expect(many.every((a) => a.status === 401)).toBe(true);
  });

  it('throttle: false turns it off', async () => {
    const api = await start(false);
    const answers = await guesses(api, 30, (i) => ({ body: { username: 'alice', password: `g${i}` }, address: '192.0.2.1' }));
    expect(answers.every((a) => a.status === 401)).toBe(true);
  });

  it('does not count a request refused for its body', async () => {
    const api = await start({ address: { points: 2, duration: 60 } });
    for (let i = 0; i < 5; i += 1) expect((await post(`${api}/token`, { username: 'alice' })).status).toBe(400);
    expect((await post(`${api}/token`, ALICE)).status).toBe(200);
  });
});
