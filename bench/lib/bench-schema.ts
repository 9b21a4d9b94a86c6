/**
 * The server side of the bench table: PostgreSQL `bench.items` mirroring the local
 * `items(id TEXT PRIMARY KEY, n INTEGER, body TEXT)` (plus the scope column), and a plain twin
 * without sync for the "insert straight into PostgreSQL" baseline.
 */
export const BENCH_PG_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE bench.items (
  _sync_scope_id text NOT NULL,
  id text NOT NULL,
  n bigint NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id)
);
CREATE TABLE bench.items_plain (
  _sync_scope_id text NOT NULL,
  id text NOT NULL,
  n bigint NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (_sync_scope_id, id)
);
`;

/** The registered table of the bench server. */
export const BENCH_TABLES = [{ schema: 'bench', table: 'items', syncKey: 'id' }];
