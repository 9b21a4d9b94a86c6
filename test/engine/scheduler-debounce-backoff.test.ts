/**
 * Scheduling with fake timers (no real waiting): writes are debounced into one run, `trigger()`
 * runs at once, the interval fires periodically, failures back off exponentially with jitter and
 * reset after a success, and the engine's `sync()` is single-flight.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, SyncScheduler } from '../../worker/engine/scheduler.ts';
import type { EngineClock } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

function fakeClock(random = 0.5): EngineClock {
  return {
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    random: () => random,
  };
}

describe('SyncScheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounces a burst of writes into one run', async () => {
    const run = vi.fn(async () => {});
    const s = new SyncScheduler(fakeClock(), run, () => true, { debounceMs: 300, intervalMs: 0, backoffMinMs: 1000, backoffMaxMs: 60_000 });
    s.notifyWrite();
    await vi.advanceTimersByTimeAsync(200);
    s.notifyWrite();
    await vi.advanceTimersByTimeAsync(200);
    s.notifyWrite();
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('trigger() runs at once even inside a debounce window; the interval repeats', async () => {
    const run = vi.fn(async () => {});
    const s = new SyncScheduler(fakeClock(), run, () => true, {
      debounceMs: 500,
      intervalMs: 10_000,
      backoffMinMs: 1000,
      backoffMaxMs: 60_000,
    });
    s.start();
    s.notifyWrite();
    s.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(35_000); // interval runs at 10 s, 20 s, 30 s
    expect(run).toHaveBeenCalledTimes(4);
    s.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(4);
  });

  it('backs off exponentially after failures and resets after a success', async () => {
    let fail = 3;
    const times: number[] = [];
    const start = Date.now();
    const run = vi.fn(async () => {
      times.push(Date.now() - start);
      if (fail-- > 0) throw new Error('down');
    });
    const s = new SyncScheduler(fakeClock(0.5), run, () => true, {
      debounceMs: 0,
      intervalMs: 0,
      backoffMinMs: 1000,
      backoffMaxMs: 60_000,
    });
    s.trigger();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times).toEqual([0, 1000, 3000, 7000]);
    expect(s.consecutiveFailures).toBe(0);
  });

  it('does not run while it must not (offline, auth required, detached)', async () => {
    const run = vi.fn(async () => {});
    const s = new SyncScheduler(fakeClock(), run, () => false, {
      debounceMs: 10,
      intervalMs: 100,
      backoffMinMs: 1000,
      backoffMaxMs: 60_000,
    });
    s.start();
    s.notifyWrite();
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).not.toHaveBeenCalled();
  });

  it('backoff delay stays within ±25% and is capped', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(750);
    expect(backoffDelay(1, 1000, 60_000, () => 1)).toBe(1250);
    expect(backoffDelay(20, 1000, 60_000, () => 0.5)).toBe(60_000);
  });
});

describe('single-flight sync()', () => {
  it('concurrent sync() calls share one run', async () => {
    const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [
      { table: 'users', syncKey: 'id' },
    ]);
    await attachStartedEmpty(s);
    new PushResponder().install(s.server);
    s.server.always('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 1, bundles: [], has_more: false } });
    s.db.exec("INSERT INTO users VALUES ('u1', 'Ada')");
    const p1 = s.engine.sync();
    const p2 = s.engine.sync();
    expect(p2).toBe(p1);
    await p1;
    expect(s.server.requestsTo('POST', '/sync/push-sessions')).toHaveLength(1);
    const p3 = s.engine.sync();
    expect(p3).not.toBe(p1);
    await p3;
  });
});
