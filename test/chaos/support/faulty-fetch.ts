/**
 * A `fetch` that injects transport faults between a device and the server, decided by a seeded
 * random source: a request dropped before it is sent, a response lost after the server handled
 * it (e.g. a commit that did commit), a response body cut off mid-stream, a 503 the server never
 * sent, a request sent twice (the second answer returned), and small delays. Switched off with
 * `enabled = false` (the final settling phase of a chaos run). Counts what it injected.
 * `intercept` lets a chaos run place a process fault at a request (a server kill while a commit is
 * in flight, a leader crash after a response arrived); it sees every request while set.
 */
export type FaultKind = 'drop' | 'lost_response' | 'cut_body' | 'unavailable' | 'duplicate' | 'delay';

/** Sees one request: `send` performs it for real. */
export type FetchIntercept = (url: string, init: RequestInit | undefined, send: () => Promise<Response>) => Promise<Response>;

export class FaultyFetch {
  enabled = true;
  intercept: FetchIntercept | null = null;
  readonly injected: Record<FaultKind, number> = { drop: 0, lost_response: 0, cut_body: 0, unavailable: 0, duplicate: 0, delay: 0 };

  constructor(
    private readonly random: () => number,
    /** Probability that a request meets a fault (other than a delay). */
    private readonly rate: number,
  ) {}

  readonly fetch: typeof fetch = async (input, init) => {
    if (!this.enabled) return fetch(input, init);
    if (this.intercept) return this.intercept(String(input instanceof Request ? input.url : input), init, () => fetch(input, init));
    const r = this.random();
    // Watch streams are not used by chaos devices; every request is a short exchange.
    if (r < this.rate * 0.2) {
      this.injected.drop++;
      throw new TypeError('chaos: request dropped before it was sent');
    }
    if (r < this.rate * 0.4) {
      this.injected.lost_response++;
      const res = await fetch(input, init);
      await res.arrayBuffer().catch(() => undefined);
      throw new TypeError('chaos: connection lost before the response arrived');
    }
    if (r < this.rate * 0.55) {
      // The status line and half the body arrive, then the connection drops.
      this.injected.cut_body++;
      const res = await fetch(input, init);
      const body = new Uint8Array(await res.arrayBuffer());
      const half = body.subarray(0, Math.floor(body.length / 2));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          if (half.length) controller.enqueue(half);
          controller.error(new TypeError('chaos: connection cut mid-body'));
        },
      });
      return new Response(stream, { status: res.status, headers: res.headers });
    }
    if (r < this.rate * 0.8) {
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
