/**
 * Real server, real PostgreSQL: device A writes while anonymous, attaches (initialize_local),
 * pushes (seed bundle with initialization_id); device B of the same user attaches
 * (remote_authoritative) and hydrates from the snapshot. Both end with PostgreSQL's rows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('seeds from local and hydrates a second device', async () => {
  const a = await world.device('alice');
  a.db.exec(`
    INSERT INTO users(id, name, email, created_at) VALUES ('${uuid(1)}', 'Alice', 'a@example.com', '2026-03-24T18:42:11Z');
    INSERT INTO projects(id, owner_id, title, budget, archived) VALUES ('${uuid(2)}', '${uuid(1)}', 'Roof', '1234.50', 1);
    INSERT INTO tasks(id, project_id, title, done, priority, estimate_hours, attachment, due_at)
      VALUES ('${uuid(3)}', '${uuid(2)}', 'Tiles', 0, 9007199254740993, 1.25, x'00ff10', '2026-04-01T08:00:00Z');
    INSERT INTO tags(name, color, weight, meta) VALUES ('urgent', 'red', 3, '{"b":[1,2],"a":true}');`);
  const attachA = await a.engine.attach('alice');
  expect(attachA).toMatchObject({ status: 'connected', outcome: 'seeded_from_local' });
  const push = await a.engine.pushPending();
  expect(push).toMatchObject({ outcome: 'committed', bundleSeq: 1 });
  expect(a.engine.status).toMatchObject({ pendingCount: 0, checkpoint: 1, userId: 'alice' });

  const pgTasks = await pgRows(world, 'tasks', 'alice');
  expect(pgTasks).toHaveLength(1);
  expect(String(pgTasks[0]!.priority)).toBe('9007199254740993');

  const b = await world.device('alice');
  const attachB = await b.engine.attach('alice');
  expect(attachB).toMatchObject({ status: 'connected', outcome: 'used_remote_state', snapshotRows: 4 });
  for (const t of ['users', 'projects', 'tasks']) expect(localRows(b.db, t)).toEqual(localRows(a.db, t));
  expect(localRows(b.db, 'tags', 'name')).toEqual(localRows(a.db, 'tags', 'name'));
  const task = localRows(b.db, 'tasks')[0]!;
  expect(task.priority).toBe(9007199254740993n);
  expect(task.attachment).toEqual(new Uint8Array([0, 255, 16]));
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(b.engine.status).toMatchObject({ pendingCount: 0, checkpoint: 1 });
});
