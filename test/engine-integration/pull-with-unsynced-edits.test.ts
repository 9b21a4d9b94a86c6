/**
 * Pulls coexist with unsynced local edits (KMP refuses to pull then). An incoming change to a key
 * that is dirty here is skipped, the local edit stays visible and keeps its base version, and the
 * next push meets an ordinary conflict that the configured resolver decides. Other incoming rows
 * apply normally and the checkpoint advances.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('pulls around a dirty row, then resolves it as a conflict on push', async () => {
  const a = await world.device('carol');
  const b = await world.device('carol', { conflicts: 'client-wins' });
  await a.engine.attach('carol');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'One'), ('${uuid(2)}', 'Two')`);
  await a.engine.sync();
  await b.engine.attach('carol');

  a.db.exec(`UPDATE users SET name = 'One from A' WHERE id = '${uuid(1)}'; UPDATE users SET name = 'Two from A' WHERE id = '${uuid(2)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE users SET name = 'One from B' WHERE id = '${uuid(1)}'`);

  const pulled = await b.engine.pullToStable();
  expect(pulled).toMatchObject({ outcome: 'applied_incremental', checkpoint: 2 });
  expect(localRows(b.db, 'users').map((r) => r.name)).toEqual(['One from B', 'Two from A']);
  expect(b.db.selectValue(`SELECT base_row_version FROM _sync_dirty_rows WHERE key_json = '{"id":"${uuid(1)}"}'`)).toBe(1);

  const pushed = await b.engine.pushPending();
  expect(pushed).toMatchObject({ outcome: 'committed', conflicts: 1 });
  await a.engine.sync();
  expect((await pgRows(world, 'users', 'carol')).map((r) => r.name)).toEqual(['One from B', 'Two from A']);
  expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
});
