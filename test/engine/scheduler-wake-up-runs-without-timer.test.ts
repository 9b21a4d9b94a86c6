/**
 * A run asked for at once (`trigger()`: a watch wake-up, coming online, the foreground) starts
 * without waiting for a timer task: on a busy worker a timer waits behind everything queued, and a
 * wake-up is on the live path from another device's write to this device's pull. Wake-ups of one
 * task still make one run; a write still waits for its timer, even with debounce 0.
 */
import { expect, it } from 'vitest';
import { SyncScheduler } from '../../worker/engine/scheduler.ts';
import type { EngineClock } from '../../worker/engine/index.ts';

/** A clock whose timers only fire when the test says so. */
function heldClock(): EngineClock & { fireAll(): void; pending(): number } {
  const timers = new Map<number, () => void>();
  let next = 1;
  return {
    now: () => 0,
    sleep: () => new Promise<void>(() => {}),
    setTimeout: (fn) => {
      const id = next++;
      timers.set(id, fn);
      return id;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    random: () => 0.5,
    fireAll() {
      const fns = [...timers.values()];
      timers.clear();
      for (const fn of fns) fn();
    },
    pending: () => timers.size,
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A scheduler on a held clock whose run only counts itself. */
function countingScheduler(debounceMs: number): { s: SyncScheduler; clock: ReturnType<typeof heldClock>; runs: () => number } {
  const clock = heldClock();
  let runs = 0;
  const s = new SyncScheduler(
    clock,
    async () => void runs++,
    () => true,
    { debounceMs, intervalMs: 0, backoffMinMs: 1000, backoffMaxMs: 60_000 },
  );
  return { s, clock, runs: () => runs };
}

it('trigger() runs within the same task, with no timer task in between', async () => {
  const { s, clock, runs } = countingScheduler(0);
  s.trigger();
  await settle();
  expect(runs()).toBe(1);
  expect(clock.pending()).toBe(0);
  s.stop();
});

it('several wake-ups in one task make one run, and a pending debounce is folded into it', async () => {
  const { s, clock, runs } = countingScheduler(500);
  s.notifyWrite();
  expect(clock.pending()).toBe(1);
  s.trigger();
  s.trigger();
  await settle();
  expect(runs()).toBe(1);
  expect(clock.pending()).toBe(0); // the debounce timer was replaced by the run
  s.notifyWrite(); // a later write waits for its window again
  await settle();
  expect(runs()).toBe(1);
  clock.fireAll();
  await settle();
  expect(runs()).toBe(2);
  s.stop();
});

it('a wake-up after stop() does not run', async () => {
  const { s, runs } = countingScheduler(0);
  s.trigger();
  s.stop();
  await settle();
  expect(runs()).toBe(0);
});

it('a write with debounce 0 still waits for its timer (its answer goes out before the push)', async () => {
  const { s, clock, runs } = countingScheduler(0);
  s.notifyWrite();
  await settle();
  expect(runs()).toBe(0);
  clock.fireAll();
  await settle();
  expect(runs()).toBe(1);
  s.stop();
});
