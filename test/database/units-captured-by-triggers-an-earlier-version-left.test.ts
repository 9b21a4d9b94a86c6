/**
 * A database opened without sync keeps the capture triggers an earlier release left in its file
 * (only `SyncEngine.open` re-creates them). Those triggers capture only when told "capture
 * directly", so a write unit of several statements must not collect on such a connection: each of
 * its changes is still captured, by the old triggers, as before. (An engine refuses that
 * pre-release layout; see metadata-layout-version-checked-on-open.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { installCaptureFunction, SyncEngine } from '../../worker/engine/index.ts';
import { rows } from '../engine/support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);
const DIRTY = 'SELECT key_json, op FROM _sync_dirty_rows ORDER BY dirty_ordinal';
const insert = (id: string) => ({ sql: 'INSERT INTO users (id, name) VALUES (?, ?)', params: [id, id.toUpperCase()] });

it('a unit on a connection whose triggers an earlier release made is captured row by row', async () => {
  // The layout-4 dump (made before units collected): its triggers capture on `_sync_capture_enabled() = 1` only.
  const dump = readFileSync(new URL('v4.sql', FIXTURES), 'utf8').replace(/^PRAGMA user_version = 0;$/m, '');
  expect(dump).toContain('WHEN _sync_capture_enabled() = 1 BEGIN');
  const db = await LocalDatabase.open({
    name: 'earlier-triggers',
    schema: { version: 1, migrations: [dump] },
    storage: 'memory',
    // What the worker does before migrations, with or without sync.
    beforeMigrate: (conn, _pending, sqlite3) => installCaptureFunction(sqlite3, conn),
  });
  try {
    const before = rows(db.connection, DIRTY);
    expect(await db.write({ statements: [insert('x'), insert('y')] })).toMatchObject({ ok: true });
    expect(rows(db.connection, DIRTY)).toEqual([
      ...before,
      { key_json: '{"id":"x"}', op: 'INSERT' },
      { key_json: '{"id":"y"}', op: 'INSERT' },
    ]);

    // That layout is a pre-release one: an engine refuses it and leaves the file as it was.
    const err = await SyncEngine.open({
      sqlite3: db.sqlite3,
      db: db.connection,
      remoteSchema: 'main',
      tables: [{ table: 'users', syncKey: 'id' }],
      serverUrl: 'http://127.0.0.1:9',
      getToken: async () => null,
      autoSync: false,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'metadata_layout_unknown' });
    expect(db.connection.selectValue("SELECT sql LIKE '%_sync_capture_collect%' FROM sqlite_schema WHERE name = 'trg_users_ai'")).toBe(0);
  } finally {
    db.close();
  }
});
