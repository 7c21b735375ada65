import { SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnesses, type RunningServer } from './harness/index.js';

const secret = new TextEncoder().encode('a-test-secret-that-is-at-least-32-bytes!');

describe.each(harnesses)('$name smoke', (harness) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await harness.start({ secret });
  });
  afterAll(() => server.close());

  it('attaches auth', async () => {
    const token = await new SignJWT({ sub: 'u1', scope: 'a b' }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const res = await request(server.url).get('/protected').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.auth.scopes).toEqual(['a', 'b']);
  });
  it('missing', async () => {
    const res = await request(server.url).get('/protected');
    console.log(harness.name, res.status, res.headers, res.text);
    const res2 = await request(server.url).head('/protected');
    console.log(harness.name, res2.status, res2.headers, res2.text);
    const res3 = await request(server.url).get('/protected').set('Authorization', ['Bearer a', 'Bearer b']);
    console.log(harness.name, res3.status, res3.text);
  });
});
