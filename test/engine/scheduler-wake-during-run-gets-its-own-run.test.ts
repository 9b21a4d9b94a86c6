/**
 * A watch wake-up (`trigger()`) that arrives while the scheduler's run is in flight is not folded
 * into that run: the engine's `sync()` would share the running sync, whose pull may already have
 * passed the announced bundle. It gets one run of its own once the first ends (several wake-ups
 * during one run: one more run); after a failed run, the backoff run is the next one.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SyncScheduler } from '../../worker/engine/scheduler.ts';
import type { EngineClock } from '../../worker/engine/index.ts';

const clock: EngineClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => 0.5,
};

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A run that stays in flight until released, and whether it fails. */
function controlledRuns(): { run: () => Promise<void>; started: number; release(fail?: boolean): void } {
  const state = { started: 0, release: (_fail?: boolean) => {} };
  return {
    run: () =>
      new Promise<void>((resolve, reject) => {
        state.started++;
        state.release = (fail) => (fail ? reject(new Error('down')) : resolve());
      }),
    get started() {
      return state.started;
    },
    release: (fail) => state.release(fail),
  };
}

it('runs again after the run in flight when wake-ups came during it (once for several)', async () => {
  const c = controlledRuns();
  const s = new SyncScheduler(clock, c.run, () => true, { debounceMs: 50, intervalMs: 0, backoffMinMs: 1000, backoffMaxMs: 60_000 });
  s.trigger();
  await vi.advanceTimersByTimeAsync(0);
  expect(c.started).toBe(1);
  s.trigger();
  s.trigger();
  await vi.advanceTimersByTimeAsync(0);
  expect(c.started).toBe(1); // not joined to the run in flight
  c.release();
  await vi.advanceTimersByTimeAsync(0);
  expect(c.started).toBe(2);
  c.release();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(c.started).toBe(2);
  s.stop();
});

it('after a failed run, the backoff run is the next one', async () => {
  const c = controlledRuns();
  const s = new SyncScheduler(clock, c.run, () => true, { debounceMs: 50, intervalMs: 0, backoffMinMs: 1000, backoffMaxMs: 60_000 });
  s.trigger();
  await vi.advanceTimersByTimeAsync(0);
  s.trigger();
  await vi.advanceTimersByTimeAsync(0);
  c.release(true);
  await vi.advanceTimersByTimeAsync(0);
  expect(c.started).toBe(1);
  await vi.advanceTimersByTimeAsync(1000); // backoffDelay(1, 1000, …) with jitter 0.5 → 1000 ms
  expect(c.started).toBe(2);
  c.release();
  s.stop();
});
