import type { AuthError, AuthInfo } from '@jwtauth/core';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

/**
 * The names `jwtAuth()` declares on Express's `Request`, set by declaration merging to match its
 * `requestProperty` and `userProperty` options. Empty by default: `req.auth` and `req.user`.
 * A name replaces the default; `false` declares nothing, for a project where another middleware
 * (express-jwt, express-oauth2-jwt-bearer) types `req.auth` its own way:
 *
 * ```ts
 * declare module '@jwtauth/express' {
 *   interface JwtAuthProperties { requestProperty: 'jwt'; userProperty: 'principal' }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface JwtAuthProperties {}

/** The name declared for `key`: the one set in {@link JwtAuthProperties}, else `fallback`; `never` for `false`. */
type DeclaredName<Key extends string, Fallback extends string> = JwtAuthProperties extends { [K in Key]: infer Name }
  ? Name extends string
    ? Name
    : never
  : Fallback;

type AuthName = DeclaredName<'requestProperty', 'auth'>;
type UserName = DeclaredName<'userProperty', 'user'>;

/** The default names, documented; a renamed property carries the same type. */
interface DefaultAuthProperty {
  /** Set by `jwtAuth()`: the verified token; `undefined` when the request passed unauthenticated. */
  auth?: AuthInfo;
}
interface DefaultUserProperty {
  /** Set by `jwtAuth()`: what `resolveUser` returned, or the token payload. */
  user?: Express.User;
}

// Tuples: `never` (declared `false`) must not match 'auth' by vacuous assignability.
type AuthProperty = [AuthName] extends ['auth'] ? ([AuthName] extends [never] ? unknown : DefaultAuthProperty) : { [K in AuthName]?: AuthInfo };
type UserProperty = [UserName] extends ['user'] ? ([UserName] extends [never] ? unknown : DefaultUserProperty) : { [K in UserName]?: Express.User };

/** What `jwtAuth()` adds to Express's `Request`, under the names of {@link JwtAuthProperties}. */
export type JwtAuthRequestProperties = AuthProperty &
  UserProperty & {
    /** Set by `jwtAuth({ passthrough: true })`: why the request goes on unauthenticated. */
    authError?: AuthError;
  };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The authenticated user: augment it with your user's fields (the Passport convention). */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User {}
    // A base type, not members: a member of another declaration (Passport's `user`) may repeat it.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Request extends JwtAuthRequestProperties {}
  }
}

/**
 * Names a request already carries, or that Express, Node or the middleware `jwtAuth` reads from
 * set: attaching the result there would break the app or the check (`req.headers`, `req.body`).
 * Names on `IncomingMessage.prototype` (its methods, getters, `constructor`, `__proto__`) are
 * refused as well.
 */
const TAKEN = new Set([
  // Express 4 and 5 (request.js, router, init middleware).
  'app',
  'baseUrl',
  'body',
  'cookies',
  'fresh',
  'host',
  'hostname',
  'ip',
  'ips',
  'method',
  'originalUrl',
  'params',
  'path',
  'protocol',
  'query',
  'res',
  'next',
  'route',
  'secure',
  'signedCookies',
  'stale',
  'subdomains',
  'xhr',
  'accepts',
  'acceptsCharsets',
  'acceptsEncodings',
  'acceptsLanguages',
  'get',
  'header',
  'is',
  'range',
  'param',
  '_parsedUrl',
  '_parsedOriginalUrl',
  // Node's IncomingMessage instance fields.
  'url',
  'socket',
  'connection',
  'client',
  'rawHeaders',
  'rawTrailers',
  'httpVersion',
  'httpVersionMajor',
  'httpVersionMinor',
  'complete',
  'aborted',
  'statusCode',
  'statusMessage',
  'upgrade',
  // cookie-parser's secret, read for signed cookies; the passthrough reason.
  'secret',
  'authError',
  'prototype',
]);

/**
 * The fields Node sets on each request object (`_readableState`, `joinDuplicateHeaders`, …), read
 * from a real one so that a Node release adding one is covered. Names starting with `_` are
 * refused too: Node, Express and body parsers keep their state there (`_body`, `_parsedUrl`).
 */
const INSTANCE_FIELDS = new Set(Object.keys(new IncomingMessage(new Socket())));

const NAME = /^[A-Za-z_$][\w$]*$/;

function checkName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(
      `jwtAuth: "${option}" must be a property name such as "jwt" (letters, digits, _ and $; not a path like "auth.payload"), got ${JSON.stringify(name)}.`,
    );
  }
  if (TAKEN.has(name) || name in IncomingMessage.prototype || INSTANCE_FIELDS.has(name) || name.startsWith('_')) {
    throw new TypeError(`jwtAuth: "${option}" cannot be "${name}": Express, Node or another middleware uses req.${name}. Choose another name, such as "jwt".`);
  }
  return name;
}

/** Checks the `requestProperty` and `userProperty` options at creation. */
export function propertyNames(requestProperty: unknown = 'auth', userProperty: unknown = 'user'): { auth: string; user: string } {
  const auth = checkName('requestProperty', requestProperty);
  const user = checkName('userProperty', userProperty);
  if (auth === user) throw new TypeError(`jwtAuth: "requestProperty" and "userProperty" are both "${auth}"; give them different names.`);
  return { auth, user };
}
