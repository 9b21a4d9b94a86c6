/**
 * A device can know a row's newer state before it pulls the bundles in between: a push conflict
 * hands it the server's row (here: a user deleted at version 3) while its checkpoint is still at 1.
 * Pulling bundle 2 (the user and a project under it) then skips the stale user but would insert
 * the project, whose parent the device already knows is gone: the bundle failed its FK check at
 * COMMIT on every pull, and the device never got past it. The project is dropped in the same
 * transaction (bundle 3 deletes it anyway), the checkpoint moves on, and both devices converge.
 * Found by randomized-two-device-convergence (seed 1259397782, client-wins / server-wins).
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

it('a pulled child whose parent is known deleted at a later version does not block the pull', async () => {
  const { a, b } = await syncedDevicePair(world, 'vera', { a: { conflicts: 'server-wins' }, b: { conflicts: 'server-wins' } });

  // Bundle 2: a user and a project under it. Bundle 3: the user deleted (cascade to the project).
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Parent');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Child')`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  expect(await pgRows(world, 'projects', 'vera')).toEqual([]);

  // B, still at its old checkpoint, writes the same user key: the push conflicts and B learns the
  // user's tombstone (server wins) before pulling bundles 2 and 3.
  b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Mine')`);
  await b.engine.sync();
  await b.engine.sync();

  expect(b.engine.status.lastError).toBeNull();
  expect(b.engine.status.pendingCount).toBe(0);
  expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
  for (const d of [a, b]) {
    expect(localRows(d.db, 'users')).toEqual([]);
    expect(localRows(d.db, 'projects')).toEqual([]);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
