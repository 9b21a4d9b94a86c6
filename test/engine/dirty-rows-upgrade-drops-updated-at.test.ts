/**
 * `_sync_dirty_rows` has no `updated_at` column any more (nothing read it; it was bytes every
 * captured row wrote). A database created with the earlier table, its ordinal index and capture
 * triggers that still set the column is upgraded when the engine opens: every pending row is
 * kept (ordinals included), the ordinal index belongs to the new table, nothing is left behind,
 * and capture goes on coalescing onto the kept rows and numbering after them.
 */
import { expect, it } from 'vitest';
import { openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const OLD_DIRTY_ROWS = `CREATE TABLE _sync_dirty_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')),
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
     PRIMARY KEY (schema_name, table_name, key_json)
   )`;
// The shape of the earlier update trigger's upsert: it names updated_at, so a plain
// DROP COLUMN would be refused while it exists.
const OLD_TRIGGER = `CREATE TRIGGER trg_users_au AFTER UPDATE ON users WHEN _sync_capture_enabled() = 1 BEGIN
     INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal)
     VALUES ('main', 'users', json_object('id', NEW.id), 'UPDATE', 0, json_object('id', NEW.id, 'name', NEW.name),
       (SELECT COALESCE(MAX(dirty_ordinal), 0) + 1 FROM _sync_dirty_rows))
     ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET
       op = excluded.op, payload = excluded.payload, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now');
   END`;
const PENDING = 'SELECT schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal';

it('keeps every pending row and capture keeps working', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'users', syncKey: 'id' }]);
  s.db.exec("INSERT INTO users VALUES ('a', 'A'), ('b', 'B'), ('c', 'C'); DELETE FROM users WHERE id = 'b'");
  await s.engine.close();

  // Back to the earlier table, index and trigger, as a database from before the change has them.
  s.db.exec(`PRAGMA legacy_alter_table = ON;
    DROP INDEX _sync_dirty_rows_ordinal;
    ALTER TABLE _sync_dirty_rows RENAME TO old_dr;
    ${OLD_DIRTY_ROWS};
    CREATE INDEX _sync_dirty_rows_ordinal ON _sync_dirty_rows(dirty_ordinal);
    INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal)
      SELECT schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM old_dr;
    DROP TABLE old_dr;
    PRAGMA legacy_alter_table = OFF;
    DROP TRIGGER trg_users_au;
    ${OLD_TRIGGER};`);
  expect(scalar(s.db, "SELECT COUNT(*) FROM pragma_table_info('_sync_dirty_rows') WHERE name = 'updated_at'")).toBe(1);
  const before = rows(s.db, PENDING);
  expect(before.map((r) => [r.key_json, r.op])).toEqual([['{"id":"a"}', 'INSERT'], ['{"id":"b"}', 'DELETE'], ['{"id":"c"}', 'INSERT']]);

  await s.reopen();
  expect(scalar(s.db, "SELECT COUNT(*) FROM pragma_table_info('_sync_dirty_rows') WHERE name = 'updated_at'")).toBe(0);
  expect(rows(s.db, PENDING)).toEqual(before);
  expect(rows(s.db, "SELECT name FROM sqlite_schema WHERE name LIKE '_sync_dirty_rows%' ORDER BY name")).toEqual([
    { name: '_sync_dirty_rows' },
    { name: '_sync_dirty_rows_ordinal' },
  ]);
  expect(scalar(s.db, "SELECT tbl_name FROM sqlite_schema WHERE name = '_sync_dirty_rows_ordinal'")).toBe('_sync_dirty_rows');
  expect(scalar(s.db, 'PRAGMA integrity_check')).toBe('ok');
  expect(scalar(s.db, 'PRAGMA legacy_alter_table')).toBe(0);

  // The reinstalled triggers coalesce onto the kept rows and number new keys after them.
  s.db.exec("UPDATE users SET name = 'A2' WHERE id = 'a'; INSERT INTO users VALUES ('d', 'D')");
  expect(rows(s.db, 'SELECT key_json, op, payload, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"a"}', op: 'INSERT', payload: '{"id":"a","name":"A2"}', dirty_ordinal: before[0].dirty_ordinal },
    { key_json: '{"id":"b"}', op: 'DELETE', payload: null, dirty_ordinal: before[1].dirty_ordinal },
    { key_json: '{"id":"c"}', op: 'INSERT', payload: '{"id":"c","name":"C"}', dirty_ordinal: before[2].dirty_ordinal },
    { key_json: '{"id":"d"}', op: 'INSERT', payload: '{"id":"d","name":"D"}', dirty_ordinal: Number(before[2].dirty_ordinal) + 1 },
  ]);
  // The push freeze walks the ordinal index by name.
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_dirty_rows INDEXED BY _sync_dirty_rows_ordinal WHERE dirty_ordinal > 0')).toBe(4);
});
