/**
 * A `fetch` for a device that can lose the answer of a request the server did handle: the
 * connection dies after the server's work (a commit done, a lease granted) and the device sees a
 * network failure. Arm it with {@link LostAnswers.loseNext}; it loses one answer, then passes
 * everything through again.
 */
export class LostAnswers {
  #pattern: RegExp | null = null;

  /** Loses the answer of the next request whose URL path matches `pattern` (replaces an armed one). */
  loseNext(pattern: RegExp | null): void {
    this.#pattern = pattern;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (this.#pattern?.test(new URL(String(input)).pathname)) {
      this.#pattern = null;
      await res.text(); // the server did the work; the answer never reaches the device
      throw new TypeError('connection lost');
    }
    return res;
  };
}
