import { Hono } from 'hono';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtAuth, type JwtAuthEnv } from '@jwtauth/hono';

// On Workers, Deno and Bun, and over HTTP/2 or chunked uploads, a form body need not come with a
// Content-Length: whether one was sent is read from the Fetch Request itself (app.request() builds
// such a request, as those runtimes do).
const SECRET = 'a-form-body-secret-of-at-least-thirty-two-bytes!!';

async function token(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', exp: now + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

function app() {
  return new Hono<JwtAuthEnv>()
    .use(jwtAuth({ secret: SECRET, tokenFrom: { header: true, body: 'access_token' } }))
    .post('/notes', (c) => c.json({ sub: c.get('auth')?.payload.sub ?? null }));
}

describe('a form-body token in a Fetch request without Content-Length', () => {
  it('is read from a body given as a string', async () => {
    const request = new Request('http://api.test/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${await token()}`,
    });
    expect(request.headers.get('content-length')).toBeNull();
    const response = await app().request(request);
    expect([response.status, await response.json()]).toEqual([200, { sub: 'alice' }]);
  });

  it('is read from a streamed body', async () => {
    const form = new TextEncoder().encode(`access_token=${await token()}`);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(form);
        controller.close();
      },
    });
    const request = new Request('http://api.test/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    const response = await app().request(request);
    expect([response.status, await response.json()]).toEqual([200, { sub: 'alice' }]);
  });

  it('is not looked for when the request has no body', async () => {
    const response = await app().request('http://api.test/notes', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([response.status, ((await response.json()) as { code: string }).code]).toEqual([401, 'missing_token']);
  });
});
