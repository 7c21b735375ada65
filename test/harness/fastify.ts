import fastifyCookie, { sign } from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/fastify';
import Fastify, { type FastifyPluginAsync, type FastifyPluginCallback } from 'fastify';
import { attached, COOKIE_SECRET, escalate, forwardedBody, rejectWithNothing, type Harness } from './types.js';
import { listenFastify } from './listen.js';

/**
 * The installed @fastify/cookie and @fastify/formbody are the Fastify 5 majors, whose
 * fastify-plugin metadata Fastify 4 refuses; what the harness uses (parseCookie, unsignCookie, the
 * form parser) works alike on 4. Registered without that metadata, as fastify-plugin would (not
 * encapsulated), so the Fastify 4 harness runs the same plugins.
 */
function withoutVersionCheck<Plugin extends FastifyPluginCallback<never> | FastifyPluginAsync<never>>(plugin: Plugin): Plugin {
  // bind keeps the arity, by which avvio tells a callback plugin (formbody) from an async one.
  return Object.assign(plugin.bind(null), { [Symbol.for('skip-override')]: true }) as unknown as Plugin;
}

/** A harness for one major version of Fastify (both share one API). */
export function makeFastifyHarness(name: Harness['name'], createApp: typeof Fastify): Harness {
  return {
    name,
    async start(options) {
      const app = createApp();
      app.setErrorHandler((error, _request, reply) => {
        const { status, headers, body } = forwardedBody(error);
        return reply.code(status).headers(headers).send(body);
      });
      const legacy = app.version.startsWith('4.');
      await app.register(legacy ? withoutVersionCheck(fastifyCookie) : fastifyCookie, { secret: COOKIE_SECRET });
      await app.register(legacy ? withoutVersionCheck(fastifyFormbody) : fastifyFormbody);
      await app.register(jwtAuth, options as Parameters<typeof jwtAuth>[1]);
      app.route({
        method: ['GET', 'HEAD', 'OPTIONS', 'POST'],
        url: '/protected',
        exposeHeadRoute: false,
        handler: async (request) => attached(request.auth, request.user, request.authError),
      });
      app.get('/admin', { preHandler: requireScopes('admin') }, async () => ({ ok: true }));
      app.get('/admin-read', { preHandler: requireScopes('admin', 'read') }, async () => ({ ok: true }));
      app.get('/claims', { preHandler: requireClaims((payload) => payload.role === 'admin') }, async () => ({ ok: true }));
      app.get('/claims-reject', { preHandler: requireClaims(rejectWithNothing) }, async () => ({ ok: true }));
      app.get(
        '/claims-throw',
        {
          preHandler: requireClaims(() => {
            throw new Error('guard exploded');
          }),
        },
        async () => ({ ok: true }),
      );
      app.get('/escalate', async (request) => {
        escalate(request.auth, request.user);
        return { ok: true };
      });
      return listenFastify(app);
    },
    // @fastify/cookie's own signer (reply.setCookie(name, value, { signed: true })): `value.` +
    // unpadded base64 HMAC-SHA256.
    async signCookie(name, value, secret) {
      return `${name}=${encodeURIComponent(sign(value, secret))}`;
    },
  };
}

export const fastifyHarness = makeFastifyHarness('fastify', Fastify);
