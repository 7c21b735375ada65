import Fastify, { type FastifyJwtAuthUser, type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify';
import { expectTypeOf, test } from 'vitest';
import {
  AuthError,
  isAuthError,
  jwtAuth,
  requireClaims,
  requireScopes,
  sendAuthError,
  type AuthErrorCode,
  type JwtAuthenticate,
  type JwtVerify,
  type AuthInfo,
  type FastifyJwtAuthOptions,
  type JWTPayload,
} from './index.js';

// The application's user. This augmentation is global to the compilation, so it is the only one
// for Fastify. Its fields are optional because plugin.ts assigns an `object` to `request.user`,
// which a user type with required fields rejects when the sources are compiled with it.
declare module 'fastify' {
  interface FastifyJwtAuthUser {
    id?: string;
    roles?: string[];
  }
}

interface MyPayload extends JWTPayload {
  sub: string;
  tenant: string;
}

test('jwtAuth is a plugin for app.register(jwtAuth, options)', async () => {
  const app = Fastify();
  await app.register(jwtAuth, { secret: 's' });
  await app.register(async (scope) => {
    await scope.register(jwtAuth, { secret: 's', audience: 'api', forwardErrors: true });
    scope.get('/private', async (request) => request.auth?.payload.sub);
  });
});

test('request.auth is AuthInfo | null and request.user is FastifyJwtAuthUser | null', () => {
  const app = Fastify();
  app.get('/me', async (request) => {
    expectTypeOf(request.auth).toEqualTypeOf<AuthInfo | null>();
    expectTypeOf(request.user).toEqualTypeOf<FastifyJwtAuthUser | null>();
    expectTypeOf(request.auth).exclude<null>().toHaveProperty('scopes').toEqualTypeOf<string[]>();
    return null;
  });
  expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthInfo | null>();
});

test('augmenting FastifyJwtAuthUser types request.user', () => {
  Fastify().get('/me', async (request) => {
    expectTypeOf(request.user).exclude<null>().toHaveProperty('id').toEqualTypeOf<string | undefined>();
    expectTypeOf(request.user).exclude<null>().toHaveProperty('roles').toEqualTypeOf<string[] | undefined>();
    return { id: request.user?.id };
  });
});

test('resolveUser receives the payload and the Fastify request', async () => {
  const app = Fastify();
  await app.register(jwtAuth, {
    secret: 's',
    resolveUser: async (payload, request) => {
      expectTypeOf(payload).toEqualTypeOf<JWTPayload>();
      expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
      return { id: String(payload.sub), roles: [] };
    },
    getToken: (request) => {
      expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
      return request.headers['x-token'] as string | undefined;
    },
  });
  const options: FastifyJwtAuthOptions<MyPayload, FastifyJwtAuthUser> = {
    secret: 's',
    resolveUser: async (payload, request) => {
      expectTypeOf(payload).toEqualTypeOf<MyPayload>();
      expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
      return { id: payload.sub, roles: [payload.tenant] };
    },
  };
  const bad: FastifyJwtAuthOptions<MyPayload, FastifyJwtAuthUser> = {
    secret: 's',
    // @ts-expect-error -- resolveUser must return the user type (or null/undefined)
    resolveUser: () => ({ id: 1 }),
  };
  void bad;
  void options;
});

test('options reject unknown names and wrong types', async () => {
  const app = Fastify();
  // @ts-expect-error -- unknown option
  await app.register(jwtAuth, { secret: 's', cachee: false });
  // @ts-expect-error -- misspelt option
  await app.register(jwtAuth, { secret: 's', audiance: 'api' });
  // @ts-expect-error -- credentialsRequired is a boolean
  await app.register(jwtAuth, { secret: 's', credentialsRequired: 'no' });
  await app.register(jwtAuth, {
    jwks: { uri: new URL('https://issuer.example/.well-known/jwks.json'), timeoutDuration: 2000 },
    issuer: 'https://issuer.example/',
    typ: 'at+jwt',
    maxTokenAge: '1h',
    requiredClaims: ['sub', 'scope'],
    credentialsRequired: false,
    realm: 'api',
  });
});

test('requireScopes and requireClaims fit preHandler; scopes are strings only', () => {
  expectTypeOf(requireScopes('admin')).toEqualTypeOf<preHandlerAsyncHookHandler>();
  expectTypeOf(requireScopes).parameters.toEqualTypeOf<[scope: string, ...more: string[]]>();
  // @ts-expect-error -- at least one scope
  requireScopes();
  // @ts-expect-error -- scopes are strings
  requireScopes(1);
  // @ts-expect-error -- scopes are strings, not an array
  requireScopes(['admin']);
  const app = Fastify();
  app.get('/admin', { preHandler: requireScopes('admin') }, async () => ({ ok: true }));
  app.get('/both', { preHandler: [requireScopes('admin'), requireScopes('write')] }, async () => ({ ok: true }));
  app.route({ method: 'GET', url: '/route', preHandler: requireScopes('admin'), handler: async () => ({ ok: true }) });
  app.addHook('preHandler', requireScopes('admin'));
  app.get(
    '/tenant',
    {
      preHandler: requireClaims<MyPayload>((payload, auth) => {
        expectTypeOf(payload).toEqualTypeOf<MyPayload>();
        expectTypeOf(auth).toEqualTypeOf<AuthInfo<MyPayload>>();
        return payload.tenant === 'acme';
      }),
    },
    async () => ({ ok: true }),
  );
  // @ts-expect-error -- the check must return a boolean
  requireClaims(() => 'yes');
});

test('a forwarded AuthError reaches the error handler with the http-errors shape', () => {
  Fastify().setErrorHandler((error, _request, reply) => {
    if (!(error instanceof AuthError)) return reply.send(error);
    expectTypeOf(error.statusCode).toEqualTypeOf<400 | 401 | 403 | 503>();
    expectTypeOf(error.headers).toEqualTypeOf<Readonly<Record<string, string>>>();
    expectTypeOf(error.code).toEqualTypeOf<AuthErrorCode>();
    return reply.code(error.statusCode).headers(error.headers).send(error.toJSON());
  });
});

test('passthrough: request.authError is AuthError | null', async () => {
  const app = Fastify();
  await app.register(jwtAuth, { secret: 's', passthrough: true });
  app.get('/maybe', async (request) => {
    expectTypeOf(request.authError).toEqualTypeOf<AuthError | null>();
    return { reason: request.authError?.code ?? null };
  });
  expectTypeOf<FastifyRequest['authError']>().toEqualTypeOf<AuthError | null>();
});

test('unless, messages and scopeClaim are typed; unless predicates receive the Fastify request', async () => {
  await Fastify().register(jwtAuth, {
    secret: 's',
    unless: {
      path: ['/health', '/public/**', { url: /^\/docs/, method: ['GET'] }],
      custom: (request) => {
        expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
        return request.url === '/x';
      },
    },
    messages: { token_expired: 'Please sign in again' },
    scopeClaim: ['scp'],
  });
  await Fastify().register(jwtAuth, { secret: 's', unless: (request) => request.method === 'OPTIONS' });
  // @ts-expect-error -- messages are keyed by error code
  await Fastify().register(jwtAuth, { secret: 's', messages: { expired: 'x' } });
});

test('hook: false: request.jwtVerify() resolves to AuthInfo | null; fastify.jwtAuthenticate fits every request hook', async () => {
  const app = Fastify();
  await app.register(jwtAuth, { secret: 's', hook: false });
  expectTypeOf(app.jwtAuthenticate).toEqualTypeOf<JwtAuthenticate>();
  app.get('/a', { onRequest: app.jwtAuthenticate }, async (request) => request.auth?.payload.sub);
  app.get('/b', { onRequest: [app.jwtAuthenticate], preHandler: requireScopes('read') }, async () => null);
  app.get('/c', { preValidation: app.jwtAuthenticate }, async () => null);
  app.get<{ Params: { id: string } }>('/d/:id', { preHandler: [app.jwtAuthenticate, requireScopes('admin')] }, async (request) => request.params.id);
  app.addHook('onRequest', app.jwtAuthenticate);
  app.get('/e', async (request) => {
    expectTypeOf(request.jwtVerify).toEqualTypeOf<JwtVerify>();
    const auth = await request.jwtVerify();
    expectTypeOf(auth).toEqualTypeOf<AuthInfo | null>();
    return auth?.payload.sub;
  });
  // @ts-expect-error -- hook is a boolean
  await app.register(jwtAuth, { secret: 's', hook: 'onRequest' });
});

test('namespaces: typed by the application, as @fastify/jwt documents', async () => {
  const app = Fastify();
  await app.register(jwtAuth, { secret: 's', hook: false, namespace: 'partner' });
  // @ts-expect-error -- a namespace is a string
  await app.register(jwtAuth, { secret: 's', hook: false, namespace: 1 });
  interface PartnerRequest {
    partnerJwtVerify: JwtVerify;
  }
  interface PartnerInstance {
    partnerJwtAuthenticate: JwtAuthenticate;
  }
  const partner = app as typeof app & PartnerInstance;
  app.get('/p', { onRequest: partner.partnerJwtAuthenticate }, async (request) => {
    const auth = await (request as FastifyRequest & PartnerRequest).partnerJwtVerify();
    expectTypeOf(auth).toEqualTypeOf<AuthInfo | null>();
    return auth?.payload.iss;
  });
});

test('sendAuthError answers an AuthError from setErrorHandler', () => {
  Fastify().setErrorHandler((error, _request, reply) => {
    if (!isAuthError(error)) return reply.send(error);
    expectTypeOf(sendAuthError(reply, error)).toEqualTypeOf<FastifyReply>();
    return sendAuthError(reply, error);
  });
  // @ts-expect-error -- only an AuthError
  sendAuthError({} as FastifyReply, new Error('x'));
});
