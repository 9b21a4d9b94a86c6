/**
 * The reverse race, for every ON DELETE action: B deletes folder F and syncs; A (offline) adds
 * under F a note (CASCADE), a pin (NO ACTION) and a link (SET NULL). A's push is refused by the
 * server (all three name F); the pull applies F's deletion and settles A's pending changes the
 * way the server would have: the note goes with F (`lost`, reason `cascade`), the pin can never
 * be written (`lost`, reason `parent_deleted_remotely`), the link is kept with its reference
 * cleared (its pending after-image follows the local SET NULL). One sync, both devices converge.
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

it('offline children of a remotely deleted parent follow each FK action', async () => {
  const user = 'remy';
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'folder')` });

  b.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  await b.engine.sync();
  a.db.exec(`INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'F', 'note');
             INSERT INTO pins(id, folder_id, label) VALUES ('p1', 'F', 'pin');
             INSERT INTO links(id, folder_id, url) VALUES ('l1', 'F', 'https://a.example')`);

  const events: SyncEvent[] = [];
  a.engine.subscribe((e) => {
    if (e.type === 'lost' || e.type === 'error') events.push(e);
  });
  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(a.engine.status.lastError).toBeNull();
  expect(a.engine.status.pendingCount).toBe(0);
  await b.engine.sync();

  expect(events).toEqual(
    expect.arrayContaining([
      {
        type: 'lost',
        lost: { table: 'notes', key: 'n1', reason: 'cascade', row: { id: 'n1', folder_id: 'F', body: 'note' }, localOp: 'INSERT' },
      },
      {
        type: 'lost',
        lost: {
          table: 'pins',
          key: 'p1',
          reason: 'parent_deleted_remotely',
          row: { id: 'p1', folder_id: 'F', label: 'pin' },
          localOp: 'INSERT',
        },
      },
    ]),
  );
  expect(events).toHaveLength(2);
  const server = await fkServer(world, user);
  expect(server.folders).toEqual([]);
  expect(server.notes).toEqual([]);
  expect(server.pins).toEqual([]);
  expect(server.links).toEqual([{ id: 'l1', folder_id: null, url: 'https://a.example' }]);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
