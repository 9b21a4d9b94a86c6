/**
 * A deleted team T1 and folder F1 in one bundle, both re-created in the next (T1 with person Q1
 * as captain again). B, behind, edits Q1 and adds pin P1 to F1; its push commits both after the
 * bundles (Q1's conflict resolved either way), so B knows Q1 and P1 at versions above the delete.
 * Pulling the delete alone fails its FK check at COMMIT (P1 is under the deleted F1, which comes
 * back later), and so does its retry; and the joint apply up to the stable ceiling fails too: the
 * delete's local cascade took Q1 (a version B knows is newer than the delete; no later bundle
 * brings it back), and re-created T1 names it as captain. The delete had noted that B needs a
 * snapshot (`parentDeleteHitsNewerRows`), but the failed transactions rolled that back, so B
 * failed every pull until the self-heal rebuilt it. Now a joint apply that fails after noting a
 * rebuild keeps the note alone and the pull rebuilds: no failed sync, no self-heal, nothing lost.
 * Found by chaos seed 823000079 (client-wins).
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

it.each(['client-wins', 'server-wins'] as const)(
  'a pulled bundle stuck on its FK check whose delete cascades over newer rows rebuilds (%s)',
  async (conflicts) => {
    const user = `ruth-${conflicts}`;
    const { a, b } = await syncedDevicePair(world, user, {
      seedSql: `INSERT INTO teams(id, captain_id, name) VALUES ('T1', NULL, 'team');
                INSERT INTO people(id, team_id, name) VALUES ('Q1', 'T1', 'person');
                INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'folder')`,
      a: { conflicts },
      b: { conflicts },
    });
    const events: SyncEvent[] = [];
    b.engine.subscribe((e) => {
      if (e.type === 'lost' || e.type === 'conflict' || e.type === 'self_heal' || e.type === 'error') events.push(e);
    });

    // A: T1 (with Q1, by its cascade) and F1 deleted in one bundle, all re-created in the next.
    a.db.exec(`DELETE FROM teams WHERE id = 'T1'; DELETE FROM folders WHERE id = 'F1'`);
    await a.engine.sync();
    a.db.exec(`INSERT INTO teams(id, captain_id, name) VALUES ('T1', NULL, 'team again');
               INSERT INTO people(id, team_id, name) VALUES ('Q1', 'T1', 'person again');
               UPDATE teams SET captain_id = 'Q1' WHERE id = 'T1';
               INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'folder again')`);
    await a.engine.sync();

    // B, behind: its push commits Q1 and P1 after both bundles, then it pulls them.
    b.db.exec(`UPDATE people SET name = 'mine' WHERE id = 'Q1'; INSERT INTO pins(id, folder_id, label) VALUES ('P1', 'F1', 'pin')`);
    const res = await b.engine.sync();
    expect(b.engine.status.lastError).toBeNull();
    expect(res.pull?.outcome).toBe('applied_snapshot');
    await a.engine.sync();

    const server = await fkServer(world, user);
    expect(server.people).toEqual([{ id: 'Q1', team_id: 'T1', name: conflicts === 'client-wins' ? 'mine' : 'person again' }]);
    expect(server.pins).toEqual([{ id: 'P1', folder_id: 'F1', label: 'pin' }]);
    expect(b.engine.status.pendingCount).toBe(0);
    expect(b.engine.status.checkpoint).toBe(a.engine.status.checkpoint);
    for (const d of [a, b]) {
      expect(fkLocal(d.db)).toEqual(server);
      expect(foreignKeyViolations(d.db)).toBe(0);
    }
    expect(events.map((e) => e.type)).toEqual(['conflict']);
  },
);
