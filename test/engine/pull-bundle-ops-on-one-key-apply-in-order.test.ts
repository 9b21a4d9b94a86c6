/**
 * Several ops on one key inside one pulled bundle take effect in bundle order, also when the
 * bundle is long enough for the set-based apply: INSERT → UPDATE → DELETE leaves no row and a
 * tombstone at the DELETE's version; DELETE → INSERT leaves the row; a stale row (lower version
 * than the key already has) changes nothing; a key with a pending local edit is left alone.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = 'CREATE TABLE m (id TEXT PRIMARY KEY NOT NULL, v INTEGER)';
const row = (id: string, op: string, version: number, v?: number) => ({
  schema: 'main',
  table: 'm',
  key: { id },
  op,
  row_version: version,
  payload: op === 'DELETE' ? null : { id, v: String(v) },
});

it('applies INSERT/UPDATE/DELETE of one key in bundle order', async () => {
  const s = await openEngine(SCHEMA, [{ table: 'm', syncKey: 'id' }]);
  await attachStartedEmpty(s);
  s.db.exec("INSERT INTO m (id, v) VALUES ('mine', 7)"); // pending local intent
  const filler = Array.from({ length: 20 }, (_, i) => row(`f${i}`, 'INSERT', 100 + i, i));
  const bundle = [
    ...filler.slice(0, 10),
    row('a', 'INSERT', 1, 1),
    row('b', 'INSERT', 2, 1),
    row('mine', 'INSERT', 3, 99),
    row('a', 'UPDATE', 4, 2),
    row('b', 'DELETE', 5),
    row('a', 'DELETE', 6),
    row('b', 'INSERT', 7, 3),
    row('b', 'UPDATE', 2, 42), // stale: below b's version 7 by now
    ...filler.slice(10),
    row('c', 'INSERT', 8, 1),
    row('c', 'UPDATE', 9, 2),
  ];
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: { stable_bundle_seq: 1, has_more: false, bundles: [{ bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: bundle }] },
  });
  await expect(s.engine.pullToStable()).resolves.toMatchObject({ checkpoint: 1 });
  expect(rows(s.db, "SELECT id, v FROM m WHERE id NOT LIKE 'f%' ORDER BY id")).toEqual([
    { id: 'b', v: 3 },
    { id: 'c', v: 2 },
    { id: 'mine', v: 7 },
  ]);
  expect(rows(s.db, "SELECT COUNT(*) AS n FROM m WHERE id LIKE 'f%'")).toEqual([{ n: 20 }]);
  expect(
    rows(s.db, "SELECT key_json, row_version, deleted FROM _sync_row_state WHERE key_json NOT LIKE '%\"f%' ORDER BY key_json"),
  ).toEqual([
    { key_json: '{"id":"a"}', row_version: 6, deleted: 1 },
    { key_json: '{"id":"b"}', row_version: 7, deleted: 0 },
    { key_json: '{"id":"c"}', row_version: 9, deleted: 0 },
  ]);
  expect(rows(s.db, 'SELECT key_json, op FROM _sync_dirty_rows')).toEqual([{ key_json: '{"id":"mine"}', op: 'INSERT' }]);
});
