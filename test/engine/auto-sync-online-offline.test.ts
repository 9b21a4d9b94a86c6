/**
 * Connectivity: while offline (`setOnline(false)`) automatic runs do not touch the network and
 * local writes just accumulate; going online (`setOnline(true)`) syncs at once. Status reports
 * `online`. Fake timers drive the debounce; nothing sleeps.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { EngineClock } from '../../worker/engine/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => vi.useRealTimers());

const clock: EngineClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => 0.5,
};

it('holds writes while offline and syncs on coming back online', async () => {
  const s = await openEngine('CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)', [{ table: 'users', syncKey: 'id' }], {
    clock,
    autoSync: { debounceMs: 100, intervalMs: 0 },
  });
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  s.server.always('GET', '/sync/pull', { status: 200, body: { stable_bundle_seq: 1, bundles: [], has_more: false } });
  s.engine.setOnline(false);
  expect(s.engine.status.online).toBe(false);
  const before = s.server.requests.length;
  s.db.exec("INSERT INTO users VALUES ('u1', 'offline write')");
  s.engine.notifyLocalWrite();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(s.server.requests.length).toBe(before);
  expect(s.engine.status.pendingCount).toBe(1);

  s.engine.setOnline(true);
  await vi.advanceTimersByTimeAsync(0);
  await vi.waitFor(() => expect(server.committed).toHaveLength(1));
  await vi.waitFor(() => expect(s.engine.status.pendingCount).toBe(0));
  expect(s.engine.status.online).toBe(true);
  await s.engine.close();
});
