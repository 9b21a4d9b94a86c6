/**
 * The body of one `GET /sync/watch` response: an SSE stream of `event: bundle` frames (metadata
 * wake-up hints, coalesced under backpressure to the newest one) and `: heartbeat` comments.
 */
import type { WatchBundleEvent } from '../../protocol/wire.ts';
import type { BundleChangeHub } from './bundle-change-hub.ts';

const encoder = new TextEncoder();

/** One SSE `bundle` frame. */
export function bundleEventFrame(event: WatchBundleEvent): string {
  return `event: bundle\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The heartbeat comment frame. */
export const HEARTBEAT_FRAME = ': heartbeat\n\n';

/** Parameters of one watch stream. */
interface WatchStreamOptions {
  hub: BundleChangeHub;
  userId: string;
  afterBundleSeq: number;
  heartbeatMs: number;
  /** Reads the user's latest bundle_seq (after subscribing, so nothing falls in between). */
  readLatest: () => Promise<number>;
  /** Registers a closer the server calls at shutdown; returns its deregistration. */
  registerCloser: (close: () => void) => () => void;
}

/** Opens the stream: subscribes, then emits a catch-up event when the user is already ahead of `after`. */
export async function openWatchStream(o: WatchStreamOptions): Promise<ReadableStream<Uint8Array>> {
  let lastDelivered = o.afterBundleSeq;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: WatchBundleEvent | null = null;
  let ready = false;
  let closed = false;
  const early: WatchBundleEvent[] = [];

  const deliver = (event: WatchBundleEvent) => {
    if (closed || event.bundle_seq <= lastDelivered) return;
    if ((controller.desiredSize ?? 1) > 0) {
      lastDelivered = event.bundle_seq;
      controller.enqueue(encoder.encode(bundleEventFrame(event)));
    } else {
      pending = event; // slow reader: keep only the newest hint
    }
  };
  const unsubscribe = o.hub.subscribe(o.userId, (event) => (ready ? deliver(event) : early.push(event)));
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let deregister = () => {};
  const cleanup = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (heartbeat) clearInterval(heartbeat);
    deregister();
  };
  let latest: number;
  try {
    latest = await o.readLatest();
  } catch (err) {
    unsubscribe();
    throw err;
  }
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (latest > lastDelivered) deliver({ bundle_seq: latest });
        ready = true;
        for (const e of early.splice(0)) deliver(e);
        heartbeat = setInterval(() => {
          if (!closed) controller.enqueue(encoder.encode(HEARTBEAT_FRAME));
        }, o.heartbeatMs);
        deregister = o.registerCloser(() => {
          if (closed) return;
          cleanup();
          try {
            controller.close();
          } catch {
            /* already closed */
          }
        });
      },
      pull() {
        if (pending) {
          const e = pending;
          pending = null;
          deliver(e);
        }
      },
      cancel() {
        cleanup();
      },
    },
    { highWaterMark: 8 },
  );
}
