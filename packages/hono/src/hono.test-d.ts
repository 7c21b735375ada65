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
  expectTypeOf(jwtAuth<MyPayload, MyUser>({ secret: 's' })).toEqualTypeOf<MiddlewareHandler<JwtAuthEnv<MyPayload, MyUser>>>();
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
    unless: {
      path: ['/health', { url: '/signup', method: 'POST' }],
      custom: (c) => {
        expectTypeOf(c).toEqualTypeOf<Context>();
        return c.req.path === '/x';
      },
    },
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

test('variables: other names are typed, the default names are then gone', () => {
  new Hono().use('*', jwtAuth({ secret: 's', variables: { auth: 'token', user: 'account' } })).get('/me', (c) => {
    expectTypeOf(c.get('token')).toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf(c.get('account')).toEqualTypeOf<JWTPayload | undefined>();
    expectTypeOf(c.get('authError')).toEqualTypeOf<AuthError | undefined>();
    expectTypeOf(c.var.account).toEqualTypeOf<JWTPayload | undefined>();
    // @ts-expect-error -- renamed: there is no c.get('auth') any more
    c.get('auth');
    // @ts-expect-error -- renamed: there is no c.get('user') any more
    c.get('user');
    return c.json(null);
  });
  // hono/jwt's name for the payload: the user is the payload when there is no resolveUser.
  new Hono().use('*', jwtAuth({ secret: 's', variables: { user: 'jwtPayload' } })).get('/', (c) => {
    expectTypeOf(c.get('jwtPayload')).toEqualTypeOf<JWTPayload | undefined>();
    expectTypeOf(c.get('auth')).toEqualTypeOf<AuthInfo | undefined>();
    return c.json(c.get('jwtPayload') ?? null);
  });
  expectTypeOf(jwtAuth({ secret: 's', variables: { authError: 'whyNot' } })).toEqualTypeOf<
    MiddlewareHandler<JwtAuthEnv<JWTPayload, JWTPayload, { readonly authError: 'whyNot' }>>
  >();
});

test('variables with explicit type arguments: the names are the third', () => {
  const app = new Hono<JwtAuthEnv<MyPayload, MyUser, { user: 'account' }>>();
  app.use('/api/*', jwtAuth<MyPayload, MyUser, { user: 'account' }>({ secret: 's', variables: { user: 'account' } }));
  app.get('/api/me', requireScopes('admin'), (c) => {
    expectTypeOf(c.get('account')).toEqualTypeOf<MyUser | undefined>();
    expectTypeOf(c.get('auth')).toEqualTypeOf<AuthInfo<MyPayload> | undefined>();
    return c.json(null);
  });
  expectTypeOf<JwtAuthVariables<MyPayload, MyUser, { auth: 'token' }>>().toEqualTypeOf<{
    token: AuthInfo<MyPayload> | undefined;
    user: MyUser | undefined;
    authError: AuthError | undefined;
  }>();
  // @ts-expect-error -- without the third type argument the names stay the defaults
  jwtAuth<MyPayload, MyUser>({ secret: 's', variables: { user: 'account' } });
  // @ts-expect-error -- only auth, user and authError can be renamed
  jwtAuth({ secret: 's', variables: { payload: 'jwtPayload' } });
  // @ts-expect-error -- a name is a string
  jwtAuth({ secret: 's', variables: { user: 1 } });
});

// hono/jwt: "Type tests" > "Should infer correct payload type when JwtVariables<T> is specified"
// hono/jwt: "Type tests" > "Should infer unknown when JwtVariables is used without type parameter in Variables"
test('JwtAuthEnv<Payload> replaces hono/jwt JwtVariables<Payload>: the payload is c.var.auth.payload', () => {
  type User = { id: string; email: string; isAdmin: boolean };
  new Hono<JwtAuthEnv<User & JWTPayload>>().get('/', (c) => {
    const payload = c.var.auth?.payload;
    expectTypeOf(payload).toEqualTypeOf<(User & JWTPayload) | undefined>();
    return c.json(payload ?? null);
  });
  new Hono<JwtAuthEnv>().get('/', (c) => {
    // JwtVariables without a type argument gave `any`; here the claims are jose's JWTPayload.
    expectTypeOf(c.var.auth?.payload).toEqualTypeOf<JWTPayload | undefined>();
    return c.json(null);
  });
});
