import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/hono';
import { Hono } from 'hono';
import { generateSignedCookie } from 'hono/cookie';
import { attached, COOKIE_SECRET, escalate, forwardedBody, readsSignedCookie, rejectWithNothing, type Harness } from './types.js';
import { serveFetch } from './listen.js';

export const honoHarness: Harness = {
  name: 'hono',
  async start(options) {
    // Chained, so the app's type carries the auth variables.
    // Hono verifies signed cookies with a secret given to the adapter (cookieSecret), refused
    // when no signed cookie is read.
    const cookieSecret = readsSignedCookie(options) ? { cookieSecret: COOKIE_SECRET } : {};
    const app = new Hono().use('*', jwtAuth({ ...(options as Parameters<typeof jwtAuth>[0]), ...cookieSecret }));
    app.on(['GET', 'HEAD', 'OPTIONS', 'POST'], '/protected', (c) => c.json(attached(c.get('auth'), c.get('user'), c.get('authError'))));
    app.get('/admin', requireScopes('admin'), (c) => c.json({ ok: true }));
    app.get('/admin-read', requireScopes('admin', 'read'), (c) => c.json({ ok: true }));
    app.get(
      '/claims',
      requireClaims((payload) => payload.role === 'admin'),
      (c) => c.json({ ok: true }),
    );
    app.get('/claims-reject', requireClaims(rejectWithNothing), (c) => c.json({ ok: true }));
    app.get(
      '/claims-throw',
      requireClaims(() => {
        throw new Error('guard exploded');
      }),
      (c) => c.json({ ok: true }),
    );
    app.get('/escalate', (c) => {
      escalate(c.get('auth'), c.get('user'));
      return c.json({ ok: true });
    });
    app.onError((error, c) => {
      const { status, headers, body } = forwardedBody(error);
      return c.json(body, status as 500, headers);
    });
    return serveFetch(app.fetch);
  },
  // hono/cookie's own setSignedCookie format: `value.` + padded base64 HMAC-SHA256, URL-encoded.
  async signCookie(name, value, secret) {
    return (await generateSignedCookie(name, value, secret)).split(';', 1)[0]!;
  },
};
