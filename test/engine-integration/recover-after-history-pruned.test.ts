/**
 * Recovery after `history_pruned`: the server keeps only 2 bundles per user; a device that fell
 * behind the retained floor gets 409 history_pruned on pull and rebuilds from a snapshot
 * (`applied_snapshot`), keeping its own unsynced edit on top (no write blackout, nothing lost),
 * which it then pushes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ retention: { retainedBundlesPerUser: 2, pruneBatchSize: 100 } });
});
afterAll(() => world?.close());

it('rebuilds from a snapshot and keeps the local edit', async () => {
  const a = await world.device('dave');
  const b = await world.device('dave');
  await a.engine.attach('dave');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'v0')`);
  await a.engine.sync();
  await b.engine.attach('dave');
  expect(b.engine.status.checkpoint).toBe(1);
  for (let i = 1; i <= 5; i++) {
    a.db.exec(`UPDATE users SET name = 'v${i}' WHERE id = '${uuid(1)}'; INSERT INTO tags(name, weight) VALUES ('t${i}', ${i})`);
    await a.engine.sync();
  }
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'offline on B')`);
  const pulled = await b.engine.pullToStable();
  expect(pulled.outcome).toBe('applied_snapshot');
  expect(pulled.checkpoint).toBe(6);
  expect(localRows(b.db, 'users').map((r) => r.name)).toEqual(['v5', 'offline on B']);
  expect(localRows(b.db, 'tags', 'name')).toHaveLength(5);
  expect(b.engine.status.pendingCount).toBe(1);
  await b.engine.sync();
  await a.engine.sync();
  expect((await pgRows(world, 'users', 'dave')).map((r) => r.name)).toEqual(['v5', 'offline on B']);
  expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
});
