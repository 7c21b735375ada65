import { createProtectedResource, type ProtectedResourceMetadataOptions } from '@jwtauth/core';
import type { RequestHandler } from 'express';

/**
 * Serves this API's RFC 9728 Protected Resource Metadata: `GET` (and `HEAD`)
 * `/.well-known/oauth-protected-resource<resource path>` and, for a resource with a path, the
 * root form `/.well-known/oauth-protected-resource`; any other request goes on (`next()`). Mount
 * it at the app's root, `app.use(protectedResourceMetadata(options))`, with the options given to
 * `jwtAuth` (their `resource` and `tokenFrom` are read). A bad `resource` is a `TypeError` here.
 */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): RequestHandler {
  const resource = createProtectedResource(options);
  const paths = new Set(resource.metadataPaths);
  const { headers, body } = resource.answer();
  const text = JSON.stringify(body);
  const answerHeaders = { ...headers, 'Content-Length': String(new TextEncoder().encode(text).length) };
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !paths.has(req.path)) return next();
    // writeHead, not res.json(): the exact Content-Type every adapter sends. Node sends no body for HEAD.
    res.writeHead(200, answerHeaders).end(text);
  };
}
