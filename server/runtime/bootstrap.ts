/**
 * Bootstrap of the `sync` metadata schema and of the capture triggers on every registered table.
 *
 * Capture uses statement-level triggers with transition tables: one set-based INSERT into the
 * capture stage per statement instead of one trigger call per row. A BEFORE STATEMENT guard
 * rejects any write outside a sync bundle context (and counts it); the AFTER triggers check that
 * every touched row belongs to the bundle's user.
 */
import type { SqlSession } from '../database/types.ts';
import { FLOAT_WIRE_TEXT_SQL, canonicalPayloadSql } from './canonical-payload.ts';
import { SCOPE_COLUMN, keyTextSql, quoteIdent } from './catalog.ts';
import type { Catalog, CatalogTable } from './catalog.ts';

/** Layout marker stored in `sync.meta`; bootstrap refuses any other layout. */
export const LAYOUT_NAME = 'oversqlite_server_postgres_sync_v1';

/** Advisory lock key serializing bootstraps across processes ("oversync" in ASCII). */
const BOOTSTRAP_LOCK = '8031079918095626851'; // 0x6f76657273796e63

const SCHEMA_DDL = `
CREATE SCHEMA IF NOT EXISTS sync;
--next
CREATE TABLE IF NOT EXISTS sync.meta (
  singleton_key boolean PRIMARY KEY DEFAULT true CHECK (singleton_key),
  protocol_label text NOT NULL,
  layout_name text NOT NULL
);
--next
CREATE TABLE IF NOT EXISTS sync.table_catalog (
  table_id integer PRIMARY KEY,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  sync_key_column text NOT NULL,
  sync_key_kind text NOT NULL,
  UNIQUE (schema_name, table_name)
);
--next
CREATE TABLE IF NOT EXISTS sync.user_state (
  user_pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL UNIQUE,
  next_bundle_seq bigint NOT NULL DEFAULT 1,
  retained_bundle_floor bigint NOT NULL DEFAULT 0,
  CHECK (retained_bundle_floor >= 0 AND retained_bundle_floor <= next_bundle_seq - 1)
);
--next
CREATE TABLE IF NOT EXISTS sync.scope_state (
  user_pk bigint PRIMARY KEY REFERENCES sync.user_state(user_pk),
  state_code smallint NOT NULL DEFAULT 0 CHECK (state_code IN (0, 1, 2)),
  initializer_source_id text,
  initialization_id uuid,
  lease_expires_at timestamptz,
  initialized_at timestamptz,
  initialized_by_source_id text,
  CHECK ((state_code = 1) = (initialization_id IS NOT NULL AND initializer_source_id IS NOT NULL AND lease_expires_at IS NOT NULL))
);
--next
CREATE TABLE IF NOT EXISTS sync.source_state (
  user_pk bigint NOT NULL REFERENCES sync.user_state(user_pk),
  source_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'reserved', 'retired')),
  max_committed_source_bundle_id bigint NOT NULL DEFAULT 0 CHECK (max_committed_source_bundle_id >= 0),
  replaced_by_source_id text NOT NULL DEFAULT '',
  retirement_reason text NOT NULL DEFAULT '',
  PRIMARY KEY (user_pk, source_id)
);
--next
CREATE TABLE IF NOT EXISTS sync.row_state (
  user_pk bigint NOT NULL,
  table_id integer NOT NULL,
  key_text text COLLATE "C" NOT NULL,
  bundle_seq bigint NOT NULL,
  deleted boolean NOT NULL,
  PRIMARY KEY (user_pk, table_id, key_text)
);
--next
CREATE OR REPLACE FUNCTION sync.ensure_capture_stage() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  -- The capture stage is a per-session temporary table emptied at every commit: no WAL, no
  -- index, no cleanup, and no interference between concurrent bundles.
  IF to_regclass('pg_temp.oversync_capture_stage') IS NULL THEN
    CREATE TEMP TABLE oversync_capture_stage (
      capture_ordinal bigint GENERATED ALWAYS AS IDENTITY,
      table_id integer NOT NULL,
      op_code smallint NOT NULL,
      key_text text COLLATE "C" NOT NULL,
      payload json
    ) ON COMMIT DELETE ROWS;
  END IF;
END
$fn$;
--next
CREATE TABLE IF NOT EXISTS sync.bundle_log (
  user_pk bigint NOT NULL,
  bundle_seq bigint NOT NULL,
  source_id text NOT NULL,
  source_bundle_id bigint NOT NULL,
  row_count integer NOT NULL,
  byte_count bigint NOT NULL,
  bundle_hash text NOT NULL,
  canonical_request_hash text,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_pk, bundle_seq),
  UNIQUE (user_pk, source_id, source_bundle_id)
);
--next
CREATE TABLE IF NOT EXISTS sync.bundle_rows (
  user_pk bigint NOT NULL,
  bundle_seq bigint NOT NULL,
  row_ordinal integer NOT NULL,
  table_id integer NOT NULL,
  key_text text COLLATE "C" NOT NULL,
  op_code smallint NOT NULL,
  payload json,
  PRIMARY KEY (user_pk, bundle_seq, row_ordinal)
);
--next
-- Staging (push and snapshot sessions) is transient: UNLOGGED saves the WAL of every staged row.
-- A crash empties these tables, which clients see as an unknown session (404) and recreate.
CREATE UNLOGGED TABLE IF NOT EXISTS sync.push_sessions (
  push_id uuid PRIMARY KEY,
  user_pk bigint NOT NULL,
  source_id text NOT NULL,
  source_bundle_id bigint NOT NULL,
  planned_row_count bigint NOT NULL CHECK (planned_row_count > 0),
  next_expected_row_ordinal bigint NOT NULL DEFAULT 0,
  initialization_id uuid,
  canonical_request_hash text,
  expires_at timestamptz NOT NULL,
  UNIQUE (user_pk, source_id, source_bundle_id)
);
--next
CREATE UNLOGGED TABLE IF NOT EXISTS sync.push_session_rows (
  push_id uuid NOT NULL,
  row_ordinal bigint NOT NULL,
  table_id integer NOT NULL,
  key_text text COLLATE "C" NOT NULL,
  op_code smallint NOT NULL,
  base_bundle_seq bigint NOT NULL,
  payload jsonb,
  PRIMARY KEY (push_id, row_ordinal)
);
--next
CREATE UNLOGGED TABLE IF NOT EXISTS sync.push_session_segments (
  push_id uuid NOT NULL,
  start_ordinal bigint NOT NULL,
  end_ordinal bigint NOT NULL,
  table_id integer NOT NULL,
  op_code smallint NOT NULL,
  columns text[] NOT NULL,
  PRIMARY KEY (push_id, start_ordinal)
);
--next
CREATE UNLOGGED TABLE IF NOT EXISTS sync.snapshot_sessions (
  snapshot_id uuid PRIMARY KEY,
  user_pk bigint NOT NULL,
  snapshot_bundle_seq bigint NOT NULL,
  row_count bigint NOT NULL,
  byte_count bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
--next
CREATE UNLOGGED TABLE IF NOT EXISTS sync.snapshot_session_rows (
  snapshot_id uuid NOT NULL,
  row_ordinal bigint NOT NULL,
  table_id integer NOT NULL,
  key_text text COLLATE "C" NOT NULL,
  bundle_seq bigint NOT NULL,
  payload json NOT NULL,
  PRIMARY KEY (snapshot_id, row_ordinal)
);
--next
-- Snapshot sessions, layout 2: the rows of each session live in a table of its own,
-- sync.snapshot_rows_<id hex> (see snapshot-sessions.ts). A header table of its own too, so a
-- server of the previous layout answers 404 for these sessions (the client recreates) instead of
-- reading them as empty; layout-1 sessions (snapshot_sessions / snapshot_session_rows) stay readable.
CREATE UNLOGGED TABLE IF NOT EXISTS sync.snapshot_sessions_v2 (
  snapshot_id uuid PRIMARY KEY,
  user_pk bigint NOT NULL,
  snapshot_bundle_seq bigint NOT NULL,
  row_count bigint NOT NULL,
  byte_count bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
--next
${FLOAT_WIRE_TEXT_SQL};
--next
-- Wire dialects (protocol/dialect.ts), added in place to databases of earlier versions: what a
-- push session speaks, which material a logged bundle_hash is in (existing bundles: strings), and
-- the last dialect each source pushed in (NULL: never pushed; its reads get strings).
ALTER TABLE sync.push_sessions ADD COLUMN IF NOT EXISTS wire_dialect text;
--next
ALTER TABLE sync.bundle_log ADD COLUMN IF NOT EXISTS wire_dialect text NOT NULL DEFAULT 'jcs-numeric-strings';
--next
ALTER TABLE sync.source_state ADD COLUMN IF NOT EXISTS wire_dialect text;
--next
-- Deleting a bundle_log row deletes its bundle_rows (go-oversync's ON DELETE CASCADE, so retention
-- scripts written for it work here). A statement-level trigger rather than a foreign key: the same
-- effect for every DELETE, and no per-row referential check on the hot insert of bundle rows.
CREATE OR REPLACE FUNCTION sync.bundle_log_delete_rows() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM sync.bundle_rows r USING gone g WHERE r.user_pk = g.user_pk AND r.bundle_seq = g.bundle_seq;
  RETURN NULL;
END
$fn$;
--next
DROP TRIGGER IF EXISTS bundle_log_delete_rows ON sync.bundle_log;
--next
CREATE TRIGGER bundle_log_delete_rows AFTER DELETE ON sync.bundle_log
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sync.bundle_log_delete_rows();
--next
CREATE SEQUENCE IF NOT EXISTS sync.accepted_push_replay_seq;
--next
CREATE SEQUENCE IF NOT EXISTS sync.rejected_registered_write_seq;
--next
CREATE SEQUENCE IF NOT EXISTS sync.history_pruned_error_seq;
--next

CREATE OR REPLACE FUNCTION sync.guard_registered_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM nextval('sync.rejected_registered_write_seq');
    RAISE EXCEPTION 'oversync: TRUNCATE of registered table %.% is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(current_setting('oversync.bundle_user_id', true), '') = '' THEN
    PERFORM nextval('sync.rejected_registered_write_seq');
    RAISE EXCEPTION 'oversync: write to registered table %.% outside a sync bundle context; use the server''s writeAs()', TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$fn$;
--next
`;

/** Splits a script on `--next` lines (PGlite's extended protocol runs one statement per call). */
function splitStatements(script: string): string[] {
  return script.split('\n--next').map((s) => s.trim()).filter((s) => s.length > 0);
}

function captureFunctionSql(t: CatalogTable): string {
  const fn = `sync.capture_t${t.tableId}`;
  const scope = quoteIdent(SCOPE_COLUMN);
  const key = quoteIdent(t.keyColumn);
  // Canonical JSON text of the row (see canonical-payload.ts).
  const payload = canonicalPayloadSql(t, 'n', 'w');
  const ownerCheck = (rel: string) => `
  IF EXISTS (SELECT 1 FROM ${rel} r WHERE r.${scope} IS DISTINCT FROM uid) THEN
    RAISE EXCEPTION 'oversync: % on %.% touches rows outside the bundle user''s scope', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;`;
  const head = `
DECLARE
  uid text := current_setting('oversync.bundle_user_id', true);
BEGIN`;
  return `
CREATE OR REPLACE FUNCTION ${fn}_ins() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('new_rows')}
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 1, ${keyTextSql(t, 'n')}, ${payload.expr} FROM new_rows n, ${payload.from};
  RETURN NULL;
END
$fn$;
--next
CREATE OR REPLACE FUNCTION ${fn}_del() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('old_rows')}
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 3, ${keyTextSql(t, 'o')}, NULL FROM old_rows o;
  RETURN NULL;
END
$fn$;
--next
CREATE OR REPLACE FUNCTION ${fn}_upd() RETURNS trigger LANGUAGE plpgsql AS $fn$${head}${ownerCheck('old_rows')}${ownerCheck('new_rows')}
  -- Rows pair up by key: a key that disappears is a DELETE, a new key an INSERT, the rest UPDATEs.
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, 3, ${keyTextSql(t, 'o')}, NULL FROM old_rows o
   WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.${key} = o.${key});
  INSERT INTO pg_temp.oversync_capture_stage (table_id, op_code, key_text, payload)
  SELECT ${t.tableId}, CASE WHEN o.k IS NULL THEN 1 ELSE 2 END, ${keyTextSql(t, 'n')}, ${payload.expr}
    FROM new_rows n LEFT JOIN (SELECT o.${key} AS k FROM old_rows o) o ON o.k = n.${key} CROSS JOIN ${payload.from};
  RETURN NULL;
END
$fn$;
--next
DROP TRIGGER IF EXISTS oversync_guard ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_guard_truncate ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_ins ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_upd ON ${t.sqlName};
--next
DROP TRIGGER IF EXISTS oversync_capture_del ON ${t.sqlName};
--next
CREATE TRIGGER oversync_guard BEFORE INSERT OR UPDATE OR DELETE ON ${t.sqlName}
  FOR EACH STATEMENT EXECUTE FUNCTION sync.guard_registered_write();
--next
CREATE TRIGGER oversync_guard_truncate BEFORE TRUNCATE ON ${t.sqlName}
  FOR EACH STATEMENT EXECUTE FUNCTION sync.guard_registered_write();
--next
CREATE TRIGGER oversync_capture_ins AFTER INSERT ON ${t.sqlName}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_ins();
--next
CREATE TRIGGER oversync_capture_upd AFTER UPDATE ON ${t.sqlName}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_upd();
--next
CREATE TRIGGER oversync_capture_del AFTER DELETE ON ${t.sqlName}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_del();
--next
-- Server-originated writes may omit the owner column: it defaults to the bundle's user.
ALTER TABLE ${t.sqlName} ALTER COLUMN ${scope} SET DEFAULT current_setting('oversync.bundle_user_id', true);
--next
`;
}

/**
 * Creates (idempotently) the `sync` schema and installs the triggers, under a cross-process
 * advisory lock. Fails closed when an existing catalog registers a different table set.
 */
export async function bootstrapSyncSchema(session: SqlSession, catalog: Catalog): Promise<void> {
  await session.query('BEGIN');
  try {
    await session.query(`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    for (const stmt of splitStatements(SCHEMA_DDL)) await session.query(stmt);
    const meta = await session.query<{ layout_name: string }>('SELECT layout_name FROM sync.meta');
    if (meta.rows.length === 0) {
      await session.query(`INSERT INTO sync.meta (protocol_label, layout_name) VALUES ('v1', $1)`, [LAYOUT_NAME]);
    } else if (meta.rows[0]!.layout_name !== LAYOUT_NAME) {
      throw new Error(`sync schema has layout ${meta.rows[0]!.layout_name}, expected ${LAYOUT_NAME}; drop schema "sync" to re-bootstrap`);
    }
    const existing = await session.query<{ table_id: number; schema_name: string; table_name: string; sync_key_column: string }>(
      'SELECT table_id, schema_name, table_name, sync_key_column FROM sync.table_catalog ORDER BY table_id',
    );
    const wanted = catalog.tables.map((t) => `${t.tableId}:${t.qualifiedName}:${t.keyColumn}`).join(',');
    if (existing.rows.length === 0) {
      for (const t of catalog.tables) {
        await session.query(
          'INSERT INTO sync.table_catalog (table_id, schema_name, table_name, sync_key_column, sync_key_kind) VALUES ($1, $2, $3, $4, $5)',
          [t.tableId, t.schema, t.table, t.keyColumn, t.keyKind],
        );
      }
    } else {
      const have = existing.rows.map((r) => `${r.table_id}:${r.schema_name}.${r.table_name}:${r.sync_key_column}`).join(',');
      if (have !== wanted) {
        throw new Error(`sync schema was bootstrapped for tables [${have}], not [${wanted}]; the registered set is frozen (drop schema "sync" to change it)`);
      }
    }
    for (const t of catalog.tables) for (const stmt of splitStatements(captureFunctionSql(t))) await session.query(stmt);
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

