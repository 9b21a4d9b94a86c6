/**
 * A pulled child is dropped while its parent has a pending local delete (the server will cascade
 * it when the delete lands). If that delete never reaches the server, the child exists only
 * there and must come back. First case: A inserts user U and deletes it again (never pushed),
 * then pulls B's own U with a project under it: U is skipped for A's pending delete and the
 * project dropped (`parent_deleted_locally`); A's next sync freezes nothing for U (inserted then
 * deleted before the server saw it: a no-op) and applies B's skipped U. Second case: the app
 * writes the deleted U again before the push. Before, A ended with U but without the project,
 * which PostgreSQL has. Found by the model-based chaos test (seed 913254, server-wins: a
 * server-originated note under a folder inserted and deleted that way).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RowLostDetail } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, pickColumns, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('rows dropped under a delete the freeze drops as a no-op come back from the server', async () => {
  const { a, b } = await syncedDevicePair(world, 'nodel');

  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U from A')`);
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U from B');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P under U')`);
  await b.engine.sync();

  const lost: RowLostDetail[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost') lost.push(e.lost);
  });
  await a.engine.pullToStable();
  expect(lost.map((l) => [l.table, l.key, l.reason])).toEqual([['projects', uuid(10), 'parent_deleted_locally']]);
  expect(localRows(a.db, 'projects')).toEqual([]);

  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('no_change');
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  const serverUsers = pickColumns(await pgRows(world, 'users', 'nodel'), ['id', 'name']);
  const serverProjects = pickColumns(await pgRows(world, 'projects', 'nodel'), ['id', 'owner_id', 'title']);
  expect(serverUsers).toEqual([{ id: uuid(1), name: 'U from B' }]);
  expect(serverProjects).toEqual([{ id: uuid(10), owner_id: uuid(1), title: 'P under U' }]);
  expect(pickColumns(localRows(a.db, 'users'), ['id', 'name'])).toEqual(serverUsers);
  expect(pickColumns(localRows(a.db, 'projects'), ['id', 'owner_id', 'title'])).toEqual(serverProjects);
  expect(foreignKeyViolations(a.db)).toBe(0);
});

it('rows dropped under a delete the app then writes over come back from the server', async () => {
  const { a, b } = await syncedDevicePair(world, 'rewrite', { seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U')` });

  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P under U')`);
  await b.engine.sync();
  await a.engine.pullToStable();
  expect(localRows(a.db, 'projects')).toEqual([]);
  // The delete is no longer pending: the app wrote the row again before pushing it.
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U again')`);

  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(a.engine.status.pendingCount).toBe(0);
  const serverUsers = pickColumns(await pgRows(world, 'users', 'rewrite'), ['id', 'name']);
  const serverProjects = pickColumns(await pgRows(world, 'projects', 'rewrite'), ['id', 'owner_id', 'title']);
  expect(serverUsers).toEqual([{ id: uuid(1), name: 'U again' }]);
  expect(serverProjects).toEqual([{ id: uuid(10), owner_id: uuid(1), title: 'P under U' }]);
  expect(pickColumns(localRows(a.db, 'users'), ['id', 'name'])).toEqual(serverUsers);
  expect(pickColumns(localRows(a.db, 'projects'), ['id', 'owner_id', 'title'])).toEqual(serverProjects);
  expect(foreignKeyViolations(a.db)).toBe(0);
});
