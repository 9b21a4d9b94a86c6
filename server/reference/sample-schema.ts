/** The reference server's sample business schema (`schema.sql`) and the tables it registers. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SqlDatabase } from '../database/types.ts';
import type { RegisteredTable } from '../runtime/options.ts';

/** The synced tables of `schema.sql`, all keyed by `id uuid`. */
export const SAMPLE_TABLES: readonly RegisteredTable[] = [
  { schema: 'business', table: 'projects', syncKey: 'id' },
  { schema: 'business', table: 'tasks', syncKey: 'id' },
  { schema: 'business', table: 'comments', syncKey: 'id' },
];

/** Session advisory lock key so that servers starting together on one database apply the DDL one at a time ("ovsample"). */
const SCHEMA_LOCK_KEY = '8031170569002454373';

/** Reads `schema.sql`. */
export function readSampleSchemaSql(): Promise<string> {
  return readFile(new URL('./schema.sql', import.meta.url), 'utf8');
}

/**
 * Creates the sample schema when missing (idempotent; safe for several servers starting at once).
 * Once applied, the schema carries a comment naming the hash of `schema.sql`, and a server that
 * finds that comment runs no DDL at all: re-running it (`create index if not exists` takes a
 * SHARE lock on each table) while another process's sync bootstrap alters the same tables
 * (ACCESS EXCLUSIVE) deadlocked one of three servers starting together.
 */
export async function applySampleSchema(db: SqlDatabase): Promise<void> {
  const sql = await readSampleSchemaSql();
  const marker = `oversqlite reference sample schema ${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
  await db.withConnection(async (session) => {
    await session.query('select pg_advisory_lock($1::bigint)', [SCHEMA_LOCK_KEY]);
    try {
      const current = await session.query<{ marker: string | null }>(
        "select obj_description(oid, 'pg_namespace') as marker from pg_namespace where nspname = 'business'",
      );
      if (current.rows[0]?.marker !== marker) {
        await session.query(`${sql}\n;comment on schema business is '${marker}';`);
      }
    } finally {
      await session.query('select pg_advisory_unlock($1::bigint)', [SCHEMA_LOCK_KEY]);
    }
  });
}
