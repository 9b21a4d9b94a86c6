/**
 * One level below `pull-child-under-parent-known-deleted-later`: the device knows a user's
 * tombstone (version 4, from a push conflict) while its checkpoint is still at 1. Pulling bundle 2
 * drops the project inserted under that user (stale: the tombstone is newer), but bundle 3 then
 * inserts a task under the dropped project. The project's own row_state says nothing of a delete,
 * so the task failed the bundle's FK check at COMMIT on every pull, and the retry too: a device
 * stuck until the self-heal rebuilt it from a snapshot. The server is consistent at the pull's
 * stable ceiling, only the steps in between are not (rows known at later versions are skipped), so
 * a bundle that still fails is applied together with the rest of the pull in one transaction:
 * bundle 4 deletes the task with its project. No failed sync, both devices converge.
 * Found by randomized-two-device-convergence (seed 1193079381, server-wins / server-wins).
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

for (const moved of [false, true]) {
  it(`a pulled grandchild under a parent dropped as stale does not block the pull (project ${moved ? 'moved to a surviving user' : 'deleted with its user'})`, async () => {
    const user = `wanda-${moved}`;
    const { a, b } = await syncedDevicePair(world, user, { a: { conflicts: 'server-wins' }, b: { conflicts: 'server-wins' } });
    a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Owner'), ('${uuid(2)}', 'Heir')`);
    await a.engine.sync();
    await b.engine.sync();

    // B, bundle by bundle: a project under user 1; a task under the project; (optionally the
    // project moved to user 2); user 1 deleted (its cascade reaches whatever is still under it).
    a.db.exec(`INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Project')`);
    await a.engine.sync();
    a.db.exec(`INSERT INTO tasks(id, project_id, title) VALUES ('${uuid(20)}', '${uuid(10)}', 'Task')`);
    await a.engine.sync();
    if (moved) {
      a.db.exec(`UPDATE projects SET owner_id = '${uuid(2)}' WHERE id = '${uuid(10)}'`);
      await a.engine.sync();
    }
    a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
    await a.engine.sync();

    // B, behind, edits user 1: its push conflicts, and B learns the tombstone before pulling.
    b.db.exec(`UPDATE users SET name = 'Mine' WHERE id = '${uuid(1)}'`);
    await b.engine.sync();
    expect(b.engine.status.lastError).toBeNull();
    await b.engine.sync();

    expect(b.engine.status.lastError).toBeNull();
    expect(b.engine.status.pendingCount).toBe(0);
    expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
    const pgProjects = (await pgRows(world, 'projects', user)).map((p) => ({ id: p.id, owner_id: p.owner_id }));
    const pgTasks = (await pgRows(world, 'tasks', user)).map((t) => ({ id: t.id, project_id: t.project_id }));
    expect(pgProjects).toEqual(moved ? [{ id: uuid(10), owner_id: uuid(2) }] : []);
    expect(pgTasks).toEqual(moved ? [{ id: uuid(20), project_id: uuid(10) }] : []);
    for (const d of [a, b]) {
      expect(localRows(d.db, 'projects').map((p) => ({ id: p.id, owner_id: p.owner_id }))).toEqual(pgProjects);
      expect(localRows(d.db, 'tasks').map((t) => ({ id: t.id, project_id: t.project_id }))).toEqual(pgTasks);
      expect(foreignKeyViolations(d.db)).toBe(0);
    }
  });
}
