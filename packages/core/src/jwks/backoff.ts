import type { KeysUnavailable } from './fetch-document.js';

/**
 * How long to leave a failing server alone. The first wait is short (an eighth of `max`), so a
 * blip costs little and service comes back soon after the server does; each further failure in
 * a row doubles it, up to `max`, so a long outage costs the server one request per `max`.
 */
export class Backoff {
  readonly #max: number;
  #failures = 0;
  #retryAt = 0;
  /** The failure that started the current wait, for messages and `cause`. */
  lastError: KeysUnavailable | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  /** Records a failure and starts the wait. */
  failed(error: KeysUnavailable): void {
    this.#failures += 1;
    this.lastError = error;
    const delay = Math.min(this.#max, (this.#max / 8) * 2 ** (this.#failures - 1));
    this.#retryAt = Date.now() + delay;
  }

  /** Records a success: the next failure waits the shortest time again. */
  succeeded(): void {
    this.#failures = 0;
    this.#retryAt = 0;
    this.lastError = undefined;
  }

  /** True while no new try should be made. */
  waiting(): boolean {
    return Date.now() < this.#retryAt;
  }

  /** Milliseconds until the next try may be made. */
  remaining(): number {
    return Math.max(0, this.#retryAt - Date.now());
  }
}
