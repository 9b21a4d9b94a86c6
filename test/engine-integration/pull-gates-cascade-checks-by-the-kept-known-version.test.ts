/**
 * A pull gates its two cascade checks (a parent delete reaching a row known at a newer version,
 * and, after the pull, a known row a local cascade removed) by the highest row version the device
 * knew when the pull started. That bound is kept in `_sync_attachment_state.known_row_version`,
 * raised wherever row versions are written, so no pull reads it with a pass over every row state
 * (a device of 100,000 rows paid one per live sync), and it is the value from before the pull's
 * own bundles: a pull of several bundles deleting a cascade parent in a later one skips the
 * after-pull scan of `_sync_row_state` too, which a bound read mid-pull (covering the earlier
 * bundles' rows) never let it.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

const known = (db: { selectValue(sql: string): unknown }): number =>
  Number(db.selectValue('SELECT known_row_version FROM _sync_attachment_state'));
const highest = (db: { selectValue(sql: string): unknown }): number =>
  Number(db.selectValue('SELECT COALESCE(MAX(row_version), 0) FROM _sync_row_state'));

it('never scans row states for the bound, and skips the after-pull cascade scan of a multi-bundle pull', async () => {
  const a = await world.device('hana');
  const b = await world.device('hana');
  await a.engine.attach('hana');
  await b.engine.attach('hana');
  // Spied around B's syncs only (the test's own reads of the bound go through selectValue too).
  const reads = vi.spyOn(b.db, 'selectValue');
  const scans = (): string[] =>
    reads.mock.calls
      .map(([sql]) => String(sql))
      .filter((sql) => sql.includes('MAX(row_version)') || sql.includes('FROM _sync_row_state r '));

  // Rows B comes to know, then a table nothing references.
  for (let i = 1; i <= 20; i++) a.db.exec(`INSERT INTO tags(name, color) VALUES ('t${i}', 'red')`);
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(1)}', 'Parent');
             INSERT INTO projects(id, owner_id, title) VALUES ('${uuid(10)}', '${uuid(1)}', 'Child')`);
  await a.engine.sync();
  await b.engine.sync();
  expect(scans()).toEqual([]);
  reads.mockClear();
  expect(known(a.db)).toBe(highest(a.db));
  expect(known(b.db)).toBe(highest(b.db));

  // Three bundles for B's next pull; the last deletes a user (projects reference users, ON DELETE CASCADE).
  a.db.exec(`DELETE FROM tags WHERE name IN ('t1', 't2'); UPDATE tags SET color = 'blue' WHERE name = 't3'`);
  await a.engine.sync();
  a.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(2)}', 'Other')`);
  await a.engine.sync();
  a.db.exec(`DELETE FROM users WHERE id = '${uuid(1)}'`);
  await a.engine.sync();
  reads.mockClear();
  const pulled = await b.engine.pullToStable();
  expect(scans()).toEqual([]);
  reads.mockRestore();
  expect(pulled).toMatchObject({ outcome: 'applied_incremental', bundlesApplied: 3 });
  expect(b.db.selectValue('SELECT rebuild_required FROM _sync_attachment_state')).toBe(0);
  expect(localRows(b.db, 'tags', 'name')).toHaveLength(18);
  expect(localRows(b.db, 'users').map((u) => u.id)).toEqual([uuid(2)]);
  expect(localRows(b.db, 'projects')).toEqual([]);
  expect(foreignKeyViolations(b.db)).toBe(0);
  expect(known(b.db)).toBe(highest(b.db));
});
