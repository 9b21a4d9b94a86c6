// The server's layout version (server/runtime/layout.ts): a fresh database is bootstrapped to
// LAYOUT_VERSION; a database made by every earlier release (a pg_dump per layout version in
// test/fixtures/server-layout, made by scripts/dump-server-layout.ts) is upgraded by starting the
// current server on it, keeps serving its bundles and ends with the fresh layout; a newer or a
// foreign `sync` schema is refused with a typed error and left as it was.
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createSyncServer, SyncSchemaError } from '../../server/index.ts';
import { LAYOUT_STEPS, LAYOUT_VERSION } from '../../server/runtime/layout.ts';
import { SAMPLE_SCHEMA_SQL, SAMPLE_TABLES } from '../harness/sync-server.ts';
import { createTestDatabase, TEST_DB_KIND } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';

const FIXTURES = new URL('../fixtures/server-layout/', import.meta.url);
const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.drop();
});

async function freshDatabase(purpose: string): Promise<TestDatabase> {
  const db = await createTestDatabase(purpose);
  opened.push(db);
  return db;
}

/** Columns of every relation of the `sync` schema (persistent ones: session row tables aside). */
async function syncColumns(db: TestDatabase): Promise<string[]> {
  const r = await db.database.query<{ c: string }>(
    `SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, '') AS c
       FROM information_schema.columns WHERE table_schema = 'sync' AND table_name NOT LIKE 'snapshot\\_rows\\_%' ORDER BY 1`,
  );
  return r.rows.map((x) => x.c);
}

async function layoutVersion(db: TestDatabase): Promise<number> {
  return (await db.database.query<{ v: number }>('SELECT layout_version AS v FROM sync.meta')).rows[0]!.v;
}

describe('sync layout version', () => {
  it('numbers its steps from 1 and bootstraps a fresh database to the last one', async () => {
    expect(LAYOUT_VERSION).toBe(LAYOUT_STEPS.length);
    expect(LAYOUT_VERSION).toBeGreaterThanOrEqual(1);
    const db = await freshDatabase('layout_fresh');
    await db.exec(SAMPLE_SCHEMA_SQL);
    const server = await createSyncServer({ database: db.database, tables: SAMPLE_TABLES });
    await server.close();
    expect(await layoutVersion(db)).toBe(LAYOUT_VERSION);
    const again = await createSyncServer({ database: db.database, tables: SAMPLE_TABLES });
    await again.close();
    expect(await layoutVersion(db)).toBe(LAYOUT_VERSION);
  });

  it('has a dump of every layout version, so the next step gets an upgrade test', () => {
    const versions = readdirSync(FIXTURES)
      .map((f) => /^v(\d+)\.sql$/.exec(f)?.[1])
      .filter((v) => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: LAYOUT_VERSION }, (_, i) => i + 1));
  });

  it.skipIf(TEST_DB_KIND !== 'postgres')('upgrades a database of every earlier release and keeps serving its bundles', async () => {
    const reference = await freshDatabase('layout_reference');
    await reference.exec(SAMPLE_SCHEMA_SQL);
    await (await createSyncServer({ database: reference.database, tables: SAMPLE_TABLES })).close();
    const want = await syncColumns(reference);
    for (let version = 1; version <= LAYOUT_VERSION; version++) {
      const db = await freshDatabase(`layout_from_v${version}`);
      // Restored on a connection of its own: the dump clears search_path for its session.
      const restore = new pg.Client({ connectionString: db.connectionString! });
      await restore.connect();
      try {
        await restore.query(readFileSync(new URL(`v${version}.sql`, FIXTURES), 'utf8'));
      } finally {
        await restore.end();
      }
      expect(await layoutVersion(db)).toBe(version);
      const server = await createSyncServer({ database: db.database, tables: SAMPLE_TABLES });
      try {
        expect(await layoutVersion(db)).toBe(LAYOUT_VERSION);
        expect(await syncColumns(db)).toEqual(want);
        const res = await server.handle(
          new Request('http://x/sync/pull?after_bundle_seq=0&max_bundles=10', { headers: { 'Oversync-Source-ID': 'layout-device' } }),
          { userId: 'layout-user' },
        );
        expect(res.status).toBe(200);
        const body = (await res.json()) as { bundles: { rows: { key: { name: string } }[] }[] };
        expect(body.bundles.flatMap((b) => b.rows.map((r) => r.key.name))).toEqual(['alpha', 'beta', 'gamma']);
      } finally {
        await server.close();
      }
    }
  });

  it('refuses a database written by a newer server, changing nothing', async () => {
    const db = await freshDatabase('layout_too_new');
    await db.exec(SAMPLE_SCHEMA_SQL);
    await (await createSyncServer({ database: db.database, tables: SAMPLE_TABLES })).close();
    await db.exec(`UPDATE sync.meta SET layout_version = ${LAYOUT_VERSION + 1}`);
    const before = await syncColumns(db);
    const err = await createSyncServer({ database: db.database, tables: SAMPLE_TABLES }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SyncSchemaError);
    expect((err as SyncSchemaError).code).toBe('sync_schema_too_new');
    expect((err as SyncSchemaError).message).toContain(`layout version ${LAYOUT_VERSION + 1}`);
    expect(await layoutVersion(db)).toBe(LAYOUT_VERSION + 1);
    expect(await syncColumns(db)).toEqual(before);
  });

  it('refuses a sync schema without an oversqlite layout version (go-oversync, pre-release builds)', async () => {
    const db = await freshDatabase('layout_foreign');
    await db.exec(SAMPLE_SCHEMA_SQL);
    // go-oversync's meta table: a layout name, no version.
    await db.exec(`CREATE SCHEMA sync;
      CREATE TABLE sync.meta (singleton_key boolean PRIMARY KEY DEFAULT true, protocol_label text NOT NULL, layout_name text NOT NULL);
      INSERT INTO sync.meta (protocol_label, layout_name) VALUES ('v1', 'server_postgres_sync_v1');`);
    const err = await createSyncServer({ database: db.database, tables: SAMPLE_TABLES }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as SyncSchemaError).code).toBe('sync_schema_foreign');
    expect(await syncColumns(db)).toEqual([
      'meta.layout_name:text:NO:',
      'meta.protocol_label:text:NO:',
      'meta.singleton_key:boolean:NO:true',
    ]);
  });
});
