/**
 * Captures keep the app's write order whichever path a write takes: units of several statements
 * (collected, written before they end), single-statement units, interactive transactions (their
 * statements captured directly, a rolled-back savepoint taking its captures with it) and
 * statements on the raw connection. A key written again on another path keeps its first ordinal.
 */
import { expect, it } from 'vitest';
import { rows } from '../engine/support/sqlite.ts';
import { openSyncedDatabase } from './support/synced-database.ts';

const MIGRATION = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL)';
const TABLES = [{ table: 'items', syncKey: 'id' }];
const insert = (id: string) => ({ sql: 'INSERT INTO items VALUES (?, 1)', params: [id] });

it('keeps write order across units, interactive transactions and direct statements', async () => {
  const s = await openSyncedDatabase([MIGRATION], TABLES);
  try {
    await s.writeGroup([[insert('a'), insert('b')], [insert('c')]]);
    await s.db.transactions.begin('tx1', 60_000);
    s.db.transactions.run('tx1', "INSERT INTO items VALUES ('d', 1)");
    s.db.transactions.run('tx1', 'SAVEPOINT inner');
    s.db.transactions.run('tx1', "INSERT INTO items VALUES ('gone', 1)");
    s.db.transactions.run('tx1', "DELETE FROM items WHERE id = 'a'");
    s.db.transactions.run('tx1', 'ROLLBACK TO inner');
    s.db.transactions.run('tx1', 'RELEASE inner');
    s.db.transactions.run('tx1', "UPDATE items SET id = 'b2' WHERE id = 'b'");
    s.db.transactions.commit('tx1');
    s.db.connection.exec("INSERT INTO items VALUES ('e', 1)");
    const [unit] = await s.writeGroup([
      [{ sql: "DELETE FROM items WHERE id = 'c'" }, insert('f'), { sql: "UPDATE items SET n = 2 WHERE id = 'd'" }],
    ]);
    expect(unit!.ok).toBe(true);
    expect(
      rows(
        s.db.connection,
        'SELECT key_json, op, row_number() OVER (ORDER BY dirty_ordinal) AS capture_rank FROM _sync_dirty_rows ORDER BY dirty_ordinal',
      ),
    ).toEqual([
      { key_json: '{"id":"a"}', op: 'INSERT', capture_rank: 1 },
      { key_json: '{"id":"b"}', op: 'DELETE', capture_rank: 2 },
      { key_json: '{"id":"c"}', op: 'DELETE', capture_rank: 3 },
      { key_json: '{"id":"d"}', op: 'INSERT', capture_rank: 4 },
      { key_json: '{"id":"b2"}', op: 'INSERT', capture_rank: 5 },
      { key_json: '{"id":"e"}', op: 'INSERT', capture_rank: 6 },
      { key_json: '{"id":"f"}', op: 'INSERT', capture_rank: 7 },
    ]);
  } finally {
    await s.close();
  }
});
