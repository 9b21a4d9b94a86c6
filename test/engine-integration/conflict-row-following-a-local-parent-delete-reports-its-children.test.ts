/**
 * A push conflict resolved server-wins can hand the device a row whose parent it deleted and has
 * not pushed yet: the row follows the parent's fate (CASCADE: dropped, `lost`
 * `parent_deleted_locally`). The local cascade then also took the device's own pending rows under
 * it, and their changes vanished with no event: the app never heard of them. Each now reaches the
 * app as `lost` (`cascade`). Found by the chaos test's ledger (seed 99012, server-wins:
 * "notes/N1 ... not on the server, no conflict/lost event").
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

it('pending rows under a conflict row dropped for a local parent delete are reported', async () => {
  const user = 'nadia';
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, name) VALUES ('P', 'parent')`,
    a: { conflicts: 'server-wins' },
  });

  // A (not syncing) deletes P and creates folder F with a note; B creates F under P and syncs first.
  a.db.exec(`DELETE FROM folders WHERE id = 'P'`);
  a.db.exec(`INSERT INTO folders(id, name) VALUES ('F', 'made on A')`);
  a.db.exec(`INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'F', 'A: note in its own F')`);
  b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F', 'P', 'made on B under P')`);
  await b.engine.sync();

  const lost: string[] = [];
  a.engine.subscribe((e: SyncEvent) => {
    if (e.type === 'lost') lost.push(`${e.lost.table}/${e.lost.key}/${e.lost.reason}`);
  });
  await a.engine.sync();
  await a.engine.sync();
  await b.engine.sync();
  expect(lost.sort()).toEqual(['folders/F/parent_deleted_locally', 'notes/n1/cascade']);
  const server = await fkServer(world, user);
  expect(server.folders).toEqual([]);
  expect(server.notes).toEqual([]);
  expect(fkLocal(a.db)).toEqual(server);
  expect(fkLocal(b.db)).toEqual(server);
  expect(foreignKeyViolations(a.db)).toBe(0);
  expect(a.engine.status.pendingCount).toBe(0);
});
