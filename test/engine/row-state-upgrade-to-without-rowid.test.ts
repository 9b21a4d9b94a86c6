/**
 * `_sync_row_state` is a WITHOUT ROWID table. A database created with the earlier rowid table
 * (and the capture triggers that read it) is upgraded when the engine opens: every row version
 * is kept, no helper table is left behind, and the triggers still read the versions (a local
 * edit of a synced row is captured as an UPDATE on its base version).
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const ROWID_ROW_STATE = `CREATE TABLE _sync_row_state (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     row_version INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
     PRIMARY KEY (schema_name, table_name, key_json)
   )`;
const tableSql = (s: { db: Parameters<typeof scalar>[0] }) => String(scalar(s.db, "SELECT sql FROM sqlite_schema WHERE name = '_sync_row_state'"));

it('keeps every row version and the triggers working', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'users', syncKey: 'id' }]);
  expect(tableSql(s)).toMatch(/WITHOUT ROWID$/);
  await attachStartedEmpty(s);
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: { snapshot_id: 'r', snapshot_bundle_seq: 3, row_count: 2, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' } });
  s.server.on('GET', '/sync/snapshot-sessions/r', {
    status: 200,
    body: {
      snapshot_id: 'r', snapshot_bundle_seq: 3, next_row_ordinal: 2, byte_count: 1, has_more: false,
      rows: [
        { schema: 'main', table: 'users', key: { id: 'a' }, row_version: 5, payload: { id: 'a', name: 'A' } },
        { schema: 'main', table: 'users', key: { id: 'b' }, row_version: 6, payload: { id: 'b', name: 'B' } },
      ],
    },
  });
  await s.engine.hydrate();
  await s.engine.close();

  // Back to the earlier rowid table, as a database from before the change has it.
  s.db.exec(`PRAGMA legacy_alter_table = ON;
    ALTER TABLE _sync_row_state RENAME TO old_rs;
    ${ROWID_ROW_STATE};
    INSERT INTO _sync_row_state SELECT * FROM old_rs;
    DROP TABLE old_rs;
    PRAGMA legacy_alter_table = OFF;`);
  expect(tableSql(s)).not.toMatch(/WITHOUT ROWID/);
  const before = rows(s.db, 'SELECT * FROM _sync_row_state ORDER BY key_json');
  expect(before).toHaveLength(2);

  await s.reopen();
  expect(tableSql(s)).toMatch(/WITHOUT ROWID$/);
  expect(rows(s.db, 'SELECT * FROM _sync_row_state ORDER BY key_json')).toEqual(before);
  expect(scalar(s.db, "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE '_sync_row_state%'")).toBe(1);
  expect(scalar(s.db, 'PRAGMA integrity_check')).toBe('ok');
  expect(scalar(s.db, 'PRAGMA legacy_alter_table')).toBe(0);

  s.db.exec("UPDATE users SET name = 'A2' WHERE id = 'a'");
  expect(rows(s.db, 'SELECT key_json, op, base_row_version FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"a"}', op: 'UPDATE', base_row_version: 5 }]);
});
