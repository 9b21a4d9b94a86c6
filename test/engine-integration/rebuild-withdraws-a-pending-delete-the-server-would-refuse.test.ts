/**
 * A snapshot rebuild keeps pending local changes by re-applying them on top of the server's state.
 * A pending delete of folder F, when the server's state has a pin under F's sub-folder (pins
 * reference folders with NO ACTION; F's cascade would remove the sub-folder), can never be kept:
 * the server refuses it, and re-applying it failed the rebuild's FK check on every try (the device,
 * and its self-heal, stuck). It is withdrawn instead (`lost`, `delete_refused`) and the rebuild
 * completes; the device equals PostgreSQL. Found by the chaos test (seed 1020513666, client-wins).
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

it('a pending delete that would leave a NO ACTION row dangling is withdrawn by the rebuild', async () => {
  const user = 'wanda';
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'root'); INSERT INTO folders(id, parent_id, name) VALUES ('S', 'F', 'sub')`,
  });

  a.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  b.db.exec(`INSERT INTO pins(id, folder_id, label) VALUES ('p1', 'S', 'pinned under the sub-folder')`);
  await b.engine.sync();

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost') events.push(e);
  });
  await a.engine.hydrate();
  // A's delete of F cascaded locally to S (captured as a delete of S too): both are refused.
  expect(events).toEqual([
    { type: 'lost', lost: { table: 'folders', key: 'S', reason: 'delete_refused', row: null, localOp: 'DELETE' } },
    { type: 'lost', lost: { table: 'folders', key: 'F', reason: 'delete_refused', row: null, localOp: 'DELETE' } },
  ]);
  expect(a.engine.status.pendingCount).toBe(0);
  await a.engine.sync();
  const server = await fkServer(world, user);
  expect(server.folders.map((r) => r.id)).toEqual(['F', 'S']);
  expect(server.pins.map((r) => r.id)).toEqual(['p1']);
  expect(fkLocal(a.db)).toEqual(server);
  expect(foreignKeyViolations(a.db)).toBe(0);
});
