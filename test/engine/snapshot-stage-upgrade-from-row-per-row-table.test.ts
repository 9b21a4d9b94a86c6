/**
 * A database created before chunk staging has `_sync_snapshot_stage` with one row per snapshot row
 * (`row_ordinal`, `key_json`, `payload`), possibly with leftovers of an interrupted download.
 * Opening the engine replaces it with the chunk shape (its content is disposable: a download
 * always starts a fresh session), and a snapshot then applies normally.
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const OLD_STAGE = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE _sync_snapshot_stage (
  snapshot_id TEXT NOT NULL,
  row_ordinal INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  key_json TEXT NOT NULL,
  row_version INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, row_ordinal)
);
INSERT INTO _sync_snapshot_stage VALUES ('old', 1, 'users', '{"id":"x"}', 3, '{"id":"x","name":"stale"}');`;

it('replaces the row-per-row stage table and hydrates', async () => {
  const s = await openEngine(OLD_STAGE, [{ table: 'users', syncKey: 'id' }]);
  expect(rows(s.db, "SELECT name FROM pragma_table_info('_sync_snapshot_stage') ORDER BY cid").map((r) => r.name))
    .toEqual(['snapshot_id', 'chunk_ordinal', 'table_name', 'row_count', 'rows', 'states']);
  expect(scalar(s.db, 'SELECT COUNT(*) FROM _sync_snapshot_stage')).toBe(0);

  await attachStartedEmpty(s);
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', { status: 200, body: { snapshot_id: 'n', snapshot_bundle_seq: 2, row_count: 1, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' } });
  s.server.on('GET', '/sync/snapshot-sessions/n', {
    status: 200,
    body: { snapshot_id: 'n', snapshot_bundle_seq: 2, rows: [{ schema: 'main', table: 'users', key: { id: 'a' }, row_version: 1, payload: { id: 'a', name: 'A' } }], next_row_ordinal: 1, byte_count: 1, has_more: false },
  });
  await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', rowsApplied: 1 });
  expect(rows(s.db, 'SELECT id, name FROM users')).toEqual([{ id: 'a', name: 'A' }]);

  // Opening again keeps the new shape (the upgrade runs once).
  await s.engine.close();
  await s.reopen();
  expect(rows(s.db, "SELECT name FROM pragma_table_info('_sync_snapshot_stage') ORDER BY cid").map((r) => r.name)).toContain('chunk_ordinal');
});
