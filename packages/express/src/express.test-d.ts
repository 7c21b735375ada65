import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { expectTypeOf, test } from 'vitest';
import { AuthError, jwtAuth, requireClaims, requireScopes, type AuthErrorCode, type AuthInfo, type JWTPayload, type JwtAuthProperties } from './index.js';

// The application's user, declared the Passport way. This augmentation is global to the
// compilation, so it is the only one for Express and keeps every field the tests use.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User {
      id: string;
      roles: string[];
    }
  }
}

interface MyPayload extends JWTPayload {
  sub: string;
  tenant: string;
}

interface MyUser {
  id: string;
  roles: string[];
}

test('jwtAuth() is an Express RequestHandler that app.use() and routes accept', () => {
  const middleware = jwtAuth({ secret: 'a-secret-of-at-least-32-characters!!' });
  expectTypeOf(middleware).toEqualTypeOf<RequestHandler>();
  const app = express();
  app.use(middleware);
  app.get('/one', jwtAuth({ secret: 's' }), (_req, res) => {
    res.end();
  });
});

test('req.auth is AuthInfo | undefined and req.user is Express.User | undefined', () => {
  const handler = (req: Request, _res: Response, _next: NextFunction) => {
    expectTypeOf(req.auth).toEqualTypeOf<AuthInfo | undefined>();
    expectTypeOf(req.user).toEqualTypeOf<Express.User | undefined>();
    if (req.auth !== undefined) {
      expectTypeOf(req.auth.token).toBeString();
      expectTypeOf(req.auth.scopes).toEqualTypeOf<string[]>();
      expectTypeOf(req.auth.payload).toEqualTypeOf<JWTPayload>();
    }
  };
  express().get('/me', handler);
});

test('augmenting Express.User types req.user', () => {
  express().get('/me', (req, res) => {
    expectTypeOf(req.user).toEqualTypeOf<Express.User | undefined>();
    expectTypeOf(req.user).exclude<undefined>().toHaveProperty('id').toBeString();
    expectTypeOf(req.user).exclude<undefined>().toHaveProperty('roles').toEqualTypeOf<string[]>();
    res.json({ id: req.user?.id });
  });
});

test('resolveUser receives the payload and the Express request; its return type is the User', () => {
  jwtAuth<MyPayload, MyUser>({
    secret: 's',
    resolveUser: async (payload, req) => {
      expectTypeOf(payload).toEqualTypeOf<MyPayload>();
      expectTypeOf(req).toEqualTypeOf<Request>();
      return { id: payload.sub, roles: [] };
    },
  });
  jwtAuth<MyPayload, MyUser>({
    secret: 's',
    // @ts-expect-error -- resolveUser must return MyUser (or null/undefined)
    resolveUser: (payload) => ({ id: payload.sub }),
  });
  jwtAuth({
    secret: 's',
    getToken: (req) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      return req.get('x-token');
    },
    isRevoked: (payload, header) => {
      expectTypeOf(payload).toEqualTypeOf<JWTPayload>();
      expectTypeOf(header).toHaveProperty('kid').toEqualTypeOf<string | undefined>();
      return false;
    },
  });
});

test('options reject unknown names and wrong types', () => {
  // @ts-expect-error -- unknown option
  jwtAuth({ secret: 's', cachee: false });
  // @ts-expect-error -- misspelt option
  jwtAuth({ secret: 's', audiance: 'api' });
  // @ts-expect-error -- credentialsRequired is a boolean
  jwtAuth({ secret: 's', credentialsRequired: 'no' });
  jwtAuth({
    jwks: { uri: 'https://issuer.example/.well-known/jwks.json', cooldownDuration: 30_000 },
    algorithms: ['RS256'],
    issuer: ['https://issuer.example/'],
    audience: 'api',
    typ: 'at+jwt',
    clockTolerance: '30s',
    maxTokenAge: 3600,
    requiredClaims: ['sub'],
    credentialsRequired: false,
    tokenFrom: { header: true, cookie: 'access_token', query: 'access_token' },
    realm: 'api',
    forwardErrors: true,
  });
});

test('requireScopes and requireClaims are route middleware; scopes are strings only', () => {
  expectTypeOf(requireScopes('admin')).toEqualTypeOf<RequestHandler>();
  expectTypeOf(requireScopes).parameters.toEqualTypeOf<[scope: string, ...more: string[]]>();
  // @ts-expect-error -- at least one scope
  requireScopes();
  // @ts-expect-error -- scopes are strings
  requireScopes(1);
  // @ts-expect-error -- scopes are strings, not an array
  requireScopes(['admin']);
  const app = express();
  app.use(jwtAuth({ secret: 's' }));
  app.get('/admin', requireScopes('admin', 'write'), (_req, res) => {
    res.end();
  });
  app.get(
    '/tenant',
    requireClaims<MyPayload>((payload, auth) => {
      expectTypeOf(payload).toEqualTypeOf<MyPayload>();
      expectTypeOf(auth).toEqualTypeOf<AuthInfo<MyPayload>>();
      return payload.tenant === 'acme';
    }),
    (_req, res) => {
      res.end();
    },
  );
  // @ts-expect-error -- the check must return a boolean
  requireClaims(() => 'yes');
});

test('a forwarded AuthError carries the http-errors shape for the error handler', () => {
  express().use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof AuthError)) return next(err);
    expectTypeOf(err.status).toEqualTypeOf<400 | 401 | 403 | 503>();
    expectTypeOf(err.statusCode).toEqualTypeOf<400 | 401 | 403 | 503>();
    expectTypeOf(err.headers).toEqualTypeOf<Readonly<Record<string, string>>>();
    // Read from the type: a value argument would widen the class field's `true` to boolean.
    expectTypeOf<(typeof err)['expose']>().toEqualTypeOf<true>();
    expectTypeOf(err.code).toEqualTypeOf<AuthErrorCode>();
    expectTypeOf(err.toJSON()).toEqualTypeOf<{ error: AuthError['error']; error_description: string; code: AuthErrorCode }>();
    res.status(err.status).set(err.headers).json(err.toJSON());
  });
});

test('passthrough: req.authError is AuthError | undefined', () => {
  express()
    .use(jwtAuth({ secret: 's', passthrough: true }))
    .get('/maybe', (req, res) => {
      expectTypeOf(req.authError).toEqualTypeOf<AuthError | undefined>();
      expectTypeOf(req.authError).exclude<undefined>().toHaveProperty('code').toEqualTypeOf<AuthErrorCode>();
      res.json({ reason: req.authError?.code ?? null });
    });
});

test('unless, messages and scopeClaim are typed; unless predicates receive the Express request', () => {
  jwtAuth({
    secret: 's',
    unless: { path: ['/health', /^\/public\//, { url: '/signup', method: 'POST' }, { url: /^\/docs/, method: ['GET', 'HEAD'] }], method: 'OPTIONS' },
    messages: { token_expired: 'Please sign in again', insufficient_scope: 'Admins only' },
    scopeClaim: ['permissions', 'scope'],
  });
  jwtAuth({
    secret: 's',
    unless: {
      custom: (req) => {
        expectTypeOf(req).toEqualTypeOf<Request>();
        return req.ip === '127.0.0.1';
      },
    },
  });
  jwtAuth({
    secret: 's',
    unless: async (req) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      return req.path.startsWith('/public');
    },
  });
  // @ts-expect-error -- messages are keyed by error code
  jwtAuth({ secret: 's', messages: { expired: 'x' } });
  // @ts-expect-error -- express-unless's "methods" is "method" here
  jwtAuth({ secret: 's', unless: { path: { url: '/a', methods: ['GET'] } } });
  // @ts-expect-error -- passthrough is a boolean
  jwtAuth({ secret: 's', passthrough: 'yes' });
  // @ts-expect-error -- scopeClaim names claims
  jwtAuth({ secret: 's', scopeClaim: 1 });
});

test('token sources: a header name, a signed cookie, a body parameter', () => {
  jwtAuth({ secret: 's', tokenFrom: { header: 'X-Access-Token', cookie: { name: 'at', signed: true }, query: 'access_token', body: 'access_token' } });
  jwtAuth({ secret: 's', tokenFrom: { cookie: { name: 'at' } } });
  // @ts-expect-error -- cookieSecret is Hono's: Express verifies signed cookies with cookie-parser
  jwtAuth({ secret: 's', tokenFrom: { cookie: { name: 'at', signed: true } }, cookieSecret: 's' });
  // @ts-expect-error -- signed is a boolean
  jwtAuth({ secret: 's', tokenFrom: { cookie: { name: 'at', signed: 'yes' } } });
});

test('requestProperty and userProperty are strings; JwtAuthProperties is empty by default (req.auth, req.user)', () => {
  jwtAuth({ secret: 's', requestProperty: 'jwt', userProperty: 'principal' });
  // @ts-expect-error -- a property name is a string
  jwtAuth({ secret: 's', requestProperty: 1 });
  // @ts-expect-error -- a property name is a string
  jwtAuth({ secret: 's', userProperty: false });
  // Exactly the empty object type: nothing is added to Request.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  expectTypeOf<JwtAuthProperties>().toEqualTypeOf<{}>();
  expectTypeOf<Request>().toHaveProperty('auth').toEqualTypeOf<AuthInfo | undefined>();
  expectTypeOf<Request>().toHaveProperty('authError').toEqualTypeOf<AuthError | undefined>();
});
