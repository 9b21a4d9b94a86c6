/**
 * A unit's collected captures are written inside its transaction, just before COMMIT. When the
 * COMMIT itself fails (here a deferred foreign key still violated), the rollback takes the app's
 * rows and the captures together: nothing is pending for rows that do not exist, and nothing of
 * the failed group leaks into the next one.
 */
import { expect, it } from 'vitest';
import { rows } from '../engine/support/sqlite.ts';
import { openSyncedDatabase } from './support/synced-database.ts';

const MIGRATION =
  'CREATE TABLE lists (id TEXT PRIMARY KEY NOT NULL); ' +
  'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, list_id TEXT NOT NULL REFERENCES lists(id) DEFERRABLE INITIALLY DEFERRED)';
const TABLES = [
  { table: 'lists', syncKey: 'id' },
  { table: 'items', syncKey: 'id' },
];

it('rolls back the rows and their captures together when COMMIT fails', async () => {
  const s = await openSyncedDatabase([MIGRATION], TABLES);
  try {
    const outcomes = await s.writeGroup([
      [{ sql: "INSERT INTO lists VALUES ('l1')" }, { sql: "INSERT INTO items VALUES ('i1', 'l1')" }],
      [{ sql: "INSERT INTO items VALUES ('i2', 'missing')" }, { sql: "INSERT INTO items VALUES ('i3', 'l1')" }],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    expect(rows(s.db.connection, 'SELECT id FROM items UNION ALL SELECT id FROM lists')).toEqual([]);
    expect(rows(s.db.connection, 'SELECT key_json FROM _sync_dirty_rows')).toEqual([]);
    const [next] = await s.writeGroup([[{ sql: "INSERT INTO lists VALUES ('l2')" }, { sql: "INSERT INTO items VALUES ('i4', 'l2')" }]]);
    expect(next!.ok).toBe(true);
    expect(
      rows(
        s.db.connection,
        'SELECT table_name, key_json, row_number() OVER (ORDER BY dirty_ordinal) AS capture_rank FROM _sync_dirty_rows ORDER BY dirty_ordinal',
      ),
    ).toEqual([
      { table_name: 'lists', key_json: '{"id":"l2"}', capture_rank: 1 },
      { table_name: 'items', key_json: '{"id":"i4"}', capture_rank: 2 },
    ]);
  } finally {
    await s.close();
  }
});
