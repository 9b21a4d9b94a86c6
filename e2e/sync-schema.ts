/**
 * The schema the sync specs use, on the server (PostgreSQL) and in the browser (SQLite).
 */
import type { AppSchema } from '../src/index.ts';

/** PostgreSQL DDL for the sync e2e server. */
export const SYNC_SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS e2e;
CREATE TABLE e2e.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, n bigint, PRIMARY KEY (_sync_scope_id, id));`;

/** The registered server tables. */
export const SYNC_SERVER_TABLES = [{ schema: 'e2e', table: 'items', syncKey: 'id' }];

/** The browser schema mirroring it. */
export const syncAppSchema: AppSchema = {
  version: 1,
  migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT, n INTEGER)'],
};
