import { serve } from '@hono/node-server';
import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/hono';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { attached, escalate, forwardedBody, rejectWithNothing, type Harness, type RunningServer } from './types.js';

export const honoHarness: Harness = {
  name: 'hono',
  async start(options) {
    // Chained, so the app's type carries the auth variables.
    const app = new Hono().use('*', jwtAuth(options as Parameters<typeof jwtAuth>[0]));
    app.on(['GET', 'HEAD', 'OPTIONS'], '/protected', (c) => c.json(attached(c.get('auth'), c.get('user'), c.get('authError'))));
    app.get('/admin', requireScopes('admin'), (c) => c.json({ ok: true }));
    app.get('/admin-read', requireScopes('admin', 'read'), (c) => c.json({ ok: true }));
    app.get('/claims', requireClaims((payload) => payload.role === 'admin'), (c) => c.json({ ok: true }));
    app.get('/claims-reject', requireClaims(rejectWithNothing), (c) => c.json({ ok: true }));
    app.get('/claims-throw', requireClaims(() => { throw new Error('guard exploded'); }), (c) => c.json({ ok: true }));
    app.get('/escalate', (c) => {
      escalate(c.get('auth'), c.get('user'));
      return c.json({ ok: true });
    });
    app.onError((error, c) => {
      const { status, headers, body } = forwardedBody(error);
      return c.json(body, status as 500, headers);
    });
    return new Promise<RunningServer>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    });
  },
};
