import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { expectTypeOf, test } from 'vitest';
import {
  AuthError,
  jwtAuth,
  requireClaims,
  requireScopes,
  type AuthErrorCode,
  type AuthInfo,
  type JwtAuthEnv,
  type JwtAuthVariables,
  type JWTPayload,
} from './index.js';

interface MyPayload extends JWTPayload {
  sub: string;
  tenant: string;
}

interface MyUser {
  id: string;
  roles: string[];
}

test('jwtAuth() is a MiddlewareHandler over JwtAuthEnv', () => {
  expectTypeOf(jwtAuth({ secret: 's' })).toEqualTypeOf<MiddlewareHandler<JwtAuthEnv>>();
  expectTypeOf(jwtAuth<MyPayload, MyUser>({ secret: 's' })).toEqualTypeOf<
    MiddlewareHandler<JwtAuthEnv<MyPayload, MyUser>>
  >();
  expectTypeOf<JwtAuthEnv<MyPayload, MyUser>['Variables']>().toEqualTypeOf<JwtAuthVariables<MyPayload, MyUser>>();
});

test('chaining .use(jwtAuth<Payload, User>()) types c.get("auth") and c.get("user")', () => {
  new Hono().use('*', jwtAuth<MyPayload, MyUser>({ secret: 's' })).get('/me', (c) => {
    expectTypeOf(c.get('auth')).toEqualTypeOf<AuthInfo<MyPayload> | undefined>();
    expectTypeOf(c.get('user')).toEqualTypeOf<MyUser | undefined>();
    expectTypeOf(c.var.user).toEqualTypeOf<MyUser | undefined>();
    expectTypeOf(c.get('auth')).exclude<undefined>().toHaveProperty('payload').toEqualTypeOf<MyPayload>();
    return c.json({ id: c.get('user')?.id ?? null });
  });
  const app = new Hono().use('/api/*', jwtAuth({ secret: 's' }));
  app.get('/api/me', (c) => {
    expectTypeOf(c.get('auth')).toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf(c.get('user')).toEqualTypeOf<JWTPayload | undefined>();
    return c.json(null);
  });
});

test('new Hono<JwtAuthEnv<...>>() types c.get without chaining', () => {
  const app = new Hono<JwtAuthEnv<MyPayload, MyUser>>();
  app.use('/api/*', jwtAuth<MyPayload, MyUser>({ secret: 's' }));
  app.get('/api/me', (c) => {
    expectTypeOf(c.get('auth')).toEqualTypeOf<AuthInfo<MyPayload> | undefined>();
    expectTypeOf(c.get('user')).toEqualTypeOf<MyUser | undefined>();
    return c.json(null);
  });
});

test('resolveUser receives the payload and the Hono context; its return type is the User', () => {
  new Hono()
    .use(
      '*',
      jwtAuth({
        secret: 's',
        resolveUser: async (payload, c) => {
          expectTypeOf(payload).toEqualTypeOf<JWTPayload>();
          expectTypeOf(c).toEqualTypeOf<Context>();
          return { id: String(payload.sub), roles: ['reader'] };
        },
      }),
    )
    .get('/me', (c) => {
      expectTypeOf(c.get('user')).toEqualTypeOf<{ id: string; roles: string[] } | undefined>();
      return c.json(null);
    });
  jwtAuth<MyPayload, MyUser>({
    secret: 's',
    // @ts-expect-error -- resolveUser must return MyUser (or null/undefined)
    resolveUser: (payload) => ({ id: payload.sub }),
  });
  jwtAuth({
    secret: 's',
    getToken: (c) => {
      expectTypeOf(c).toEqualTypeOf<Context>();
      return c.req.header('x-token');
    },
  });
});

test('options reject unknown names and wrong types', () => {
  // @ts-expect-error -- unknown option
  jwtAuth({ secret: 's', cachee: false });
  // @ts-expect-error -- misspelt option
  jwtAuth({ secret: 's', audiance: 'api' });
  // @ts-expect-error -- tokenFrom.cookie is a cookie name
  jwtAuth({ secret: 's', tokenFrom: { cookie: true } });
  jwtAuth({
    secret: async (header) => (header.kid === 'k1' ? 'a-secret' : undefined),
    algorithms: ['HS256'],
    subject: 'service',
    clockTolerance: '30s',
    currentDate: () => new Date(0),
  });
});

test('requireScopes and requireClaims are route middleware; scopes are strings only', () => {
  expectTypeOf(requireScopes('admin')).toEqualTypeOf<MiddlewareHandler>();
  expectTypeOf(requireScopes).parameters.toEqualTypeOf<[scope: string, ...more: string[]]>();
  // @ts-expect-error -- at least one scope
  requireScopes();
  // @ts-expect-error -- scopes are strings
  requireScopes(1);
  // @ts-expect-error -- scopes are strings, not an array
  requireScopes(['admin']);
  const app = new Hono().use('/api/*', jwtAuth<MyPayload, MyUser>({ secret: 's' }));
  app.get('/api/admin', requireScopes('admin'), (c) => {
    expectTypeOf(c.get('auth')).exclude<undefined>().toHaveProperty('scopes').toEqualTypeOf<string[]>();
    return c.json({ ok: true });
  });
  app.use('/api/admin/*', requireScopes('admin', 'write'));
  app.get(
    '/api/tenant',
    requireClaims<MyPayload>((payload, auth) => {
      expectTypeOf(payload).toEqualTypeOf<MyPayload>();
      expectTypeOf(auth).toEqualTypeOf<AuthInfo<MyPayload>>();
      return payload.tenant === 'acme';
    }),
    (c) => c.json({ ok: true }),
  );
  // @ts-expect-error -- the check must return a boolean
  requireClaims(() => 'yes');
});

test('a forwarded AuthError reaches onError with the http-errors shape', () => {
  new Hono().onError((err, c) => {
    if (!(err instanceof AuthError)) throw err;
    expectTypeOf(err.status).toEqualTypeOf<400 | 401 | 403 | 503>();
    expectTypeOf(err.headers).toEqualTypeOf<Readonly<Record<string, string>>>();
    expectTypeOf(err.code).toEqualTypeOf<AuthErrorCode>();
    return c.json(err.toJSON(), err.status, err.headers);
  });
});

test('passthrough: c.get("authError") is AuthError | undefined', () => {
  new Hono().use(jwtAuth({ secret: 's', passthrough: true })).get('/maybe', (c) => {
    expectTypeOf(c.get('authError')).toEqualTypeOf<AuthError | undefined>();
    return c.json({ reason: c.get('authError')?.code ?? null });
  });
  expectTypeOf<JwtAuthVariables['authError']>().toEqualTypeOf<AuthError | undefined>();
});

test('unless, messages and scopeClaim are typed; unless predicates receive the Hono context', () => {
  jwtAuth({
    secret: 's',
    unless: { path: ['/health', { url: '/signup', method: 'POST' }], custom: (c) => {
      expectTypeOf(c).toEqualTypeOf<Context>();
      return c.req.path === '/x';
    } },
    messages: { insufficient_scope: 'Admins only' },
    scopeClaim: 'permissions',
  });
  jwtAuth({ secret: 's', unless: async (c) => c.req.method === 'OPTIONS' });
  // @ts-expect-error -- messages are keyed by error code
  jwtAuth({ secret: 's', messages: { expired: 'x' } });
});

test('token sources: a header name, a signed cookie with cookieSecret, a body parameter', () => {
  jwtAuth({ secret: 's', tokenFrom: { header: 'X-Access-Token' } });
  jwtAuth({ secret: 's', tokenFrom: { header: false, cookie: { name: 'at', signed: true }, body: 'access_token' }, cookieSecret: 'cookie-secret' });
  jwtAuth({ secret: 's', tokenFrom: { cookie: { name: 'at', signed: true } }, cookieSecret: new TextEncoder().encode('cookie-secret') });
  // @ts-expect-error -- a signed cookie needs its name
  jwtAuth({ secret: 's', tokenFrom: { cookie: { signed: true } }, cookieSecret: 's' });
  // @ts-expect-error -- cookieSecret is a string or bytes
  jwtAuth({ secret: 's', tokenFrom: { cookie: { name: 'at', signed: true } }, cookieSecret: 1 });
  // @ts-expect-error -- the body parameter is named by a string
  jwtAuth({ secret: 's', tokenFrom: { body: true } });
});
