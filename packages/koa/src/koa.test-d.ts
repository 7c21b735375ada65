import Koa, { type Context, type DefaultState, type Middleware } from 'koa';
import { expectTypeOf, test } from 'vitest';
import {
  AuthError,
  jwtAuth,
  requireClaims,
  requireScopes,
  type AuthErrorCode,
  type AuthInfo,
  type JwtAuthMiddleware,
  type JwtAuthState,
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

test('jwtAuth() is a Koa Middleware over JwtAuthState, with .unless()', () => {
  expectTypeOf(jwtAuth({ secret: 's' })).toEqualTypeOf<JwtAuthMiddleware<JwtAuthState & DefaultState>>();
  expectTypeOf(jwtAuth({ secret: 's' })).toExtend<Middleware<JwtAuthState & DefaultState>>();
  expectTypeOf(jwtAuth<MyPayload, MyUser>({ secret: 's' })).toEqualTypeOf<JwtAuthMiddleware<JwtAuthState<MyPayload, MyUser> & DefaultState>>();
  expectTypeOf(jwtAuth({ secret: 's' }).unless({ path: ['/public'] })).toEqualTypeOf<Middleware<JwtAuthState & DefaultState>>();
  new Koa().use(jwtAuth({ secret: 's' }));
});

test('app.use(jwtAuth<Payload, User>()) types ctx.state.auth and ctx.state.user of later middleware', () => {
  new Koa().use(jwtAuth<MyPayload, MyUser>({ secret: 's' })).use(async (ctx, next) => {
    expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthInfo<MyPayload> | undefined>();
    expectTypeOf(ctx.state.user).toEqualTypeOf<MyUser | undefined>();
    expectTypeOf(ctx.state.auth).exclude<undefined>().toHaveProperty('payload').toEqualTypeOf<MyPayload>();
    expectTypeOf(ctx.state.auth).exclude<undefined>().toHaveProperty('scopes').toEqualTypeOf<string[]>();
    await next();
  });
});

test('without type arguments the user is the payload', () => {
  new Koa().use(jwtAuth({ secret: 's' })).use((ctx) => {
    expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf(ctx.state.user).toEqualTypeOf<JWTPayload | undefined>();
  });
});

test('resolveUser receives the payload and the Koa context; its return type is the User', () => {
  const app = new Koa().use(
    jwtAuth({
      secret: 's',
      resolveUser: async (payload, ctx) => {
        expectTypeOf(payload).toEqualTypeOf<JWTPayload>();
        expectTypeOf(ctx).toEqualTypeOf<Context>();
        return { id: String(payload.sub), roles: ['reader'] };
      },
    }),
  );
  app.use((ctx) => {
    expectTypeOf(ctx.state.user).toEqualTypeOf<{ id: string; roles: string[] } | undefined>();
  });
  jwtAuth<MyPayload, MyUser>({
    secret: 's',
    // @ts-expect-error -- resolveUser must return MyUser (or null/undefined)
    resolveUser: (payload) => ({ id: payload.sub }),
  });
  jwtAuth({
    secret: 's',
    getToken: (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<Context>();
      return ctx.cookies.get('access_token');
    },
  });
});

test('options reject unknown names and wrong types', () => {
  // @ts-expect-error -- unknown option
  jwtAuth({ secret: 's', cachee: false });
  // @ts-expect-error -- misspelt option
  jwtAuth({ secret: 's', audiance: 'api' });
  // @ts-expect-error -- realm is a string
  jwtAuth({ secret: 's', realm: 1 });
  jwtAuth({
    jwks: { keys: [] },
    issuer: 'https://issuer.example/',
    audience: ['api', 'admin'],
    clockTolerance: 5,
    credentialsRequired: false,
    tokenFrom: { header: false, cookie: 'access_token' },
    forwardErrors: true,
  });
});

test('requireScopes and requireClaims are Koa middleware; scopes are strings only', () => {
  expectTypeOf(requireScopes('admin')).toEqualTypeOf<Middleware>();
  expectTypeOf(requireScopes).parameters.toEqualTypeOf<[scope: string, ...more: string[]]>();
  // @ts-expect-error -- at least one scope
  requireScopes();
  // @ts-expect-error -- scopes are strings
  requireScopes(1);
  // @ts-expect-error -- scopes are strings, not an array
  requireScopes(['admin']);
  new Koa()
    .use(jwtAuth<MyPayload, MyUser>({ secret: 's' }))
    .use(requireScopes('admin'))
    .use(
      requireClaims<MyPayload>((payload, auth) => {
        expectTypeOf(payload).toEqualTypeOf<MyPayload>();
        expectTypeOf(auth).toEqualTypeOf<AuthInfo<MyPayload>>();
        return payload.tenant === 'acme';
      }),
    );
  // @ts-expect-error -- the check must return a boolean
  requireClaims(() => 'yes');
});

test('a forwarded AuthError carries the http-errors shape Koa answers with', () => {
  new Koa().use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      expectTypeOf(err.status).toEqualTypeOf<400 | 401 | 403 | 503>();
      expectTypeOf(err.headers).toEqualTypeOf<Readonly<Record<string, string>>>();
      expectTypeOf(err.code).toEqualTypeOf<AuthErrorCode>();
      ctx.status = err.status;
      ctx.set(err.headers);
      ctx.body = err.toJSON();
    }
  });
});

test('passthrough: ctx.state.authError is AuthError | undefined', () => {
  new Koa().use(jwtAuth({ secret: 's', passthrough: true })).use((ctx) => {
    expectTypeOf(ctx.state.authError).toEqualTypeOf<AuthError | undefined>();
    expectTypeOf(ctx.state.authError).exclude<undefined>().toHaveProperty('code').toEqualTypeOf<AuthErrorCode>();
  });
  expectTypeOf<JwtAuthState['authError']>().toEqualTypeOf<AuthError | undefined>();
});

test('unless, messages and scopeClaim are typed; unless predicates receive the Koa context', () => {
  jwtAuth({
    secret: 's',
    unless: {
      path: ['/health', /^\/public\//, { url: '/signup', method: 'POST' }],
      method: ['OPTIONS'],
      custom: (ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<Context>();
        return ctx.path === '/x';
      },
    },
    messages: { missing_token: 'Log in first' },
    scopeClaim: 'permissions',
  });
  jwtAuth({ secret: 's', unless: (ctx) => ctx.path.startsWith('/public') });
  // @ts-expect-error -- messages are keyed by error code
  jwtAuth({ secret: 's', messages: { expired: 'x' } });
  // @ts-expect-error -- unless.path holds paths, RegExps or { url, method }
  jwtAuth({ secret: 's', unless: { path: 42 } });
});

test('key and authKey rename ctx.state.user and ctx.state.auth, inferred from the options', () => {
  new Koa().use(jwtAuth({ secret: 's', key: 'account', authKey: 'jwt' })).use((ctx) => {
    expectTypeOf(ctx.state.account).toEqualTypeOf<JWTPayload | undefined>();
    expectTypeOf(ctx.state.jwt).toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf(ctx.state.authError).toEqualTypeOf<AuthError | undefined>();
  });
  new Koa().use(jwtAuth<MyPayload, MyUser, 'account'>({ secret: 's', key: 'account' })).use((ctx) => {
    expectTypeOf(ctx.state.account).toEqualTypeOf<MyUser | undefined>();
    expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthInfo<MyPayload> | undefined>();
  });
  // resolveUser still types the user under its new name.
  new Koa().use(jwtAuth({ secret: 's', key: 'me', resolveUser: () => ({ id: 'x' }) })).use((ctx) => {
    expectTypeOf(ctx.state.me).toEqualTypeOf<{ id: string } | undefined>();
  });
  expectTypeOf<JwtAuthState<MyPayload, MyUser, 'account', 'jwt'>>().toEqualTypeOf<{
    account?: MyUser;
    jwt?: AuthInfo<MyPayload>;
    authError?: AuthError;
  }>();
  expectTypeOf<JwtAuthState>().toEqualTypeOf<{ auth?: AuthInfo; user?: JWTPayload; authError?: AuthError }>();
  // @ts-expect-error -- with explicit type arguments the key must match the third one
  jwtAuth<MyPayload, MyUser>({ secret: 's', key: 'account' });
  // @ts-expect-error -- key names a property: a string
  jwtAuth({ secret: 's', key: 1 });
});

test('.unless() takes the unless option; its predicates receive the Koa context', () => {
  new Koa().use(jwtAuth({ secret: 's' }).unless({ path: [/^\/public/], method: 'OPTIONS' }));
  jwtAuth({ secret: 's' }).unless((ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<Context>();
    return ctx.path === '/health';
  });
  new Koa().use(jwtAuth({ secret: 's', key: 'account' }).unless({ path: '/public' })).use((ctx) => {
    expectTypeOf(ctx.state.account).toEqualTypeOf<JWTPayload | undefined>();
  });
  // @ts-expect-error -- koa-unless's ext is not an option here: write a glob
  jwtAuth({ secret: 's' }).unless({ ext: '.css' });
});
