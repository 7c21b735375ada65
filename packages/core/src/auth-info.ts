import type { AuthErrorCode, DpopChallenge } from './errors.js';
import type { Emit } from './events.js';
import type { JWSHeaderParameters, JWTPayload } from 'jose';

/** What a successful authentication attaches to the request as `auth`. */
export interface AuthInfo<Payload extends JWTPayload = JWTPayload> {
  /** The raw compact JWT. */
  token: string;
  /** The verified protected header. */
  header: JWSHeaderParameters;
  /** The verified claims. */
  payload: Payload;
  /** Scopes granted, from the first `scopeClaim` the token has (default `scope`, then `scp`), without repeats. */
  scopes: string[];
  /**
   * Set when the request was authenticated with `Authorization: DPoP` and a proof (the `dpop`
   * option): `jkt` is the RFC 7638 thumbprint of the proof's key, the token's `cnf.jkt`.
   */
  dpop?: {
    /** The thumbprint of the key the request proved it holds. */
    jkt: string;
  };
}

/** Settings of the `jwtAuth()` that authenticated a request, which its guards follow too. */
export interface AuthSettings {
  realm: string | undefined;
  /** `resource_metadata` of every challenge, with the `resource` option. */
  resourceMetadata: string | undefined;
  forwardErrors: boolean;
  /** The `onEvent` hook, wrapped; guard refusals are reported too. */
  emit: Emit | undefined;
  /** The `messages` option: guard refusals use these descriptions too. */
  messages: Readonly<Partial<Record<AuthErrorCode, string>>>;
  /** With the `dpop` option: what the challenges say of DPoP (the scheme is the request's). */
  dpop: Omit<DpopChallenge, 'scheme' | 'nonce'> | undefined;
}

/** Hidden on every {@link AuthInfo}; `Symbol.for` so ESM and CJS copies of core agree. */
const SETTINGS = Symbol.for('@jwtauth/core.settings');
const DEFAULT_SETTINGS: AuthSettings = { realm: undefined, resourceMetadata: undefined, forwardErrors: false, emit: undefined, messages: {}, dpop: undefined };

/**
 * Hides the settings on what the authenticator attaches to a request: its `auth`, or the
 * `authError` that `passthrough` let through, so that guards answer as the authenticator would.
 */
export function attachSettings(carrier: object, settings: AuthSettings): void {
  Object.defineProperty(carrier, SETTINGS, { value: settings, enumerable: false });
}

/**
 * Makes the `auth` objects of one authenticator: plain data whose prototype (one per
 * authenticator) holds the hidden settings, so that nothing is defined on each request's object
 * (`Object.defineProperty` per request costs more than building the object).
 */
export function authInfoMaker(
  settings: AuthSettings,
): <Payload extends JWTPayload>(token: string, header: JWSHeaderParameters, payload: Payload, scopes: string[], jkt?: string) => AuthInfo<Payload> {
  const withSettings: object = Object.defineProperty({}, SETTINGS, { value: settings, enumerable: false });
  return (token, header, payload, scopes, jkt) => {
    const auth = Object.create(withSettings) as AuthInfo<typeof payload>;
    auth.token = token;
    auth.header = header;
    auth.payload = payload;
    auth.scopes = scopes;
    if (jkt !== undefined) auth.dpop = { jkt };
    return auth;
  };
}

export function settingsOf(carrier: object | undefined): AuthSettings {
  return (carrier as { [SETTINGS]?: AuthSettings } | undefined)?.[SETTINGS] ?? DEFAULT_SETTINGS;
}
