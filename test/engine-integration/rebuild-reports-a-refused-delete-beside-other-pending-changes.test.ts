/**
 * A snapshot rebuild withdraws a pending delete the server would refuse (a NO ACTION row below
 * it: `lost`, `delete_refused`; see rebuild-withdraws-a-pending-delete-the-server-would-refuse).
 * When the device also has other pending changes, the rebuild's later settle pass for them
 * replaced the list of lost rows, so the withdrawn delete vanished with no event: the app never
 * heard that its delete did not happen. Found by the chaos test's ledger (seed 424252,
 * server-wins: "folders/F2 deleted: not on the server, no conflict/lost event").
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

it('a delete withdrawn by the rebuild is reported even when other changes stay pending', async () => {
  const user = 'rhea';
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'root'); INSERT INTO folders(id, parent_id, name) VALUES ('S', 'F', 'sub')`,
  });

  a.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  a.db.exec(`INSERT INTO teams(id, name) VALUES ('T', 'kept beside the refused delete')`);
  b.db.exec(`INSERT INTO pins(id, folder_id, label) VALUES ('p1', 'S', 'pinned under the sub-folder')`);
  await b.engine.sync();

  const lost: string[] = [];
  a.engine.subscribe((e: SyncEvent) => {
    if (e.type === 'lost') lost.push(`${e.lost.table}/${e.lost.key}/${e.lost.reason}`);
  });
  await a.engine.hydrate();
  expect(lost.sort()).toEqual(['folders/F/delete_refused', 'folders/S/delete_refused']);
  expect(a.engine.status.pendingCount).toBe(1);
  await a.engine.sync();
  const server = await fkServer(world, user);
  expect(server.folders.map((r) => r.id)).toEqual(['F', 'S']);
  expect(server.teams.map((r) => r.id)).toEqual(['T']);
  expect(fkLocal(a.db)).toEqual(server);
  expect(foreignKeyViolations(a.db)).toBe(0);
});
