import type { AuthError, AuthInfo, JWTPayload } from '@jwtauth/core';

/**
 * The names under which `jwtAuth()` sets its variables (the `variables` option), each optional:
 * `{ auth: 'token', user: 'account' }` makes handlers read `c.get('token')` and `c.get('account')`.
 */
export interface VariableNames {
  /** Where the verified token (`AuthInfo`) goes. Default `'auth'`. */
  readonly auth?: string;
  /** Where the user (what `resolveUser` returned, or the payload) goes. Default `'user'`. */
  readonly user?: string;
  /** Where the reason of a failure let through by `passthrough` goes. Default `'authError'`. */
  readonly authError?: string;
}

/** No renames: `c.get('auth')`, `c.get('user')` and `c.get('authError')`. */
export interface DefaultVariableNames {
  /** The verified token is `c.get('auth')`. */
  readonly auth?: 'auth';
  /** The user is `c.get('user')`. */
  readonly user?: 'user';
  /** The failure `passthrough` let through is `c.get('authError')`. */
  readonly authError?: 'authError';
}

/** The variables, under their default names. */
interface Variables<Payload extends JWTPayload, User> {
  /** The verified token; `undefined` when the request passed unauthenticated. */
  auth: AuthInfo<Payload> | undefined;
  /** What `resolveUser` returned, or the token payload. */
  user: User | undefined;
  /** Set with `passthrough: true`: why the request goes on unauthenticated. */
  authError: AuthError | undefined;
}

/** The name `Names` gives `Key`, or `Key` itself. */
type NameOf<Names, Key extends string> = Names extends { readonly [K in Key]: infer Name extends string } ? Name : Key;

/**
 * The variables `jwtAuth()` sets: `c.get('auth')`, `c.get('user')` and `c.get('authError')`, or
 * the names given in the `variables` option (`JwtAuthVariables<Payload, User, { user: 'account' }>`).
 */
export type JwtAuthVariables<Payload extends JWTPayload = JWTPayload, User = Payload, Names extends VariableNames = DefaultVariableNames> = {
  [Key in keyof Variables<Payload, User> as NameOf<Names, Key>]: Variables<Payload, User>[Key];
};

const DEFAULTS = { auth: 'auth', user: 'user', authError: 'authError' } as const;
type Key = keyof typeof DEFAULTS;

/** Checks the `variables` option at creation and gives the three names to set. */
export function variableNames(option: unknown): Record<Key, string> {
  if (option === undefined) return DEFAULTS;
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new TypeError('jwtAuth: "variables" names the Hono variables to set, e.g. { auth: "token", user: "account" }.');
  }
  const names: Record<Key, string> = { ...DEFAULTS };
  for (const [key, name] of Object.entries(option)) {
    if (!Object.hasOwn(DEFAULTS, key)) {
      throw new TypeError(`jwtAuth: variables.${key} is not a variable jwtAuth sets; rename auth, user or authError.`);
    }
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`jwtAuth: variables.${key} must be a non-empty string, the name your handlers pass to c.get().`);
    }
    names[key as Key] = name;
  }
  const keys = Object.keys(names) as Key[];
  for (const [i, key] of keys.entries()) {
    const other = keys.slice(i + 1).find((k) => names[k] === names[key]);
    if (other !== undefined) {
      throw new TypeError(`jwtAuth: variables.${key} and variables.${other} are both ${JSON.stringify(names[key])}; give each its own name.`);
    }
  }
  return names;
}
