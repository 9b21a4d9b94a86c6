/**
 * A (offline) deletes folder F. B adds a link under F (links reference folders ON DELETE SET
 * NULL) and syncs. When A's delete lands the server clears the link's reference, so on A the
 * pulled link gets its reference cleared in the bundle's transaction (the row is kept, no event),
 * and both devices converge to PostgreSQL: F gone, the link kept with folder_id NULL. Covered
 * with A pulling first (the pulled link meets the pending delete) and with A syncing (push first).
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

it.each(['pull first', 'sync'] as const)('a remote child under SET NULL keeps its row, reference cleared (%s)', async (order) => {
  const user = `sina-${order.replace(' ', '-')}`;
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'folder')` });

  a.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  b.db.exec(`INSERT INTO links(id, folder_id, url) VALUES ('l1', 'F', 'https://b.example')`);
  await b.engine.sync();

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'error') events.push(e);
  });
  if (order === 'pull first') {
    await a.engine.pullToStable();
    expect(fkLocal(a.db).links).toEqual([{ id: 'l1', folder_id: null, url: 'https://b.example' }]);
  }
  await a.engine.sync();
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  await b.engine.sync();

  expect(events).toEqual([]);
  const server = await fkServer(world, user);
  expect(server.folders).toEqual([]);
  expect(server.links).toEqual([{ id: 'l1', folder_id: null, url: 'https://b.example' }]);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
