/**
 * A (offline) deletes folder F. B adds sub-folder S under F and syncs; A pulls (S follows F's
 * fate: dropped). Then B adds a note under S and syncs. The note's parent S is missing on A
 * without a pending delete of its own: it was dropped for F. The note follows the same root (F's
 * pending delete, CASCADE all the way) instead of failing the bundle's FK check on every pull.
 * Found by the model-based chaos test (seed 1805201360).
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

it('a row pulled later under a row dropped for a locally deleted ancestor follows that ancestor', async () => {
  const user = 'gina';
  const { a, b } = await syncedDevicePair(world, user, { seedSql: `INSERT INTO folders(id, name) VALUES ('F', 'root'), ('K', 'kept')` });

  a.db.exec(`DELETE FROM folders WHERE id = 'F'`);
  b.db.exec(`INSERT INTO folders(id, parent_id, name) VALUES ('S', 'F', 'sub')`);
  await b.engine.sync();
  await a.engine.pullToStable();
  expect(fkLocal(a.db).folders.map((r) => r.id)).toEqual(['K']);

  b.db.exec(
    `INSERT INTO notes(id, folder_id, body) VALUES ('n1', 'S', 'note in sub'); UPDATE folders SET name = 'sub renamed' WHERE id = 'S'`,
  );
  await b.engine.sync();
  await a.engine.pullToStable();
  expect(a.engine.status.lastError).toBeNull();
  expect(fkLocal(a.db).notes).toEqual([]);

  await a.engine.sync();
  await b.engine.sync();
  const server = await fkServer(world, user);
  expect(server.folders.map((r) => r.id)).toEqual(['K']);
  expect(server.notes).toEqual([]);
  for (const d of [a, b]) {
    expect(fkLocal(d.db)).toEqual(server);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
