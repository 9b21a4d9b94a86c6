/**
 * A (offline) deletes folder F, which has no pins on A. B adds a pin under F (pins reference
 * folders with NO ACTION: a folder with pins cannot be deleted) and syncs. The server will never
 * accept A's delete while the pin exists, so the pin wins: A's pending delete is withdrawn (a
 * `lost` event, reason `delete_refused`), F and the pin come back from a snapshot, and both
 * devices converge to PostgreSQL. Both orders are covered: A pulls first (the pulled pin meets the
 * pending delete), and A syncs (the server refuses the push first).
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

it.each(['pull first', 'sync'] as const)('the remote child wins over a restricted local parent delete (%s)', async (order) => {
  const user = `rita-${order.replace(' ', '-')}`;
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'folder'), ('G', 'other')` });

  a.db.exec(`DELETE FROM folders WHERE id = 'F'; INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'G', 'kept')`);
  b.db.exec(`INSERT INTO pins(id, folder_id, label) VALUES ('p1', 'F', 'pinned by B')`);
  await b.engine.sync();

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'error') events.push(e);
  });
  if (order === 'pull first') await a.engine.pullToStable();
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  await b.engine.sync();

  expect(events).toEqual([{ type: 'lost', lost: { table: 'folders', key: 'F', reason: 'delete_refused', row: null, localOp: 'DELETE' } }]);
  const server = await fkServer(world, user);
  expect(server.folders.map((r) => r.id)).toEqual(['F', 'G']);
  expect(server.pins.map((r) => r.id)).toEqual(['p1']);
  expect(server.notes.map((r) => r.id)).toEqual(['n1']);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
