/**
 * As in rows-pulled-under-a-pending-insert-of-a-shared-key-survive-its-cascade, with the local
 * delete made by the app's own conflict resolver: B inserts folders F2 and F4 under it (pending)
 * while A creates its own F2, and its own F4 with note N0 in it. B pulls: A's F4 waits for B's
 * pending insert of the same key, and N0 applies under B's F4. B's push conflicts on F2 (A's is
 * live, or A has deleted it), and B's resolver answers `{ delete: true }`: F2 is deleted locally
 * with capture off (and remotely when the server still has it), and the local cascade takes B's
 * F4 and N0. B's insert of F4 settles as lost and the server's F4 comes back from the skipped
 * rows; N0, which the server keeps when its F4 is not under F2, must come back too (it was noted
 * in `_sync_dropped_rows` before the cascade, and a snapshot restores it). When A's F4 is under
 * F2 too, the server's cascade takes F4 and N0 and B converges without them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, startWorld } from './support/devices.ts';
import { FK_WORLD, fkLocal, fkServer } from './support/fk-schema.ts';
import { syncedDevicePair } from './support/synced-device-pair.ts';
import type { ConflictEventDetail } from '../../worker/engine/index.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld(FK_WORLD);
});
afterAll(() => world?.close());

it.each<['live' | 'deleted', 'F1' | 'F2']>([
  ['deleted', 'F1'],
  ['deleted', 'F2'],
  ['live', 'F1'],
  ['live', 'F2'],
])(
  'rows pulled under a pending insert survive the app resolving its conflict as delete (server F2 %s, A puts F4 under %s)',
  async (server2, under) => {
    const user = `petra-app-delete-${server2}-${under}`;
    const { a, b } = await syncedDevicePair(world, user, {
      seedSql: `INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'one')`,
      a: { conflicts: 'server-wins' },
      b: { conflicts: (c) => (c.table === 'folders' && c.key === 'F2' ? { delete: true } : { keep: 'server' }) },
    });
    const conflicts: ConflictEventDetail[] = [];
    b.engine.subscribe((e) => {
      if (e.type === 'conflict') conflicts.push(e.conflict);
    });
    b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F2', NULL, 'B two'), ('F4', 'F2', 'B four')`);

    a.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F2', NULL, 'A two'), ('F4', '${under}', 'A four');
             INSERT INTO notes(id, folder_id, body) VALUES ('N0', 'F4', 'note in A four')`);
    await a.engine.sync();
    await b.engine.pullToStable();
    // A's F2 and F4 wait for B's pending inserts; N0 hangs under B's F4 meanwhile.
    expect(b.db.selectValue(`SELECT name FROM folders WHERE id = 'F4'`)).toBe('B four');
    expect(b.db.selectValue(`SELECT folder_id FROM notes WHERE id = 'N0'`)).toBe('F4');

    if (server2 === 'deleted') {
      a.db.exec(`DELETE FROM folders WHERE id = 'F2'`);
      await a.engine.sync();
    }

    await b.engine.sync();
    await b.engine.sync();
    expect(b.engine.status.lastError).toBeNull();
    expect(conflicts.find((c) => c.key === 'F2')).toMatchObject({
      table: 'folders',
      resolution: 'delete',
      serverDeleted: server2 === 'deleted',
    });
    await a.engine.sync();

    const server = await fkServer(world, user);
    expect(server.folders.map((f) => f.id)).toEqual(under === 'F1' ? ['F1', 'F4'] : ['F1']);
    expect(server.notes.map((n) => n.id)).toEqual(under === 'F1' ? ['N0'] : []);
    expect(b.engine.status.pendingCount).toBe(0);
    for (const d of [a, b]) {
      expect(fkLocal(d.db)).toEqual(server);
      expect(foreignKeyViolations(d.db)).toBe(0);
    }
  },
);
