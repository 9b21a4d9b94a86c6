/**
 * No write blackout during a snapshot, against the real server: while device B's hydrate is
 * between chunks (several requests in flight, earlier chunks already staged), the app inserts a
 * row, updates a row the snapshot carries and deletes another. The final transaction applies the
 * snapshot and then those writes on top; they stay pending and the next sync pushes them, so
 * PostgreSQL and both devices end with the same rows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

it('re-applies writes made between snapshot chunks on top of the snapshot', async () => {
  const a = await world.device('mia');
  await a.engine.attach('mia');
  a.db.transaction(() => {
    for (let i = 1; i <= 60; i++) a.db.exec({ sql: 'INSERT INTO users(id, name) VALUES (?, ?)', bind: [uuid(i), `server ${i}`] });
  });
  await expect(a.engine.pushPending()).resolves.toMatchObject({ outcome: 'committed', rowCount: 60 });

  const b = await world.device('mia', { snapshotChunkRows: 10 });
  await b.engine.attach('mia');
  // A second server write after B attached, so B's hydrate has something new to fetch.
  a.db.exec(`UPDATE users SET name = 'server renamed 5' WHERE id = '${uuid(5)}'`);
  await a.engine.pushPending();

  let wroteAt: { done: number; total: number } | null = null;
  b.engine.subscribe((e) => {
    const p = e.type === 'status' && e.status.phase === 'hydrating' ? e.status.progress : null;
    if (!p || wroteAt || p.done < 20) return;
    wroteAt = { ...p };
    b.db.exec(`INSERT INTO users(id, name) VALUES ('${uuid(500)}', 'local new')`);
    b.db.exec(`UPDATE users SET name = 'local edit 7' WHERE id = '${uuid(7)}'`);
    b.db.exec(`DELETE FROM users WHERE id = '${uuid(9)}'`);
  });
  await expect(b.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', rowsApplied: 60 });
  expect(wroteAt).toMatchObject({ total: 60 });
  expect(wroteAt!.done).toBeLessThan(60);

  const names = new Map(localRows(b.db, 'users').map((r) => [r.id, r.name]));
  expect(names.size).toBe(60);
  expect(names.get(uuid(500))).toBe('local new');
  expect(names.get(uuid(7))).toBe('local edit 7');
  expect(names.has(uuid(9))).toBe(false);
  expect(names.get(uuid(5))).toBe('server renamed 5');
  expect(b.engine.status.pendingCount).toBe(3);
  expect(Number(b.db.selectValue('SELECT COUNT(*) FROM _sync_row_state'))).toBe(60);

  await b.engine.sync();
  await a.engine.sync();
  expect(b.engine.status.pendingCount).toBe(0);
  const pg = await pgRows(world, 'users', 'mia');
  expect(pg.map((r) => [r.id, r.name])).toEqual(localRows(b.db, 'users').map((r) => [r.id, r.name]));
  expect(localRows(a.db, 'users').map((r) => [r.id, r.name])).toEqual(localRows(b.db, 'users').map((r) => [r.id, r.name]));
  expect(foreignKeyViolations(b.db)).toBe(0);
});
