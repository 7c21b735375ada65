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

/** Hidden on every {@link AuthInfo} so guards can build a challenge with the same realm. */
const REALM = Symbol.for('@jwtauth/core.realm');

export function attachRealm(auth: AuthInfo, realm: string | undefined): void {
  Object.defineProperty(auth, REALM, { value: realm, enumerable: false });
}

export function realmOf(auth: AuthInfo | undefined): string | undefined {
  return (auth as { [REALM]?: string } | undefined)?.[REALM];
}
