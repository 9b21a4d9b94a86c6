/**
 * The engine creates metadata layout 5 in one go (worker/engine/metadata.ts). Devices made before
 * that ran the pre-release steps 1–5 one after the other (kept in
 * support/metadata-steps-1-to-5.ts), so the two must leave the same `_sync_*` tables and indexes,
 * down to the text SQLite stores for each: a database from either build opens as the other.
 */
import { expect, it } from 'vitest';
import { CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { openEngine } from './support/engine.ts';
import { METADATA_STEPS_1_TO_5 } from './support/metadata-steps-1-to-5.ts';
import { memoryDb, rows } from './support/sqlite.ts';

const metadataSchema = (db: Parameters<typeof rows>[0]) =>
  rows(
    db,
    "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name LIKE '\\_sync\\_%' ESCAPE '\\' AND name <> '_sync_layout' ORDER BY name",
  );

it('gives a fresh database exactly the tables and indexes steps 1 to 5 produced', async () => {
  const { db: stepped } = await memoryDb('');
  for (const step of METADATA_STEPS_1_TO_5) for (const sql of step) stepped.exec(sql);
  const want = metadataSchema(stepped);
  expect(want.length).toBeGreaterThan(10);

  const s = await openEngine(CLIENT_LAYOUT_SCHEMA, CLIENT_LAYOUT_TABLES);
  try {
    expect(metadataSchema(s.db)).toEqual(want);
    expect(rows(s.db, 'SELECT singleton_key, version FROM _sync_layout')).toEqual([{ singleton_key: 1, version: 5 }]);
  } finally {
    await s.engine.close();
  }
});
