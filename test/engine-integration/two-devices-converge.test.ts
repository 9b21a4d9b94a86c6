/**
 * Two devices of one user edit offline, then sync in turn; both converge to PostgreSQL's state,
 * row by row, with FK integrity after every applied bundle. Includes a server-side cascade
 * (deleting a user deletes its projects and tasks on both devices).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('converges after offline edits on both devices', async () => {
  const a = await world.device('bob');
  const b = await world.device('bob');
  expect(await a.engine.attach('bob')).toMatchObject({ outcome: 'started_empty' });
  expect(await b.engine.attach('bob')).toMatchObject({ outcome: 'used_remote_state' });

  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(10)}', 'Bob A');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(11)}', '${uuid(10)}', 'Garden');`);
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(20)}', 'Bob B');
             INSERT INTO tags(name, color, weight) VALUES ('home', 'green', 1);`);
  await a.engine.sync();
  await b.engine.sync();
  await a.engine.sync();
  for (const d of [a, b]) {
    expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['Bob A', 'Bob B']);
    expect(foreignKeyViolations(d.db)).toBe(0);
    expect(d.engine.status.pendingCount).toBe(0);
  }
  expect((await pgRows(world, 'users', 'bob')).map((r) => r.name)).toEqual(['Bob A', 'Bob B']);

  // Add tasks on B, delete the parent user on A: the server cascades; both devices follow.
  b.db.exec(`INSERT INTO tasks(id, project_id, title, priority) VALUES ('${uuid(12)}', '${uuid(11)}', 'Weed', -9223372036854775808)`);
  await b.engine.sync();
  await a.engine.sync();
  expect(localRows(a.db, 'tasks')).toHaveLength(1);
  expect(localRows(a.db, 'tasks')[0]!.priority).toBe(-9223372036854775808n);
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(10)}'`); // local cascade deletes project + task too
  await a.engine.sync();
  await b.engine.sync();
  for (const d of [a, b]) {
    expect(localRows(d.db, 'projects')).toEqual([]);
    expect(localRows(d.db, 'tasks')).toEqual([]);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  expect(await pgRows(world, 'projects', 'bob')).toEqual([]);
  expect(await pgRows(world, 'tasks', 'bob')).toEqual([]);
  expect(localRows(a.db, 'users')).toEqual(localRows(b.db, 'users'));
  expect(localRows(a.db, 'tags', 'name')).toEqual(localRows(b.db, 'tags', 'name'));
  expect(a.engine.status.checkpoint).toBe(b.engine.status.checkpoint);
});
