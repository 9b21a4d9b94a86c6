/**
 * A unit that fails inside a group is rolled back to its savepoint: the keys it collected go
 * with its rows, while the units before and after it in the same group keep theirs, in order.
 * A unit alone in its group that fails (its whole transaction rolled back) leaves nothing either,
 * and the next write is captured as if it had never run.
 */
import { expect, it } from 'vitest';
import { rows } from '../engine/support/sqlite.ts';
import { openSyncedDatabase } from './support/synced-database.ts';

const MIGRATION = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL)';
const TABLES = [{ table: 'items', syncKey: 'id' }];
const DIRTY =
  'SELECT key_json, op, row_number() OVER (ORDER BY dirty_ordinal) AS capture_rank FROM _sync_dirty_rows ORDER BY dirty_ordinal';
const insert = (id: string, n: number | null = 1) => ({ sql: 'INSERT INTO items VALUES (?, ?)', params: [id, n] });

it('drops the captures of a failed unit in a group and keeps the others in order', async () => {
  const s = await openSyncedDatabase([MIGRATION], TABLES);
  try {
    const outcomes = await s.writeGroup([
      [insert('a'), insert('b')],
      [insert('c'), { sql: "UPDATE items SET n = 2 WHERE id = 'a'" }, { sql: "DELETE FROM items WHERE id = 'b'" }, insert('d', null)],
      [insert('e'), { sql: "DELETE FROM items WHERE id = 'a'" }],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(rows(s.db.connection, 'SELECT id FROM items ORDER BY id')).toEqual([{ id: 'b' }, { id: 'e' }]);
    expect(rows(s.db.connection, DIRTY)).toEqual([
      { key_json: '{"id":"a"}', op: 'DELETE', capture_rank: 1 },
      { key_json: '{"id":"b"}', op: 'INSERT', capture_rank: 2 },
      { key_json: '{"id":"e"}', op: 'INSERT', capture_rank: 3 },
    ]);
  } finally {
    await s.close();
  }
});

it('drops the captures of a failed unit alone in its group', async () => {
  const s = await openSyncedDatabase([MIGRATION], TABLES);
  try {
    const [failed] = await s.writeGroup([[insert('a'), insert('b'), insert('c', null)]]);
    expect(failed!.ok).toBe(false);
    expect(rows(s.db.connection, DIRTY)).toEqual([]);
    // Nothing collected is left over: the next unit and a direct write capture only themselves.
    const [next] = await s.writeGroup([[insert('x'), insert('y')]]);
    expect(next!.ok).toBe(true);
    s.db.connection.exec("INSERT INTO items VALUES ('z', 1)");
    expect(rows(s.db.connection, DIRTY).map((r) => r.key_json)).toEqual(['{"id":"x"}', '{"id":"y"}', '{"id":"z"}']);
  } finally {
    await s.close();
  }
});
