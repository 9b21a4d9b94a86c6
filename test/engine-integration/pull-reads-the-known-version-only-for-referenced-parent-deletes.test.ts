/**
 * A pull gates its "parent delete hits a row known at a newer version" check by the highest row
 * version the device knows. Reading that is a pass over the device's whole `_sync_row_state`, so
 * it happens only in a pull that deletes a parent some table references, once per pull, not in
 * every pull that brings data (a device of 100,000 rows paid it on every live sync).
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('reads the known-version high-water mark only in pulls deleting a referenced parent', async () => {
  const a = await world.device('hana');
  const b = await world.device('hana');
  await a.engine.attach('hana');
  await b.engine.attach('hana');
  const reads = vi.spyOn(b.db, 'selectValue');
  const highWaterReads = (): number => reads.mock.calls.filter(([sql]) => String(sql).includes('MAX(row_version)')).length;

  // Rows B comes to know, then more rows and deletes of a table nothing references.
  for (let i = 1; i <= 20; i++) a.db.exec(`INSERT INTO tags(name, color) VALUES ('t${i}', 'red')`);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Parent');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Child')`);
  await a.engine.sync();
  await b.engine.sync();
  a.db.exec(`DELETE FROM tags WHERE name IN ('t1', 't2'); UPDATE tags SET color = 'blue' WHERE name = 't3'`);
  await a.engine.sync();
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();
  expect(localRows(b.db, 'tags', 'name')).toHaveLength(18);
  expect(highWaterReads()).toBe(0);

  // A delete of a user (projects reference users, ON DELETE CASCADE): read once, in that pull.
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  await b.engine.sync();
  expect(b.engine.status.lastError).toBeNull();
  expect(highWaterReads()).toBe(1);
  expect(localRows(b.db, 'users')).toEqual([]);
  expect(localRows(b.db, 'projects')).toEqual([]);
  expect(foreignKeyViolations(b.db)).toBe(0);
  reads.mockRestore();
});
