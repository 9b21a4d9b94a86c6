/**
 * The watch loop of auto-sync: bundle events from the watch stream (watch-stream.ts) wake a sync;
 * while the stream is healthy the periodic run is suppressed unless local changes are pending
 * (the stream is authoritative for wake-ups). When the stream ends or fails: one sync (awaited,
 * so the reconnect uses the fresh checkpoint), exponential backoff, reconnect. A healthy connect
 * resets the backoff. 403 `bundle_change_watch_forbidden`, an unsupported server and
 * `auth_required` stop the loop (periodic runs then poll).
 */
import type { EngineContext } from './context.ts';
import { SyncError } from './errors.ts';
import { fetchCapabilities } from './lifecycle.ts';
import { readAttachment } from './metadata.ts';
import { backoffDelay } from './scheduler.ts';
import { watchOnce } from './watch-stream.ts';

/** What the loop needs from its engine. */
export interface WatchLoopHost {
  /** False stops the loop (for example while auth is required). */
  mayWatch(): boolean;
  /** A bundle event arrived. */
  remoteChange(): void;
  /** The stream broke: one sync now if the scheduler allows it, settled (never throws). */
  catchUp(): Promise<void>;
}

/** One engine's watch loop; at most one stream at a time. */
export class WatchLoop {
  #abort: AbortController | null = null;
  #connected = false;

  readonly #ctx: EngineContext;
  readonly #host: WatchLoopHost;

  constructor(ctx: EngineContext, host: WatchLoopHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  /** True while a stream is connected and healthy. */
  get healthy(): boolean {
    return this.#connected;
  }

  /** Starts the loop unless it runs already. */
  start(): void {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    void this.#run(abort);
  }

  /** Stops the loop and its stream. */
  stop(): void {
    this.#abort?.abort();
    this.#abort = null;
  }

  async #run(abort: AbortController): Promise<void> {
    const ctx = this.#ctx;
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        if (readAttachment(ctx.db).bindingState !== 'attached' || !this.#host.mayWatch()) break;
        if (!ctx.capabilities) await fetchCapabilities(ctx);
        if (ctx.capabilities?.features.bundle_change_watch !== true) break;
        await watchOnce(
          ctx.transport,
          readAttachment(ctx.db).lastBundleSeqSeen,
          abort.signal,
          () => this.#host.remoteChange(),
          () => {
            failures = 0;
            this.#connected = true;
          },
        );
      } catch (e) {
        if (abort.signal.aborted) break;
        if (e instanceof SyncError && (e.code === 'bundle_change_watch_forbidden' || e.code === 'auth_required')) break;
      } finally {
        this.#connected = false;
      }
      if (abort.signal.aborted) break;
      // Catch up on whatever the broken stream may have missed, then reconnect from there.
      await this.#host.catchUp();
      failures++;
      try {
        await ctx.clock.sleep(backoffDelay(failures, 1000, 60_000, ctx.clock.random), abort.signal);
      } catch {
        break;
      }
    }
    if (this.#abort === abort) this.#abort = null;
  }
}
