/**
 * Capture records which keys changed, not their values (worker/engine/pending-payload.ts): an
 * UPDATE of a row that is already pending writes nothing to `_sync_dirty_rows`, and the push reads
 * the row when it freezes. A row inserted and then updated many times, and a synced row updated
 * many times, each go up once, with their latest state, against the real server.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from './support/devices.ts';
import { localRows, pgRows, startWorld, uuid } from './support/devices.ts';
import { recordPushedRows } from './support/pushed-rows.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

const dirtyRows = (db: import('@sqlite.org/sqlite-wasm').Database) =>
  db.exec({
    sql: 'SELECT key_json, op, base_row_version, payload, row_number() OVER (ORDER BY dirty_ordinal) AS capture_rank FROM _sync_dirty_rows ORDER BY dirty_ordinal',
    rowMode: 'object',
    returnValue: 'resultRows',
  });

it('a pending row updated many times pushes its latest state once; updates write no dirty row', async () => {
  const pushed = recordPushedRows();
  const a = await world.device('mona', { fetch: pushed.fetch });
  await a.engine.attach('mona');
  a.db.exec(`INSERT INTO users(id, name, created_at) VALUES ('${uuid(1)}', 'v0', '2026-03-01T08:00:00Z')`);
  const afterInsert = dirtyRows(a.db);
  expect(afterInsert).toEqual([{ key_json: `{"id":"${uuid(1)}"}`, op: 'INSERT', base_row_version: 0, payload: null, capture_rank: 1 }]);
  for (let i = 1; i <= 50; i++) a.db.exec(`UPDATE users SET name = 'v${i}', email = 'e${i}@x' WHERE id = '${uuid(1)}'`);
  // Nothing was written for the 50 updates: same row, same ordinal, still no payload.
  expect(dirtyRows(a.db)).toEqual(afterInsert);

  expect(await a.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 1 } });
  expect(pushed.take()).toEqual([
    {
      schema: 'business',
      table: 'users',
      key: { id: uuid(1) },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: uuid(1), name: 'v50', email: 'e50@x', created_at: '2026-03-01T08:00:00Z' },
    },
  ]);
  expect((await pgRows(world, 'users', 'mona')).map((r) => [r.name, r.email])).toEqual([['v50', 'e50@x']]);

  // Synced now: the first update records an UPDATE on its version, the next ones write nothing.
  a.db.exec(`UPDATE users SET name = 'w1' WHERE id = '${uuid(1)}'`);
  const afterFirstUpdate = dirtyRows(a.db);
  expect(afterFirstUpdate).toEqual([
    { key_json: `{"id":"${uuid(1)}"}`, op: 'UPDATE', base_row_version: 1, payload: null, capture_rank: 1 },
  ]);
  for (let i = 2; i <= 50; i++) a.db.exec(`UPDATE users SET name = 'w${i}' WHERE id = '${uuid(1)}'`);
  expect(dirtyRows(a.db)).toEqual(afterFirstUpdate);
  expect(await a.engine.sync()).toMatchObject({ push: { outcome: 'committed', rowCount: 1 } });
  const second = pushed.take();
  expect(second.map((r) => [r.op, r.base_row_version, (r.payload as { name: string }).name])).toEqual([['UPDATE', 1, 'w50']]);
  expect((await pgRows(world, 'users', 'mona')).map((r) => r.name)).toEqual(['w50']);

  // Another device sees the final state.
  const b = await world.device('mona');
  await b.engine.attach('mona');
  expect(localRows(b.db, 'users')).toEqual(localRows(a.db, 'users'));
});
