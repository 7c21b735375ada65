import { createProtectedResource, type ProtectedResourceMetadataOptions } from '@jwtauth/core';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Serves this API's RFC 9728 Protected Resource Metadata as Fastify routes: `GET` (and `HEAD`)
 * `/.well-known/oauth-protected-resource<resource path>` and, for a resource with a path, the
 * root form `/.well-known/oauth-protected-resource`.
 * `app.register(protectedResourceMetadata, options)`, with the options given to `jwtAuth` (their
 * `resource` and `tokenFrom` are read). A bad `resource` rejects `app.ready()` with a `TypeError`.
 */
export const protectedResourceMetadata: FastifyPluginAsync<ProtectedResourceMetadataOptions> = async (fastify, options) => {
  const resource = createProtectedResource(options);
  const { headers, body } = resource.answer();
  for (const path of resource.metadataPaths) {
    // A serializer of its own keeps the exact Content-Type (Fastify would append a charset), as
    // tokenEndpoints does; preSerialization and onSend hooks still run.
    fastify.get(path, async (_request, reply) => reply.code(200).headers(headers).serializer(JSON.stringify).send(body));
  }
};
