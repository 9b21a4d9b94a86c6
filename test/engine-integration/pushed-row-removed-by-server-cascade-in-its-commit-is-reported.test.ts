/**
 * A pushed row that the server removes in the very commit that brings it: device A inserts a task
 * under project X (under user U1 as A knows it) and deletes user U2; device B had just moved X
 * under U2. The server applies A's bundle, and deleting U2 cascades X and the new task with it:
 * the committed bundle holds the deletes of U2 and X but not the task at all (inserted and removed
 * in one commit). Replaying it, A's local cascade removes the task too. Before, the app never heard
 * of that task; now a `lost` event (reason `cascade`, with the row as pushed) names it. Found by
 * the model-based chaos test (seed 734000965, client-wins: a note under a folder that moved).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowLostDetail } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('a pushed row the server cascades away in the same commit reaches the app as lost', async () => {
  const { a, b } = await syncedDevicePair(world, 'folded', {
    seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U1'), ('${uuid(2)}', 'U2');
              INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'X')`,
  });

  b.db.exec(`UPDATE projects SET owner_id = '${uuid(2)}' WHERE id = '${uuid(10)}'`);
  await b.engine.sync();

  const lost: RowLostDetail[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost') lost.push(e.lost);
  });
  a.db.exec(`INSERT INTO tasks(id, project_id, title) VALUES ('${uuid(100)}', '${uuid(10)}', 'T under X');
             DELETE FROM users WHERE id = '${uuid(2)}'`);
  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('committed');

  expect(await pgRows(world, 'tasks', 'folded')).toEqual([]);
  expect(await pgRows(world, 'projects', 'folded')).toEqual([]);
  expect(localRows(a.db, 'tasks')).toEqual([]);
  expect(localRows(a.db, 'projects')).toEqual([]);
  expect(lost.map((l) => [l.table, l.key, l.reason, l.localOp, l.row?.title])).toContainEqual([
    'tasks',
    uuid(100),
    'cascade',
    'INSERT',
    'T under X',
  ]);
  expect(a.engine.status.pendingCount).toBe(0);
  expect(foreignKeyViolations(a.db)).toBe(0);
});
