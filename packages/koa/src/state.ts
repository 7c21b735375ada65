import type { AuthError, AuthInfo, JWTPayload } from '@jwtauth/core';

/** The default names, documented once here; {@link JwtAuthState} renames them. */
interface StateProperties<Payload extends JWTPayload, User> {
  /** The verified token; `undefined` when the request passed unauthenticated. */
  auth?: AuthInfo<Payload>;
  /** What `resolveUser` returned, or the token payload. */
  user?: User;
  /** Set with `passthrough: true`: why the request goes on unauthenticated. */
  authError?: AuthError;
}

/**
 * What `jwtAuth()` adds to `ctx.state`: `auth`, `user` and `authError`, with `user` and `auth`
 * under the names given by the `key` and `authKey` options (`UserKey`, `AuthKey`).
 */
export type JwtAuthState<Payload extends JWTPayload = JWTPayload, User = Payload, UserKey extends string = 'user', AuthKey extends string = 'auth'> = {
  // Homomorphic, so each property keeps its optionality and its documentation when renamed.
  [Name in keyof StateProperties<Payload, User> as Name extends 'user' ? UserKey : Name extends 'auth' ? AuthKey : Name]: StateProperties<Payload, User>[Name];
};

/** The Koa adapter's own options: where the result lands in `ctx.state`. */
export interface StateKeyOptions<UserKey extends string = 'user', AuthKey extends string = 'auth'> {
  /** The `ctx.state` property of the user (koa-jwt's `key`). Default `'user'`. */
  key?: UserKey;
  /** The `ctx.state` property of the `AuthInfo` (`{ token, header, payload, scopes }`). Default `'auth'`. */
  authKey?: AuthKey;
}

/** The checked names: where `jwtAuth()` puts the user, the auth and the passthrough error. */
export interface StateKeys {
  user: string;
  auth: string;
}

/** A property name `ctx.state.<name>` can be written with. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** koa-jwt options with another name or shape here, and what to write instead. */
const KOA_JWT: ReadonlyMap<string, string> = new Map([
  ['tokenKey', 'the raw token is already ctx.state.auth.token (under authKey when renamed)'],
  ['cookie', 'read a cookie with tokenFrom: { cookie: "<name>" }'],
  ['debug', 'error descriptions are fixed texts; onEvent tells you the reason of each failure'],
]);

function stateKey(option: 'key' | 'authKey', value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    const hint = option === 'key' ? ' (the verification key is "secret")' : '';
    throw new TypeError(`jwtAuth: "${option}" names a ctx.state property, such as "${fallback}": letters, digits, _ and $, not starting with a digit${hint}.`);
  }
  // Assigning `__proto__` would replace the prototype of ctx.state; the other names would shadow
  // methods every object is expected to have.
  if (value in Object.prototype) throw new TypeError(`jwtAuth: "${option}" cannot be "${value}", a property every object inherits: choose another name.`);
  return value;
}

/**
 * Checks the adapter's own options at creation and returns them apart from the core options.
 * Throws a `TypeError` for a name that is unsafe or taken twice, and for koa-jwt's option names
 * and `isRevoked` signature, which would otherwise fail later or, for `isRevoked`, silently.
 */
export function splitStateKeys<Options extends StateKeyOptions<string, string> & { isRevoked?: unknown }>(
  options: Options,
): [StateKeys, Omit<Options, 'key' | 'authKey'>] {
  // Core says what is wrong with options that are no object.
  if (typeof options !== 'object' || options === null) return [{ user: 'user', auth: 'auth' }, options];
  for (const [name, instead] of KOA_JWT) {
    if (Object.hasOwn(options, name)) throw new TypeError(`jwtAuth: "${name}" is a koa-jwt option: ${instead}.`);
  }
  // koa-jwt calls isRevoked(ctx, decodedToken, token): such a function would read the header as
  // the payload here and let a revoked token through. Ours takes two parameters.
  if (typeof options.isRevoked === 'function' && options.isRevoked.length > 2) {
    throw new TypeError('jwtAuth: "isRevoked" receives (payload, header), not koa-jwt\'s (ctx, decodedToken, token): rewrite it as (payload) => boolean.');
  }
  const { key, authKey, ...core } = options;
  const keys = { user: stateKey('key', key, 'user'), auth: stateKey('authKey', authKey, 'auth') };
  const taken = [keys.user, keys.auth, 'authError'];
  if (new Set(taken).size !== taken.length) {
    throw new TypeError(`jwtAuth: "key" ("${keys.user}") and "authKey" ("${keys.auth}") must differ from each other and from "authError".`);
  }
  return [keys, core];
}
