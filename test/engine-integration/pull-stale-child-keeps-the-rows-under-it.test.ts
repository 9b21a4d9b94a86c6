/**
 * A device knows a parent's tombstone at a later version v (a push conflict handed it the
 * server's state) while an older bundle s < v it still has to pull puts a row under that parent.
 * The stale-parent pass (`stale-parents.ts`) dropped such a row as gone by v; its local delete ran
 * the FK actions (capture off) over the rows under it, which the server keeps when the row was
 * not deleted with the parent, and no later bundle brings them back: the device silently lost
 * them, with no event.
 * - SET NULL (chaos seed 814000251, client-wins: device2 lost people Q2 and Q3 of team T2): the
 *   server's delete of captain Q1 cleared team T2's captain and kept T2; dropping T2 took its
 *   people by the local cascade. The reference is cleared instead, as the server did.
 * - CASCADE, the row moved away before v: folder F4 was moved under F1 (s), back under F2, then
 *   F1 was deleted (v); dropping F4 at s took its note, which the server keeps. A row with rows
 *   under it is left to the joint apply up to the pull's ceiling, where the server's state is
 *   consistent.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';
import type { SyncEvent } from '../../worker/engine/index.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

it.each(['server-wins', 'client-wins'] as const)(
  'a pulled row whose SET NULL parent is known deleted later keeps the rows under it (%s)',
  async (conflicts) => {
    const user = `sable-${conflicts}`;
    const { a, b } = await syncedDevicePair(world, user, {
      seedSql: `INSERT INTO teams(id, name) VALUES ('T1', 'team 1'), ('T2', 'team 2');
                INSERT INTO people(id, team_id, name) VALUES ('Q1', 'T1', 'person 1'), ('Q2', 'T2', 'person 2'), ('Q3', 'T2', 'person 3')`,
      a: { conflicts },
      b: { conflicts },
    });
    const lost: SyncEvent[] = [];
    b.engine.subscribe((e) => {
      if (e.type === 'lost') lost.push(e);
    });

    // A, bundle s: Q1 becomes T2's captain. Bundle v: Q1 deleted (T2's captain cleared with it).
    a.db.exec(`UPDATE teams SET captain_id = 'Q1' WHERE id = 'T2'`);
    await a.engine.sync();
    a.db.exec(`DELETE FROM people WHERE id = 'Q1'`);
    await a.engine.sync();

    // B, still before bundle s, deletes Q1 too: its push conflicts with the server's delete and B
    // learns Q1's tombstone at v before its pull brings bundle s (T2 under captain Q1).
    b.db.exec(`DELETE FROM people WHERE id = 'Q1'`);
    await b.engine.sync();
    expect(b.engine.status.lastError).toBeNull();
    await b.engine.sync();

    const server = await fkServer(world, user);
    expect(server.teams).toEqual([
      { id: 'T1', captain_id: null, name: 'team 1' },
      { id: 'T2', captain_id: null, name: 'team 2' },
    ]);
    expect(server.people).toEqual([
      { id: 'Q2', team_id: 'T2', name: 'person 2' },
      { id: 'Q3', team_id: 'T2', name: 'person 3' },
    ]);
    expect(b.engine.status.pendingCount).toBe(0);
    expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
    for (const d of [a, b]) {
      expect(fkLocal(d.db)).toEqual(server);
      expect(foreignKeyViolations(d.db)).toBe(0);
    }
    // Nothing of the app's was lost: B's own delete of Q1 agreed with the server's.
    expect(lost).toEqual([]);
  },
);

it('a pulled row under a CASCADE parent known deleted later, moved away before, keeps the rows under it', async () => {
  const user = 'sable-moved';
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'one'), ('F2', NULL, 'two'), ('F4', 'F2', 'four');
              INSERT INTO notes(id, folder_id, body) VALUES ('N1', 'F4', 'note under four')`,
    a: { conflicts: 'server-wins' },
    b: { conflicts: 'server-wins' },
  });
  const lost: SyncEvent[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'lost') lost.push(e);
  });

  // A, bundle by bundle: F4 moved under F1 (s), moved back under F2, F1 deleted (v; nothing is
  // under it any more on the server, so its cascade removes nothing).
  a.db.exec(`UPDATE folders SET parent_id = 'F1' WHERE id = 'F4'`);
  await a.engine.sync();
  a.db.exec(`UPDATE folders SET parent_id = 'F2' WHERE id = 'F4'`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM folders WHERE id = 'F1'`);
  await a.engine.sync();

  // B, before bundle s, renames F1: its push conflicts, server wins, and B learns F1's tombstone
  // at v before its pull brings bundle s (F4 under F1).
  b.db.exec(`UPDATE folders SET name = 'mine' WHERE id = 'F1'`);
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();
  await b.engine.sync();

  const server = await fkServer(world, user);
  expect(server.folders).toEqual([
    { id: 'F2', parent_id: null, name: 'two' },
    { id: 'F4', parent_id: 'F2', name: 'four' },
  ]);
  expect(server.notes).toEqual([{ id: 'N1', folder_id: 'F4', body: 'note under four' }]);
  expect(b.engine.status.pendingCount).toBe(0);
  expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  // B's rename lost to the server's delete: that is the conflict event, nothing else was lost.
  expect(lost).toEqual([]);
});
