/**
 * Replay after a push writes an app row again only when the committed values differ from what
 * the row holds: a row whose local → wire encoding is lossless and that the server committed as
 * sent only gets its row_state (version, tombstone). Values whose wire form reads back
 * differently (a number in a TIMESTAMP column, sent as text, an uppercase UUID, spaced JSON text, TEXT in a
 * BLOB column) are rewritten with the committed value, as every replay did before. BLOB values
 * are always rewritten: their local JSON form (hex) does not tell a BLOB from TEXT.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, label TEXT, at TIMESTAMP, ref TEXT, doc TEXT, raw BLOB, qty INTEGER, ratio REAL);
CREATE TABLE rewrites (id TEXT NOT NULL);
CREATE TRIGGER items_rewritten AFTER UPDATE ON items BEGIN INSERT INTO rewrites VALUES (NEW.id); END;`;
const TABLES = [{ table: 'items', syncKey: 'id', columns: { ref: 'uuid' as const, doc: 'json' as const } }];
const UUID = '0123abcd-0000-4000-8000-00000000000f';

it('rewrites only the rows whose committed values differ from the local row', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  new PushResponder().install(s.server);
  s.db.exec(`
    INSERT INTO items VALUES ('plain', 'x', '2024-01-01T00:00:00Z', '${UUID}', NULL, NULL, -9223372036854775808, 0.1 + 0.2);
    INSERT INTO items VALUES ('blob', 'x', NULL, NULL, NULL, x'00ff', NULL, NULL);
    INSERT INTO items VALUES ('nulls', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO items VALUES ('numeric-ts', 'x', 20240101, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO items VALUES ('upper-uuid', 'x', NULL, '${UUID.toUpperCase()}', NULL, NULL, NULL, NULL);
    INSERT INTO items VALUES ('json-spaced', 'x', NULL, NULL, '{"b": 1, "a": 2}', NULL, NULL, NULL);
    INSERT INTO items VALUES ('text-blob', 'x', NULL, NULL, NULL, 'abc', NULL, NULL);`);
  const before = rows(s.db, 'SELECT id, label, at, ref, doc, hex(raw) AS raw, qty, ratio FROM items ORDER BY id');
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 1, rowCount: 7 });

  expect(rows(s.db, 'SELECT id FROM rewrites ORDER BY id').map((r) => r.id)).toEqual([
    'blob',
    'json-spaced',
    'numeric-ts',
    'text-blob',
    'upper-uuid',
  ]);
  const after = rows(s.db, 'SELECT id, typeof(at) AS at_type, ref, doc, typeof(raw) AS raw_type FROM items ORDER BY id');
  // Rewritten as the text "20240101", which the column's NUMERIC affinity stores as an integer again.
  expect(after.find((r) => r.id === 'numeric-ts')).toMatchObject({ at_type: 'integer' });
  expect(after.find((r) => r.id === 'upper-uuid')).toMatchObject({ ref: UUID });
  expect(after.find((r) => r.id === 'json-spaced')).toMatchObject({ doc: '{"a":2,"b":1}' });
  expect(after.find((r) => r.id === 'text-blob')).toMatchObject({ raw_type: 'blob' });
  // The untouched rows hold exactly what they held before (exact int64, exact double).
  const now = rows(s.db, 'SELECT id, label, at, ref, doc, hex(raw) AS raw, qty, ratio FROM items ORDER BY id');
  for (const id of ['plain', 'nulls', 'blob']) expect(now.find((r) => r.id === id)).toEqual(before.find((r) => r.id === id));
  expect(rows(s.db, 'SELECT key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual(
    ['blob', 'json-spaced', 'nulls', 'numeric-ts', 'plain', 'text-blob', 'upper-uuid'].map((id) => ({
      key_json: `{"id":"${id}"}`,
      row_version: 1,
      deleted: 0,
    })),
  );

  // A delete and an update committed as sent: tombstone and version recorded, nothing rewritten.
  s.db.exec(
    "DELETE FROM rewrites; DELETE FROM items WHERE id = 'plain'; UPDATE items SET label = 'y' WHERE id = 'nulls'; DELETE FROM rewrites",
  );
  expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', bundleSeq: 2, rowCount: 2 });
  expect(rows(s.db, 'SELECT id FROM rewrites')).toEqual([]);
  expect(rows(s.db, 'SELECT key_json, row_version, deleted FROM _sync_row_state WHERE row_version = 2 ORDER BY key_json')).toEqual([
    { key_json: '{"id":"nulls"}', row_version: 2, deleted: 0 },
    { key_json: '{"id":"plain"}', row_version: 2, deleted: 1 },
  ]);
  expect(rows(s.db, "SELECT label FROM items WHERE id = 'nulls'")).toEqual([{ label: 'y' }]);
  expect(s.engine.status.pendingCount).toBe(0);
});
