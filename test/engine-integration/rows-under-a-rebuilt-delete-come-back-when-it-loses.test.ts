/**
 * A snapshot rebuild keeps pending local changes by re-applying them on top of the snapshot. A
 * pending delete re-applied that way removes, through its local CASCADE, snapshot rows the device
 * never had: children another device added under the row meanwhile. When that delete then loses
 * its push conflict (server-wins: the server kept a newer version of the row), the row comes back
 * and so must those children, which exist only on the server. Before, the rebuild noted nothing
 * for them (and cleared the notes of its own settle pass), so the device ended with the parent and
 * without its children, for good. Found by the model-based chaos test (seed 732000334,
 * server-wins: a note under a folder this device deleted, then a rebuild for a refused delete).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, pickColumns, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('children a rebuilt pending delete cascaded come back when the delete loses', async () => {
  const { a, b } = await syncedDevicePair(world, 'rebuilt-delete', { seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U')` });

  // A deletes U offline; B adds a project under U and renames U (the server's U is newer).
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P under U');
             UPDATE users SET name = 'U renamed' WHERE id = '${uuid(1)}'`);
  await b.engine.sync();

  // A rebuilds from a snapshot keeping its pending delete: the delete's cascade takes P again.
  await a.engine.hydrate();
  expect(localRows(a.db, 'users')).toEqual([]);
  expect(localRows(a.db, 'projects')).toEqual([]);
  expect(a.engine.status.pendingCount).toBe(1);

  // The push conflicts; server-wins keeps U, and P with it.
  const res = await a.engine.sync();
  expect(res.push.conflicts).toBe(1);
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  const serverUsers = pickColumns(await pgRows(world, 'users', 'rebuilt-delete'), ['id', 'name']);
  const serverProjects = pickColumns(await pgRows(world, 'projects', 'rebuilt-delete'), ['id', 'owner_id', 'title']);
  expect(serverUsers).toEqual([{ id: uuid(1), name: 'U renamed' }]);
  expect(serverProjects).toEqual([{ id: uuid(10), owner_id: uuid(1), title: 'P under U' }]);
  expect(pickColumns(localRows(a.db, 'users'), ['id', 'name'])).toEqual(serverUsers);
  expect(pickColumns(localRows(a.db, 'projects'), ['id', 'owner_id', 'title'])).toEqual(serverProjects);
  expect(foreignKeyViolations(a.db)).toBe(0);
});
