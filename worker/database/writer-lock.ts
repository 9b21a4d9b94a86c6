/**
 * The one-writer rule across awaits: an interactive transaction and a sync operation each hold
 * this lock for their whole duration, so neither writes inside the other. Group-commit writes do
 * not take it (they never span an await); an interactive transaction holds them back itself.
 * First come, first served.
 */

/** A FIFO asynchronous mutex. */
export class WriterLock {
  #held = false;
  readonly #waiting: Array<() => void> = [];

  /** Resolves with the release function once the lock is this caller's. */
  acquire(): Promise<() => void> {
    return new Promise((granted) => {
      const grant = (): void => {
        this.#held = true;
        let released = false;
        granted(() => {
          if (released) return;
          released = true;
          this.#handOver();
        });
      };
      if (this.#held) this.#waiting.push(grant);
      else grant();
    });
  }

  #handOver(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}
