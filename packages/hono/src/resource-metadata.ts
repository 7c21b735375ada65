import { createProtectedResource, type ProtectedResourceMetadataOptions } from '@jwtauth/core';
import { Hono, type Env } from 'hono';

/**
 * Serves this API's RFC 9728 Protected Resource Metadata as a Hono app: `GET` (and `HEAD`)
 * `/.well-known/oauth-protected-resource<resource path>` and, for a resource with a path, the
 * root form `/.well-known/oauth-protected-resource`. `app.route('/', protectedResourceMetadata(options))`,
 * with the options given to `jwtAuth` (their `resource` and `tokenFrom` are read). A bad
 * `resource` is a `TypeError` here.
 */
export function protectedResourceMetadata<E extends Env = Env>(options: ProtectedResourceMetadataOptions): Hono<E> {
  const resource = createProtectedResource(options);
  const { headers, body } = resource.answer();
  const text = JSON.stringify(body);
  const app = new Hono<E>();
  for (const path of resource.metadataPaths) app.get(path, (c) => c.body(text, 200, headers));
  return app;
}
