/**
 * The `_sync_*` metadata layout version (worker/engine/metadata.ts): a fresh database gets
 * METADATA_VERSION; a database made by a build at that version (the SQL dump in
 * test/fixtures/client-metadata, made by scripts/dump-client-metadata.ts) opens with its rows,
 * versions and pending changes. The pre-release layouts 1–4 (their dumps), metadata without a
 * layout version and a newer layout are refused with a typed error, the database left as it was.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { SyncEngine, SyncError } from '../../worker/engine/index.ts';
import { METADATA_VERSION } from '../../worker/engine/metadata.ts';
import { CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { openEngine } from './support/engine.ts';
import { dumpSql } from './support/sql-dump.ts';
import { memoryDb, rows, scalar } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);
const dump = (v: number) => readFileSync(new URL(`v${v}.sql`, FIXTURES), 'utf8');
const metadataSchema = (db: Database) =>
  rows(
    db,
    "SELECT type, name, sql FROM sqlite_schema WHERE name LIKE '\\_sync\\_%' ESCAPE '\\' AND type IN ('table', 'index') ORDER BY name",
  );
const version = (db: Database) => Number(scalar(db, 'SELECT version FROM _sync_layout'));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

it('gives a fresh database the current version and keeps it on reopen', async () => {
  expect(METADATA_VERSION).toBe(5);
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  expect(version(s.db)).toBe(METADATA_VERSION);
  await s.engine.close();
  await (await s.reopen()).close();
  expect(version(s.db)).toBe(METADATA_VERSION);
});

it('has a dump of the current layout version and of each refused pre-release one', () => {
  const versions = readdirSync(FIXTURES)
    .map((f) => /^v(\d+)\.sql$/.exec(f)?.[1])
    .filter((v) => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: METADATA_VERSION }, (_, i) => i + 1));
});

it('opens a database of the current layout with its rows, versions and pending changes', async () => {
  const fresh = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  const want = metadataSchema(fresh.db);
  await fresh.engine.close();
  const s = await openEngine(dump(METADATA_VERSION), CLIENT_LAYOUT_TABLES);
  try {
    expect(version(s.db)).toBe(METADATA_VERSION);
    expect(metadataSchema(s.db)).toEqual(want);
    expect(s.engine.status).toMatchObject({ userId: 'user-a', checkpoint: 3, pendingCount: 2 });
    expect(rows(s.db, 'SELECT key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual([
      { key_json: '{"id":"a"}', row_version: 5, deleted: 0 },
      { key_json: '{"id":"b"}', row_version: 6, deleted: 0 },
    ]);
    // The capture triggers work on the reopened tables: an edit of a synced row is an UPDATE on its version.
    s.db.exec("UPDATE users SET name = 'B edited' WHERE id = 'b'");
    expect(rows(s.db, 'SELECT key_json, op, base_row_version FROM _sync_dirty_rows ORDER BY key_json')).toEqual([
      { key_json: '{"id":"a"}', op: 'UPDATE', base_row_version: 5 },
      { key_json: '{"id":"b"}', op: 'UPDATE', base_row_version: 6 },
      { key_json: '{"id":"c"}', op: 'INSERT', base_row_version: 0 },
    ]);
  } finally {
    await s.engine.close();
  }
});

it('refuses a database of a pre-release layout (1 to 4), changing nothing', async () => {
  for (let v = 1; v < METADATA_VERSION; v++) {
    const { sqlite3, db } = await memoryDb(dump(v));
    const before = dumpSql(db);
    const err = await refusal(
      SyncEngine.open({
        sqlite3,
        db,
        remoteSchema: 'main',
        tables: CLIENT_LAYOUT_TABLES,
        serverUrl: 'http://127.0.0.1:9',
        getToken: async () => null,
        autoSync: false,
      }),
    );
    expect(err, `layout ${v}`).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe('metadata_layout_unknown');
    expect((err as SyncError).message).toContain('delete the local database');
    expect(dumpSql(db), `layout ${v}`).toBe(before);
  }
});

it('refuses metadata written by a newer build, changing nothing', async () => {
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  await s.engine.close();
  s.db.exec(`UPDATE _sync_layout SET version = ${METADATA_VERSION + 1}`);
  const before = dumpSql(s.db);
  const err = await refusal(s.reopen());
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe('metadata_layout_too_new');
  expect((err as SyncError).message).toContain(`layout version ${METADATA_VERSION + 1}`);
  expect(dumpSql(s.db)).toBe(before);
});

it('refuses metadata of a pre-release build without a layout version, changing nothing', async () => {
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  await s.engine.close();
  s.db.exec('DROP TABLE _sync_layout');
  const before = dumpSql(s.db);
  const err = await refusal(s.reopen());
  expect((err as SyncError).code).toBe('metadata_layout_unknown');
  expect(scalar(s.db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = '_sync_layout'")).toBe(0);
  expect(dumpSql(s.db)).toBe(before);
});
