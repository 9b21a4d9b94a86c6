/**
 * Automatic sync against the real server: a local write + `notifyLocalWrite()` is pushed after
 * the debounce, and another device's commit reaches this device through the watch stream
 * (SSE over fetch streaming with Authorization + Oversync-Source-ID headers) without any manual
 * call. The test awaits engine events, never sleeps.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEngine, SyncEvent } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

function nextEvent(engine: SyncEngine, match: (e: SyncEvent) => boolean, timeoutMs = 10_000): Promise<SyncEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for an engine event'));
    }, timeoutMs);
    const off = engine.subscribe((e) => {
      if (match(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

it('pushes after a debounced local write and pulls on a watch wake-up', async () => {
  const a = await world.device('iris', { autoSync: { debounceMs: 20, intervalMs: 0, watch: true } });
  const b = await world.device('iris');
  await b.engine.attach('iris');
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'from B')`);
  await b.engine.sync();

  await a.engine.attach('iris'); // hydrates, then opens the watch stream
  expect(localRows(a.db, 'users').map((r) => r.name)).toEqual(['from B']);

  // A local write on A is pushed by the scheduler.
  const pushed = nextEvent(
    a.engine,
    (e) => e.type === 'status' && e.status.phase === 'idle' && e.status.pendingCount === 0 && e.status.checkpoint >= 2,
  );
  a.db.exec(`INSERT INTO tags(name, color) VALUES ('auto', 'blue')`);
  a.engine.notifyLocalWrite();
  await pushed;
  expect((await pgRows(world, 'tags', 'iris', 'name')).map((r) => r.name)).toEqual(['auto']);

  // B commits; A learns through the watch stream and pulls on its own.
  const applied = nextEvent(a.engine, (e) => e.type === 'applied' && e.tables.includes('users'));
  b.db.exec(`UPDATE users SET name = 'changed on B' WHERE id = '${uuid(1)}'`);
  await b.engine.sync();
  await applied;
  expect(localRows(a.db, 'users').map((r) => r.name)).toEqual(['changed on B']);
  await a.engine.close();
});
