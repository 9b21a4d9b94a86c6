/** The reference server's sample business schema (`schema.sql`) and the tables it registers. */
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

/** Creates the sample schema when missing (idempotent; safe for several servers starting at once). */
export async function applySampleSchema(db: SqlDatabase): Promise<void> {
  const sql = await readSampleSchemaSql();
  await db.withConnection(async (session) => {
    await session.query('select pg_advisory_lock($1::bigint)', [SCHEMA_LOCK_KEY]);
    try {
      await session.query(sql);
    } finally {
      await session.query('select pg_advisory_unlock($1::bigint)', [SCHEMA_LOCK_KEY]);
    }
  });
}
