import cookieParser from 'cookie-parser';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { listen } from './listen.js';
import { attached, COOKIE_SECRET, escalate, forwardedBody, rejectWithNothing, type Harness } from './types.js';

/** A harness for one major version of Express (both share one API). */
export function makeExpressHarness(name: Harness['name'], createApp: typeof express): Harness {
  return {
    name,
    async start(options) {
      const app = createApp();
      app.use(cookieParser(COOKIE_SECRET));
      app.use(createApp.urlencoded({ extended: false }));
      app.use(jwtAuth(options as Parameters<typeof jwtAuth>[0]));
      app.all('/protected', (req, res) => {
        res.json(attached(req.auth, req.user, req.authError));
      });
      app.get('/admin', requireScopes('admin'), (_req, res) => {
        res.json({ ok: true });
      });
      app.get('/admin-read', requireScopes('admin', 'read'), (_req, res) => {
        res.json({ ok: true });
      });
      app.get(
        '/claims',
        requireClaims((payload) => payload.role === 'admin'),
        (_req, res) => {
          res.json({ ok: true });
        },
      );
      app.get('/claims-reject', requireClaims(rejectWithNothing), (_req, res) => {
        res.json({ ok: true });
      });
      app.get(
        '/claims-throw',
        requireClaims(() => {
          throw new Error('guard exploded');
        }),
        (_req, res) => {
          res.json({ ok: true });
        },
      );
      app.get('/escalate', (req, res) => {
        escalate(req.auth, req.user);
        res.json({ ok: true });
      });
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        const { status, headers, body } = forwardedBody(error);
        res.status(status).set(headers).json(body);
      });
      return listen(createServer(app));
    },
    // What res.cookie(name, value, { signed: true }) writes (cookie-signature: `s:` + value + `.` +
    // unpadded base64 HMAC-SHA256), which cookie-parser's req.signedCookies verifies.
    async signCookie(name, value, secret) {
      const signature = createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
      return `${name}=${encodeURIComponent(`s:${value}.${signature}`)}`;
    },
  };
}

export const expressHarness = makeExpressHarness('express', express);
