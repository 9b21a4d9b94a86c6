/**
 * Automatic sync scheduling: a debounced run after local writes, an immediate run when the app
 * comes online, a periodic run, and exponential backoff with jitter after failures. Runs go
 * through the engine's single-flight `sync()`, so triggers that pile up share one run. Time comes
 * from the injected clock, so tests drive it with fake timers.
 */
import type { EngineClock } from './types.ts';

/** Scheduler tuning. */
interface SchedulerOptions {
  debounceMs: number;
  /** 0 disables the periodic run. */
  intervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/** Exponential backoff delay with ±25% jitter for the n-th consecutive failure (n ≥ 1). */
export function backoffDelay(n: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, n - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Drives `run` from writes, connectivity, an interval and failures. */
export class SyncScheduler {
  #timer: unknown = null;
  #dueAt = Infinity;
  /** A run is queued as a microtask (a delay of 0: no timer task to wait for). */
  #soon = false;
  #interval: unknown = null;
  #failures = 0;
  #stopped = false;
  #running = false;
  #again = false;

  readonly #clock: EngineClock;
  readonly #run: () => Promise<unknown>;
  readonly #canRun: () => boolean;
  readonly #opts: SchedulerOptions;
  readonly #intervalWanted: () => boolean;

  constructor(
    clock: EngineClock,
    run: () => Promise<unknown>,
    canRun: () => boolean,
    opts: SchedulerOptions,
    /** Whether a periodic tick has work to do (e.g. false while a healthy watch stream is open). */
    intervalWanted: () => boolean = () => true,
  ) {
    this.#clock = clock;
    this.#run = run;
    this.#canRun = canRun;
    this.#opts = opts;
    this.#intervalWanted = intervalWanted;
  }

  /** True when a run would be allowed right now. */
  canRunNow(): boolean {
    return !this.#stopped && this.#canRun();
  }

  /** Starts the periodic run. */
  start(): void {
    if (this.#opts.intervalMs > 0) this.#armInterval();
  }

  /** A local write committed: run after the debounce window (restarting it). */
  notifyWrite(): void {
    this.#schedule(this.#opts.debounceMs, true);
  }

  /** Run as soon as possible (online, watch wake-up). */
  trigger(): void {
    this.#schedule(0, false);
  }

  /** Stops every timer. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    if (this.#interval !== null) this.#clock.clearTimeout(this.#interval);
    this.#timer = null;
    this.#interval = null;
  }

  /** Consecutive failures so far (for status/tests). */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  #armInterval(): void {
    if (this.#stopped) return;
    this.#interval = this.#clock.setTimeout(() => {
      this.#interval = null;
      if (this.#intervalWanted()) this.#schedule(0, false);
      this.#armInterval();
    }, this.#opts.intervalMs);
  }

  #schedule(delayMs: number, restart: boolean): void {
    if (this.#stopped || this.#soon) return;
    if (delayMs <= 0 && !restart) {
      // A watch wake-up is on the live path: a timer task waits behind whatever the worker has
      // queued (~1 ms on a busy device); a microtask runs right after the current task's code, and
      // still folds several wake-ups of one task into one run. A write (even with debounce 0)
      // keeps its timer: the write's own answer goes out before its push starts.
      if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
      this.#dueAt = Infinity;
      this.#soon = true;
      queueMicrotask(() => {
        this.#soon = false;
        void this.#fire();
      });
      return;
    }
    const due = this.#clock.now() + delayMs;
    if (this.#timer !== null) {
      if (!restart && due >= this.#dueAt) return; // an earlier run is already planned
      this.#clock.clearTimeout(this.#timer);
    }
    this.#dueAt = due;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#dueAt = Infinity;
      void this.#fire();
    }, delayMs);
  }

  /**
   * Runs once. A wake-up that comes while this scheduler's run is in flight gets a run of its
   * own afterwards: calling `run` now would join the run in flight (the engine's `sync()` shares
   * a running sync when no local write came since), whose pull may already have passed the
   * bundle the wake-up announced, and the device would stay behind until the next event.
   */
  async #fire(): Promise<void> {
    if (this.#stopped || !this.#canRun()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    let failed = false;
    try {
      await this.#run();
      this.#failures = 0;
    } catch {
      failed = true;
      this.#failures++;
      if (!this.#stopped && this.#canRun()) {
        this.#schedule(backoffDelay(this.#failures, this.#opts.backoffMinMs, this.#opts.backoffMaxMs, this.#clock.random), false);
      }
    } finally {
      this.#running = false;
      const again = this.#again;
      this.#again = false;
      if (again && !failed) this.#schedule(0, false); // after a failure the backoff run is the next one
    }
  }
}
