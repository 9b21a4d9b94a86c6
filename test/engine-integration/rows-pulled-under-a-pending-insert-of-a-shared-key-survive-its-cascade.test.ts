/**
 * B inserts folder F4 under F2 (pending) while A creates its own F4 under F1 with note N0 in it.
 * B pulls: A's F4 is skipped for B's pending insert of the same key, and N0 applies under B's F4.
 * Then F2 is deleted on B with capture off and the local cascade takes B's F4 and N0: by a pulled
 * delete of F2 (A deleted it), or by B's push conflict on its own insert of F2, which the server
 * has deleted (server-wins, B not behind: deleted at once). B's insert of F4 settles as lost and
 * the server's F4 comes back from the skipped rows, but nothing brought N0 back, which the server
 * keeps (its F4 was never under F2): B silently lacked N0. Chaos seed 818000120 is the pulled
 * delete: B was behind, so its conflict on F2 left the delete to the pull (a push conflict on
 * F4 before that pull would have moved F4 and N0 under F1, as it does when the same steps run
 * without faults). The rows under a pending row a local cascade reaches are now noted
 * (`_sync_dropped_rows`); once that row is settled, one the server kept makes B take a snapshot.
 * When A's F4 is under F2 too, the server's cascade takes F4 and N0 and B converges without them.
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

type Delete = 'pulled' | 'conflict';

it.each<[Delete, 'F1' | 'F2']>([
  ['pulled', 'F1'],
  ['pulled', 'F2'],
  ['conflict', 'F1'],
])('rows pulled under a pending insert of a shared key survive its cascade (F2 deleted: %s, A puts F4 under %s)', async (how, under) => {
  const user = `petra-${how}-${under}`;
  const { a, b } = await syncedDevicePair(world, user, {
    seedSql: `INSERT INTO folders(id, parent_id, name) VALUES ('F1', NULL, 'one')` + (how === 'pulled' ? `, ('F2', NULL, 'two')` : ''),
    a: { conflicts: 'server-wins' },
    b: { conflicts: 'server-wins' },
  });
  if (how !== 'pulled') b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F2', NULL, 'B two')`);
  b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F4', 'F2', 'B four')`);

  if (how === 'conflict') a.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F2', NULL, 'A two')`);
  a.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('F4', '${under}', 'A four');
             INSERT INTO notes(id, folder_id, body) VALUES ('N0', 'F4', 'note in A four')`);
  await a.engine.sync();
  await b.engine.pullToStable();
  // A's F4 waits for B's pending insert; N0 hangs under B's F4 meanwhile.
  expect(b.db.selectValue(`SELECT name FROM folders WHERE id = 'F4'`)).toBe('B four');
  expect(b.db.selectValue(`SELECT folder_id FROM notes WHERE id = 'N0'`)).toBe('F4');

  a.db.exec(`DELETE FROM folders WHERE id = 'F2'`);
  await a.engine.sync();

  if (how === 'pulled') await b.engine.pullToStable();
  await b.engine.sync();
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();
  await a.engine.sync();

  const server = await fkServer(world, user);
  expect(server.folders.map((f) => f.id)).toEqual(under === 'F1' ? ['F1', 'F4'] : ['F1']);
  expect(server.notes.map((n) => n.id)).toEqual(under === 'F1' ? ['N0'] : []);
  expect(b.engine.status.pendingCount).toBe(0);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
