/**
 * A (offline) adds a child under folder F. Meanwhile B deletes F and creates it again. A's sync
 * pushes first: the child commits under the re-created F, at a version above B's delete. The pull
 * then brings B's older delete of F, whose local FK action (SET NULL for a link, CASCADE for a
 * note) would rewrite or remove the child A just committed; no later bundle rewrites it back.
 * The engine sees the delete reach a row it knows at a newer version and takes the server's state
 * from a snapshot, so A ends with the child under F, as PostgreSQL has it.
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

const CHILDREN = [
  ['links', 'SET NULL', `INSERT INTO links(id, folder_id, url) VALUES ('c1', 'F', 'https://a.example')`],
  ['notes', 'CASCADE', `INSERT INTO notes(id, folder_id, body) VALUES ('c1', 'F', 'note from A')`],
] as const;

it.each(CHILDREN)('an older pulled delete of F leaves the %s child committed later under F (%s)', async (table, _action, insertChild) => {
  const user = `olda-${table}`;
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'folder')` });

  a.db.exec(insertChild);
  b.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  await b.engine.sync();
  b.db.exec(`INSERT INTO folders(id, name) VALUES ('F', 'folder again')`);
  await b.engine.sync();

  const res = await a.engine.sync();
  expect(res.push.outcome).toBe('committed');
  expect(a.engine.status.lastError).toBeNull();
  await a.engine.sync();
  await b.engine.sync();

  const server = await fkServer(world, user);
  expect(server.folders).toEqual([{ id: 'F', parent_id: null, name: 'folder again' }]);
  expect(server[table].map((r) => [r.id, r.folder_id])).toEqual([['c1', 'F']]);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
