import { createProtectedResource, type ProtectedResourceMetadataOptions } from '@jwtauth/core';
import type { Middleware } from 'koa';

/**
 * Serves this API's RFC 9728 Protected Resource Metadata: `GET` (and `HEAD`)
 * `/.well-known/oauth-protected-resource<resource path>` and, for a resource with a path, the
 * root form `/.well-known/oauth-protected-resource`; any other request goes on (`next()`).
 * `app.use(protectedResourceMetadata(options))`, with the options given to `jwtAuth` (their
 * `resource` and `tokenFrom` are read). A bad `resource` is a `TypeError` here.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Middleware {
  const resource = createProtectedResource(options);
  const paths = new Set(resource.metadataPaths);
  const { headers, body } = resource.answer();
  const text = JSON.stringify(body);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !paths.has(ctx.path)) {
      await next();
      return;
    }
    ctx.status = 200;
    ctx.set(headers);
    // The JSON text after the headers: Koa keeps a Content-Type already set (an object, or ctx.type,
    // would get a charset appended).
    ctx.body = text;
  };
}
