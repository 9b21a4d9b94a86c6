/**
 * A `fetch` that injects transport faults between a device and the server, decided by a seeded
 * random source: a request dropped before it is sent, a response lost after the server handled
 * it (e.g. a commit that did commit), a 503 the server never sent, a request sent twice (the
 * second answer returned), and small delays. Switched off with `enabled = false` (the final
 * settling phase of a chaos run). Counts what it injected.
 */
export type FaultKind = 'drop' | 'lost_response' | 'unavailable' | 'duplicate' | 'delay';

export class FaultyFetch {
  enabled = true;
  readonly injected: Record<FaultKind, number> = { drop: 0, lost_response: 0, unavailable: 0, duplicate: 0, delay: 0 };

  constructor(
    private readonly random: () => number,
    /** Probability that a request meets a fault (other than a delay). */
    private readonly rate: number,
  ) {}

  readonly fetch: typeof fetch = async (input, init) => {
    if (!this.enabled) return fetch(input, init);
    const r = this.random();
    // Watch streams are not used by chaos devices; every request is a short exchange.
    if (r < this.rate * 0.25) {
      this.injected.drop++;
      throw new TypeError('chaos: request dropped before it was sent');
    }
    if (r < this.rate * 0.5) {
      this.injected.lost_response++;
      const res = await fetch(input, init);
      await res.arrayBuffer().catch(() => undefined);
      throw new TypeError('chaos: connection lost before the response arrived');
    }
    if (r < this.rate * 0.75) {
      this.injected.unavailable++;
      return new Response(JSON.stringify({ error: 'chaos_unavailable', message: 'injected 503' }), {
        status: 503,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (r < this.rate) {
      this.injected.duplicate++;
      const first = await fetch(input, init);
      await first.arrayBuffer().catch(() => undefined);
      return fetch(input, init);
    }
    if (r < this.rate + 0.1) {
      this.injected.delay++;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(this.random() * 20)));
    }
    return fetch(input, init);
  };
}
