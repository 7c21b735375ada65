import { bodyParser } from '@koa/bodyparser';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/koa';
import Koa from 'koa';
import { listen } from './listen.js';
import { attached, COOKIE_SECRET, escalate, forwardedBody, rejectWithNothing, type Harness } from './types.js';

/** A harness for one major version of Koa (both share one API). */
export function makeKoaHarness(name: Harness['name'], KoaApp: typeof Koa): Harness {
  return {
    name,
    async start(options) {
      const app = new KoaApp();
      const guards: Record<string, Koa.Middleware> = {
        '/admin': requireScopes('admin'),
        '/admin-read': requireScopes('admin', 'read'),
        '/claims': requireClaims((payload) => payload.role === 'admin'),
        '/claims-reject': requireClaims(rejectWithNothing),
        '/claims-throw': requireClaims(() => {
          throw new Error('guard exploded');
        }),
      };
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          const { status, headers, body } = forwardedBody(error);
          ctx.status = status;
          ctx.set(headers);
          ctx.body = body;
        }
      });
      app.keys = [COOKIE_SECRET];
      app.use(bodyParser());
      app.use(jwtAuth(options as Parameters<typeof jwtAuth>[0]));
      app.use(async (ctx, next) => {
        if (ctx.path === '/protected') {
          ctx.body = attached(ctx.state.auth, ctx.state.user, ctx.state.authError);
          return;
        }
        if (ctx.path === '/escalate' && ctx.method === 'GET') {
          escalate(ctx.state.auth, ctx.state.user);
          ctx.body = { ok: true };
          return;
        }
        const guard = guards[ctx.path];
        if (guard === undefined || ctx.method !== 'GET') return next() as Promise<void>;
        await guard(ctx, async () => {
          ctx.body = { ok: true };
        });
      });
      return listen(createServer(app.callback()));
    },
    // What ctx.cookies.set(name, value, { signed: true }) writes: the cookie, and `<name>.sig`
    // holding keygrip's HMAC-SHA1 of `name=value` (base64url without padding) under app.keys.
    async signCookie(name, value, secret) {
      const signature = createHmac('sha1', secret).update(`${name}=${value}`).digest('base64url');
      return `${name}=${value}; ${name}.sig=${signature}`;
    },
  };
}

export const koaHarness = makeKoaHarness('koa', Koa);
