/**
 * B (offline) deletes folder F1. A moves sub-folder F4 (with note N1 in it) under F1, then back
 * under F2. B pulls before pushing: F4 arrives under F1, whose delete is pending, so it is dropped
 * (`local-parent-deletes.ts`), and its local delete cascades to N1 (capture off). The next bundle
 * brings F4 back under F2, but nothing ever brings N1 back: B's delete of F1 then lands and takes
 * nothing on the server, which keeps F4 and N1; B silently lacked N1. Found next to chaos seed
 * 814000251 (the same hole in the stale-parent pass and the conflict resolution). The rows under a
 * dropped child are noted with the same root; once the root's delete has landed, a noted row the
 * server kept (absent here, live row version, no change of its own) makes the device take the
 * server's state from a snapshot. Without the move back, the server's cascade removes F4 and N1
 * and the pull brings that: no snapshot.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

it.each([true, false])('rows under a child dropped for a local delete come back when it moved away (moved back: %s)', async (back) => {
  const user = `dora-${back}`;
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'one'), ('F2', NULL, 'two'), ('F4', 'F2', 'four');
              INSERT INTO notes(id, folder_id, body) VALUES ('N1', 'F4', 'note in four')`,
  });
  b.db.exec(`DELETE FROM folders WHERE id = 'F1'`);
  a.db.exec(`UPDATE folders SET parent_id = 'F1' WHERE id = 'F4'`);
  await a.engine.sync();
  if (back) {
    a.db.exec(`UPDATE folders SET parent_id = 'F2' WHERE id = 'F4'`);
    await a.engine.sync();
  }

  await b.engine.pullToStable();
  expect(b.db.selectValue(`SELECT count(*) FROM notes`)).toBe(0); // dropped with F4 for now
  const outcome = (await b.engine.sync()).pull.outcome;
  expect(b.engine.status.lastError).toBeNull();
  await a.engine.sync();

  const server = await fkServer(world, user);
  expect(server.folders.map((f) => f.id)).toEqual(back ? ['F2', 'F4'] : ['F2']);
  expect(server.notes.map((n) => n.id)).toEqual(back ? ['N1'] : []);
  expect(b.engine.status.pendingCount).toBe(0);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
  // N1 came back with a snapshot; without the move back no snapshot was needed.
  expect(outcome).toBe(back ? 'applied_snapshot' : 'already_at_target');
});
