/**
 * The `_sync_*` metadata layout version (worker/engine/metadata.ts): a fresh database gets
 * METADATA_VERSION; a database made by every earlier release (SQL dumps in
 * test/fixtures/client-metadata, made by scripts/dump-client-metadata.ts) is upgraded when the
 * current engine opens it: its synced row versions, pending changes and attachment stay, and its
 * metadata ends up as a fresh engine's. A newer or a pre-release metadata layout is refused with a
 * typed error and left as it was.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { METADATA_STEPS, METADATA_VERSION } from '../../worker/engine/metadata.ts';
import { CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { openEngine } from './support/engine.ts';
import { rows, scalar } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);
const metadataSchema = (db: Database) =>
  rows(
    db,
    "SELECT type, name, sql FROM sqlite_schema WHERE name LIKE '\\_sync\\_%' ESCAPE '\\' AND type IN ('table', 'index') ORDER BY name",
  );
const version = (db: Database) => Number(scalar(db, 'SELECT version FROM _sync_layout'));

it('numbers its steps from 1 and gives a fresh database the last version', async () => {
  expect(METADATA_VERSION).toBe(METADATA_STEPS.length);
  expect(METADATA_VERSION).toBeGreaterThanOrEqual(1);
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  expect(version(s.db)).toBe(METADATA_VERSION);
  await s.engine.close();
  await (await s.reopen()).close();
  expect(version(s.db)).toBe(METADATA_VERSION);
});

it('has a dump of every metadata layout version, so the next step gets an upgrade test', () => {
  const versions = readdirSync(FIXTURES)
    .map((f) => /^v(\d+)\.sql$/.exec(f)?.[1])
    .filter((v) => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: METADATA_VERSION }, (_, i) => i + 1));
});

it('upgrades a database of every earlier release, keeping its rows, versions and pending changes', async () => {
  const fresh = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  const want = metadataSchema(fresh.db);
  await fresh.engine.close();
  for (let v = 1; v <= METADATA_VERSION; v++) {
    const s = await openEngine(readFileSync(new URL(`v${v}.sql`, FIXTURES), 'utf8'), CLIENT_LAYOUT_TABLES);
    try {
      expect(version(s.db)).toBe(METADATA_VERSION);
      expect(metadataSchema(s.db)).toEqual(want);
      expect(s.engine.status).toMatchObject({ userId: 'user-a', checkpoint: 3, pendingCount: 2 });
      expect(rows(s.db, 'SELECT key_json, row_version, deleted FROM _sync_row_state ORDER BY key_json')).toEqual([
        { key_json: '{"id":"a"}', row_version: 5, deleted: 0 },
        { key_json: '{"id":"b"}', row_version: 6, deleted: 0 },
      ]);
      // The capture triggers still work on the upgraded tables: an edit of a synced row is an UPDATE on its version.
      s.db.exec("UPDATE users SET name = 'B edited' WHERE id = 'b'");
      expect(rows(s.db, 'SELECT key_json, op, base_row_version FROM _sync_dirty_rows ORDER BY key_json')).toEqual([
        { key_json: '{"id":"a"}', op: 'UPDATE', base_row_version: 5 },
        { key_json: '{"id":"b"}', op: 'UPDATE', base_row_version: 6 },
        { key_json: '{"id":"c"}', op: 'INSERT', base_row_version: 0 },
      ]);
    } finally {
      await s.engine.close();
    }
  }
});

it('refuses metadata written by a newer build, changing nothing', async () => {
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  await s.engine.close();
  s.db.exec(`UPDATE _sync_layout SET version = ${METADATA_VERSION + 1}`);
  const before = metadataSchema(s.db);
  const err = await s.reopen().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe('metadata_layout_too_new');
  expect((err as SyncError).message).toContain(`layout version ${METADATA_VERSION + 1}`);
  expect(version(s.db)).toBe(METADATA_VERSION + 1);
  expect(metadataSchema(s.db)).toEqual(before);
});

it('refuses metadata of a pre-release build (no layout version)', async () => {
  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  await s.engine.close();
  s.db.exec('DROP TABLE _sync_layout');
  const err = await s.reopen().then(
    () => null,
    (e: unknown) => e,
  );
  expect((err as SyncError).code).toBe('metadata_layout_unknown');
  expect(scalar(s.db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = '_sync_layout'")).toBe(0);
});
