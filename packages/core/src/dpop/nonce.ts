import { toSeconds, type Duration } from '../duration.js';
import { base64url } from 'jose';

/** Server nonces for DPoP proofs (RFC 9449 §9), from {@link createDpopNonces}. */
export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(now: number): Promise<string>;
  /** Whether a nonce a proof carries is one this server handed out recently. */
  isValid(nonce: string, now: number): Promise<boolean>;
}

/** Options of {@link createDpopNonces}. */
export interface DpopNonceOptions {
  /** At least 32 bytes (or characters), shared by every process that must accept the same nonces. */
  secret: string | Uint8Array;
  /** How long a nonce is handed out for; it is accepted for twice as long. Default `"5m"`. */
  lifetime?: Duration;
}

const encoder = new TextEncoder();

/**
 * Stateless server nonces: a nonce is the current time window and its HMAC-SHA256 under
 * `secret`, so every process that shares the secret accepts the nonces of the others without a
 * store. A nonce is good for the window it was made in and the next one, so a client that got one
 * just before a window ends is not refused at once.
 */
export function createDpopNonces(options: DpopNonceOptions): DpopNonces {
  if (typeof options !== 'object' || options === null) throw new TypeError('createDpopNonces: pass { secret }, a secret of at least 32 bytes.');
  const secret = typeof options.secret === 'string' ? encoder.encode(options.secret) : options.secret;
  if (!(secret instanceof Uint8Array) || secret.length < 32) {
    throw new TypeError('createDpopNonces: "secret" must be a string or Uint8Array of at least 32 bytes.');
  }
  const lifetime = toSeconds(options.lifetime ?? '5m');
  if (lifetime === undefined || lifetime < 1) throw new TypeError('createDpopNonces: "lifetime" must be a duration of at least one second, such as "5m".');
  // A copy: the caller's array may change, and Web Crypto wants an ArrayBuffer-backed view.
  const key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const made = new Map<number, string>();

  async function nonceOf(window: number): Promise<string> {
    let nonce = made.get(window);
    if (nonce === undefined) {
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(`dpop-nonce:${window}`)));
      nonce = `${window.toString(36)}.${base64url.encode(mac)}`;
      // Only the current and previous windows are ever asked for.
      if (made.size >= 4) made.clear();
      made.set(window, nonce);
    }
    return nonce;
  }
  const windowAt = (now: number) => Math.floor(now / lifetime);

  return {
    current: (now) => nonceOf(windowAt(now)),
    async isValid(nonce, now) {
      if (typeof nonce !== 'string' || nonce.length > 64) return false;
      const window = windowAt(now);
      return nonce === (await nonceOf(window)) || nonce === (await nonceOf(window - 1));
    },
  };
}
