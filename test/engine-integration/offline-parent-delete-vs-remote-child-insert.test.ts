/**
 * The deadlock of issue 15, deterministic, two engines against the real server (PostgreSQL):
 * A (offline) deletes user U (its projects cascade away locally) and adds a task under project Q.
 * B deletes Q and adds a project under U, and syncs. A comes online.
 * - A's push is rejected by the server: its task points at Q, which B deleted.
 * - A's pull brought B's project under U, which A deleted and has not pushed: A's own FK refused
 *   the bundle, on every sync, forever.
 * Now the incoming project follows U's fate as the server will decide it (U's FK cascades, so the
 * project goes when A's delete lands), in the bundle's transaction; A's task under Q follows Q's
 * deletion; both devices converge to PostgreSQL in one sync, and every row A's app loses is told.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('offline parent delete vs remote child insert converges without a manual step', async () => {
  const { a, b } = await syncedDevicePair(world, 'nina', {
    seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U'), ('${uuid(2)}', 'Other');
              INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P under U'), ('${uuid(11)}', '${uuid(2)}', 'Q');
              INSERT INTO tasks(id, project_id, title) VALUES ('${uuid(20)}', '${uuid(11)}', 'T under Q')`,
  });

  // A offline.
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}';
             INSERT INTO tasks(id, project_id, title) VALUES ('${uuid(21)}', '${uuid(11)}', 'A: new task under Q')`);
  // B online.
  b.db.exec(`DELETE FROM projects WHERE id = '${uuid(11)}';
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(12)}', '${uuid(1)}', 'B: new project under U')`);
  await b.engine.sync();

  const events: unknown[] = [];
  a.engine.subscribe((e) => {
    if (e.type !== 'status' && e.type !== 'applied') events.push(e);
  });
  // A online.
  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  const bLost: unknown[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'lost') bLost.push(e.lost);
  });
  await b.engine.sync();
  // B hears that its new project went with U (the server's cascade), with the row as it was.
  expect(bLost).toEqual(
    expect.arrayContaining([
      {
        table: 'projects',
        key: uuid(12),
        reason: 'cascade',
        row: { id: uuid(12), owner_id: uuid(1), title: 'B: new project under U', budget: null, archived: 0 },
        localOp: null,
      },
    ]),
  );

  for (const d of [a, b]) {
    expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['Other']);
    expect(localRows(d.db, 'projects')).toEqual([]);
    expect(localRows(d.db, 'tasks')).toEqual([]);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  expect(await pgRows(world, 'users', 'nina')).toHaveLength(1);
  expect(await pgRows(world, 'projects', 'nina')).toEqual([]);
  expect(await pgRows(world, 'tasks', 'nina')).toEqual([]);
  // A's app is told about every row it lost, with the rows as its SQLite stored them: T went with
  // Q (B's delete, the server's cascade), B's project with U (A's own pending delete), A's new
  // task with Q.
  expect(events).toEqual([
    {
      type: 'lost',
      lost: {
        table: 'tasks',
        key: uuid(20),
        reason: 'cascade',
        row: {
          id: uuid(20),
          project_id: uuid(11),
          title: 'T under Q',
          done: 0,
          priority: null,
          estimate_hours: null,
          attachment: null,
          due_at: null,
        },
        localOp: null,
      },
    },
    {
      type: 'lost',
      lost: {
        table: 'projects',
        key: uuid(12),
        reason: 'parent_deleted_locally',
        row: { id: uuid(12), owner_id: uuid(1), title: 'B: new project under U', budget: null, archived: 0 },
        localOp: null,
      },
    },
    {
      type: 'lost',
      lost: {
        table: 'tasks',
        key: uuid(21),
        reason: 'cascade',
        row: {
          id: uuid(21),
          project_id: uuid(11),
          title: 'A: new task under Q',
          done: 0,
          priority: null,
          estimate_hours: null,
          attachment: null,
          due_at: null,
        },
        localOp: 'INSERT',
      },
    },
  ]);
});
