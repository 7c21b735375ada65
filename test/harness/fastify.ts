import { jwtAuth, requireClaims, requireScopes } from '@jwtauth/fastify';
import Fastify from 'fastify';
import { attached, escalate, forwardedBody, rejectWithNothing, type Harness } from './types.js';

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
      await app.register(jwtAuth, options as Parameters<typeof jwtAuth>[1]);
      app.route({
        method: ['GET', 'HEAD', 'OPTIONS'],
        url: '/protected',
        exposeHeadRoute: false,
        handler: async (request) => attached(request.auth, request.user, request.authError),
      });
      app.get('/admin', { preHandler: requireScopes('admin') }, async () => ({ ok: true }));
      app.get('/admin-read', { preHandler: requireScopes('admin', 'read') }, async () => ({ ok: true }));
      app.get('/claims', { preHandler: requireClaims((payload) => payload.role === 'admin') }, async () => ({ ok: true }));
      app.get('/claims-reject', { preHandler: requireClaims(rejectWithNothing) }, async () => ({ ok: true }));
      app.get('/claims-throw', { preHandler: requireClaims(() => { throw new Error('guard exploded'); }) }, async () => ({ ok: true }));
      app.get('/escalate', async (request) => {
        escalate(request.auth, request.user);
        return { ok: true };
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  };
}

export const fastifyHarness = makeFastifyHarness('fastify', Fastify);
