/**
 * Self reference: folders.parent_id -> folders ON DELETE CASCADE. A (offline) deletes folder F.
 * B adds sub-folder S under F, a sub-sub-folder under S and a note in S, and syncs. The server
 * cascades all of them away when A's delete lands, so A drops the pulled sub-folder in the
 * bundle's transaction (a `lost` event for S, its own descendants go with it by the local
 * cascade) and both devices converge to PostgreSQL with nothing of F left.
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

it.each(['pull first', 'sync'] as const)(
  'a remote sub-tree under a locally deleted self-referencing parent follows it (%s)',
  async (order) => {
    const user = `sami-${order.replace(' ', '-')}`;
    const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'root'), ('K', 'kept')` });

    a.db.exec(`DELETE FROM folders WHERE id = 'F'`);
    b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('S', 'F', 'sub'), ('SS', 'S', 'subsub');
             INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'S', 'note in sub')`);
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

    if (order === 'pull first') {
      expect(events).toEqual([
        {
          type: 'lost',
          lost: {
            table: 'folders',
            key: 'S',
            reason: 'parent_deleted_locally',
            row: { id: 'S', parent_id: 'F', name: 'sub' },
            localOp: null,
          },
        },
      ]);
    } else {
      // The push goes first and commits (the server cascades); the pull then skips B's older rows.
      expect(events).toEqual([]);
    }
    const server = await fkServer(world, user);
    expect(server.folders.map((r) => r.id)).toEqual(['K']);
    expect(server.notes).toEqual([]);
    for (const d of [a, b]) {
      expect(fkLocal(d.db)).toEqual(server);
      expect(foreignKeyViolations(d.db)).toBe(0);
    }
  },
);
