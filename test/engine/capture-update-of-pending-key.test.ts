/**
 * An app UPDATE of a key that is already pending writes nothing to `_sync_dirty_rows` when the
 * pending change already says what capture would record (same op, no stored payload): the update
 * trigger's WHEN skips it. Every other pending state must still be rewritten as before: a stored
 * payload is cleared (the live row is newer), and an op that no longer matches the key's row
 * state (the engine changed `_sync_row_state` under it) is corrected.
 */
import { expect, it } from 'vitest';
import { withCaptureSuppressed } from '../../worker/engine/capture.ts';
import { openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL);';
const TABLES = [{ table: 'items', syncKey: 'id' }];
const DIRTY = 'SELECT key_json, op, base_row_version, payload, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal';

it('leaves a pending upsert as it is, ordinal included', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  s.db.exec("INSERT INTO items VALUES ('a', 1), ('b', 1)");
  const before = rows(s.db, DIRTY);
  s.db.exec("UPDATE items SET n = n + 1 WHERE id = 'a'");
  s.db.exec('UPDATE items SET n = n + 1');
  expect(rows(s.db, DIRTY)).toEqual(before);
  expect(before.map((r) => r.op)).toEqual(['INSERT', 'INSERT']);
});

it('clears a stored payload: the live row is newer than it', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  s.db.exec("INSERT INTO items VALUES ('a', 1)");
  withCaptureSuppressed(s.db, () => s.db.exec(`UPDATE _sync_dirty_rows SET payload = '{"id":"a","n":"1"}'`));
  s.db.exec("UPDATE items SET n = 2 WHERE id = 'a'");
  expect(rows(s.db, DIRTY)).toEqual([{ key_json: '{"id":"a"}', op: 'INSERT', base_row_version: 0, payload: null, dirty_ordinal: 1 }]);
});

it('corrects an op that no longer matches the row state', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  s.db.exec("INSERT INTO items VALUES ('a', 1), ('b', 1)");
  // The server now knows 'a' (live) and 'b' (deleted there), with the dirty rows left as captured.
  withCaptureSuppressed(s.db, () =>
    s.db.exec(`INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted)
               VALUES ('main', 'items', '{"id":"a"}', 7, 0), ('main', 'items', '{"id":"b"}', 8, 1)`),
  );
  withCaptureSuppressed(s.db, () => s.db.exec(`UPDATE _sync_dirty_rows SET op = 'UPDATE' WHERE key_json = '{"id":"b"}'`));
  s.db.exec('UPDATE items SET n = 2');
  expect(rows(s.db, DIRTY)).toEqual([
    { key_json: '{"id":"a"}', op: 'UPDATE', base_row_version: 0, payload: null, dirty_ordinal: 1 },
    { key_json: '{"id":"b"}', op: 'INSERT', base_row_version: 0, payload: null, dirty_ordinal: 2 },
  ]);
});

it('records a delete that is pending as an upsert again when the key comes back by update', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  s.db.exec("INSERT INTO items VALUES ('a', 1), ('b', 1)");
  s.db.exec("DELETE FROM items WHERE id = 'b'");
  // 'a' takes the key 'b': a delete of 'a' and an upsert of 'b', which was pending as a delete.
  s.db.exec("UPDATE items SET id = 'b' WHERE id = 'a'");
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
    { key_json: '{"id":"a"}', op: 'DELETE' },
    { key_json: '{"id":"b"}', op: 'INSERT' },
  ]);
});
