import type { FastifyInstance } from 'fastify';

/** The decorators a `hook: false` registration adds: `request[verify]()` and `fastify[authenticate]`. */
export interface DecoratorNames {
  verify: string;
  authenticate: string;
}

// A JavaScript identifier, so that `request.<namespace>JwtVerify()` can be written as such.
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function fail(message: string): never {
  throw new TypeError(`jwtAuth: ${message}`);
}

/**
 * Checks the `hook` and `namespace` adapter options at registration. Returns the names of the
 * on-demand decorators (`hook: false`), or `undefined` when the plugin adds its hook (the default,
 * which decorates nothing new, so that it keeps working next to @fastify/jwt and under another
 * `jwtAuth`). Names follow @fastify/jwt's rule: `jwtVerify`, or `<namespace>JwtVerify`.
 */
export function onDemandDecorators(fastify: FastifyInstance, hook: unknown, namespace: unknown): DecoratorNames | undefined {
  if (hook !== undefined && typeof hook !== 'boolean') fail('"hook" must be true or false.');
  if (namespace !== undefined) {
    if (typeof namespace !== 'string' || !IDENTIFIER.test(namespace)) {
      fail('"namespace" must be a JavaScript identifier such as "partner", which names request.partnerJwtVerify().');
    }
    if (hook !== false) {
      fail(
        '"namespace" names the decorators of on-demand verification: set hook: false too (with the hook, every request of the scope would need a token for every registration).',
      );
    }
  }
  if (hook !== false) return undefined;
  const names =
    namespace === undefined
      ? { verify: 'jwtVerify', authenticate: 'jwtAuthenticate' }
      : { verify: `${namespace}JwtVerify`, authenticate: `${namespace}JwtAuthenticate` };
  // Checked here rather than left to Fastify, to say what to do about it.
  const taken = fastify.hasRequestDecorator(names.verify)
    ? `request.${names.verify}`
    : fastify.hasDecorator(names.authenticate)
      ? `fastify.${names.authenticate}`
      : undefined;
  if (taken !== undefined) {
    fail(
      `${taken} is already decorated in this scope (by @fastify/jwt, or by another jwtAuth with hook: false): give this registration a namespace of its own, e.g. { hook: false, namespace: 'partner' }.`,
    );
  }
  return names;
}
