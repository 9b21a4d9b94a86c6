/**
 * B, behind, edits folder F1; meanwhile A moved sub-folder F4 (with note N1 in it) from F1 to F2,
 * then deleted F1. B's push conflicts on F1 and server-wins hands it F1's tombstone. Deleting F1
 * right there ran the local cascade over F1's rows as B last saw them: F4 and N1. The pull then
 * brought F4 back (its move is a bundle of its own) but not N1, which the server keeps and no
 * bundle ever mentions again: B silently lost it. Found next to chaos seed 814000251 (the same
 * hole in the pull's stale-parent pass, `pull-stale-child-keeps-the-rows-under-it`). When the
 * delete would reach rows under a cascaded row and bundles between B's checkpoint and the
 * delete are unseen, the pull applies the delete in its place in the history instead. When F4
 * stayed under F1, the server's cascade takes both, and so does B's pull.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncEvent } from '../../worker/engine/index.ts';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

it.each([true, false])('a server-wins delete ahead of the pull keeps the rows under a child moved away (moved: %s)', async (moved) => {
  const user = `moira-${moved}`;
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'one'), ('F2', NULL, 'two'), ('F4', 'F1', 'four');
              INSERT INTO notes(id, folder_id, body) VALUES ('N1', 'F4', 'note in four')`,
    a: { conflicts: 'server-wins' },
    b: { conflicts: 'server-wins' },
  });
  const events: SyncEvent[] = [];
  b.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'conflict') events.push(e);
  });

  // A: F4 moved to F2 (or F2 renamed: a bundle between either way), then F1 deleted.
  a.db.exec(moved ? `UPDATE folders SET parent_id = 'F2' WHERE id = 'F4'` : `UPDATE folders SET name = 'two renamed' WHERE id = 'F2'`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM folders WHERE id = 'F1'`);
  await a.engine.sync();

  b.db.exec(`UPDATE folders SET name = 'mine' WHERE id = 'F1'`);
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();

  const server = await fkServer(world, user);
  expect(server.folders.map((f) => f.id)).toEqual(moved ? ['F2', 'F4'] : ['F2']);
  expect(server.notes.map((n) => n.id)).toEqual(moved ? ['N1'] : []);
  expect(b.engine.status.pendingCount).toBe(0);
  expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  // B hears of its rename losing; when F4 stayed under F1, of F4 and N1 leaving with it too, as
  // any device pulling F1's delete does (`lost`, reason `cascade`).
  expect(events.map((e) => (e.type === 'lost' ? `lost ${e.lost.table}/${e.lost.key} ${e.lost.reason}` : e.type)).sort()).toEqual(
    moved ? ['conflict'] : ['conflict', 'lost folders/F4 cascade', 'lost notes/N1 cascade'],
  );
});
