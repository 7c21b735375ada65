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
  /** Scopes from the `scope` claim (space-separated) or the `scp` claim (array). */
  scopes: string[];
}

/** Settings of the `jwtAuth()` that authenticated a request, which its guards follow too. */
export interface AuthSettings {
  realm: string | undefined;
  forwardErrors: boolean;
  /** The `onEvent` hook, wrapped; guard refusals are reported too. */
  emit: Emit | undefined;
}

/** Hidden on every {@link AuthInfo}; `Symbol.for` so ESM and CJS copies of core agree. */
const SETTINGS = Symbol.for('@jwtauth/core.settings');
const DEFAULT_SETTINGS: AuthSettings = { realm: undefined, forwardErrors: false, emit: undefined };

export function attachSettings(auth: AuthInfo, settings: AuthSettings): void {
  Object.defineProperty(auth, SETTINGS, { value: settings, enumerable: false });
}

export function settingsOf(auth: AuthInfo | undefined): AuthSettings {
  return (auth as { [SETTINGS]?: AuthSettings } | undefined)?.[SETTINGS] ?? DEFAULT_SETTINGS;
}
