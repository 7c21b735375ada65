/** Gives back a slot taken with {@link Semaphore.acquire}; calling it again does nothing. */
export type Release = () => void;

/**
 * At most `concurrency` holders at once, and at most `queueLimit` waiting for a slot, served in
 * arrival order. It bounds the password checks of the login endpoint: a flood of logins then waits
 * here (or is refused) instead of taking every thread that token verification needs.
 */
export class Semaphore {
  #active = 0;
  readonly #waiting: Array<(release: Release) => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  /** A slot, when one is free or frees up; `undefined` at once when the queue is full. */
  acquire(): Promise<Release> | undefined {
    if (this.#active < this.concurrency) {
      this.#active += 1;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.queueLimit) return undefined;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so `#active` never dips and lets a newcomer jump the queue.
      if (next === undefined) this.#active -= 1;
      else next(this.#releaser());
    };
  }
}
