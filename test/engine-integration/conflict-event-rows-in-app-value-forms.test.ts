/**
 * A conflict event shows both rows the way the app's SQLite stores them, so one column never
 * shows up in two forms (it was `done: "1"` locally and `false` from the server): booleans as
 * INTEGER 0/1, BIGINTs as numbers, REALs as numbers, BLOBs as Uint8Array, timestamps as stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConflictEventDetail } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { localRows, startWorld, uuid } from './support/devices.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('conflict rows are in the app value forms on both sides', async () => {
  const { a, b } = await syncedDevicePair(world, 'vala', {
    seedSql: `INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'U');
              INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'P');
              INSERT INTO tasks(id, project_id, title, done, priority, estimate_hours, attachment)
               VALUES ('${uuid(20)}', '${uuid(10)}', 'T', 0, 5, 1.5, x'0102')`,
  });

  a.db.exec(`UPDATE tasks SET title = 'from A', done = 0, priority = 7 WHERE id = '${uuid(20)}'`);
  await a.engine.sync();
  b.db.exec(`UPDATE tasks SET title = 'from B', done = 1, estimate_hours = 2.25, attachment = x'ff00' WHERE id = '${uuid(20)}'`);
  const seen: ConflictEventDetail[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'conflict') seen.push(e.conflict);
  });
  await b.engine.sync();

  expect(seen).toHaveLength(1);
  const { localRow, serverRow } = seen[0]!;
  expect(localRow).toEqual({
    id: uuid(20),
    project_id: uuid(10),
    title: 'from B',
    done: 1,
    priority: 5,
    estimate_hours: 2.25,
    attachment: new Uint8Array([0xff, 0]),
    due_at: null,
  });
  expect(serverRow).toEqual({
    id: uuid(20),
    project_id: uuid(10),
    title: 'from A',
    done: 0,
    priority: 7,
    estimate_hours: 1.5,
    attachment: new Uint8Array([1, 2]),
    due_at: null,
  });
  // The same forms the app reads from its table.
  const row = localRows(b.db, 'tasks')[0]!;
  expect(row).toEqual(serverRow);
});
