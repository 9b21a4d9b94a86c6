/**
 * FK races across devices: device A deletes a user (the server cascades to its projects) while
 * device B, offline, adds a project under that user. B's push cannot commit (the server's deferred
 * FK fails: 500 `push_session_commit_failed`). The engine must not get stuck: the rejected bundle
 * returns to the dirty set, the pull that follows applies the parent's deletion (the local cascade
 * removes the orphan), the orphaned intent becomes a no-op, and both devices converge to
 * PostgreSQL. Other intents in the same bundle survive. `sync()` does all that in one call.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('a child written offline under a parent deleted elsewhere does not block sync', async () => {
  const a = await world.device('paul');
  const b = await world.device('paul');
  await a.engine.attach('paul');
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Parent'), ('${uuid(2)}', 'Other')`);
  await a.engine.sync();
  await b.engine.attach('paul');

  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  b.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Orphan');
             INSERT INTO tags(name, color) VALUES ('survivor', 'green');`);

  // The first push is rolled back by the server; sync pulls (the parent's deletion cascades the
  // orphan away locally), re-forms the bundle without it, and pushes again, all in one call.
  const res = await b.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(b.engine.status.lastError).toBeNull();
  expect(localRows(b.db, 'users').map((r) => r.name)).toEqual(['Other']);
  expect(localRows(b.db, 'projects')).toEqual([]);
  expect(foreignKeyViolations(b.db)).toBe(0);

  await b.engine.sync();
  await a.engine.sync();
  expect(b.engine.status.pendingCount).toBe(0);
  expect((await pgRows(world, 'tags', 'paul', 'name')).map((r) => r.name)).toEqual(['survivor']);
  expect(await pgRows(world, 'projects', 'paul')).toEqual([]);
  for (const d of [a, b]) {
    expect(localRows(d.db, 'users').map((r) => r.name)).toEqual(['Other']);
    expect(localRows(d.db, 'tags', 'name').map((r) => r.name)).toEqual(['survivor']);
  }
});
