/**
 * The layout of the `sync` schema: a version number in `sync.meta` and the numbered steps that
 * bring a database from each version to the next (the server's counterpart of the client's
 * `worker/database/schema-migrations.ts`). Nothing before version 1 ever shipped, so there is no
 * code for older shapes. Rule: a layout change is a new step appended here, never an edit of a
 * step that shipped, and comes with a test that upgrades a database made by the previous release
 * (see docs/server.md, "Layout version").
 */
import type { SqlSession } from '../database/types.ts';
import { FLOAT_WIRE_TEXT_SQL } from './canonical-payload.ts';

/** Layout marker stored in `sync.meta.layout_name`: a `sync` schema of any other software is refused. */
const LAYOUT_NAME = 'oversqlite_server_postgres_sync_v1';

/** Why bootstrap refused the existing `sync` schema. */
export type SyncSchemaErrorCode = 'sync_schema_foreign' | 'sync_schema_too_new' | 'sync_schema_step_failed';

/** Bootstrap refused the `sync` schema it found (nothing was changed: bootstrap is one transaction). */
export class SyncSchemaError extends Error {
  constructor(
    readonly code: SyncSchemaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SyncSchemaError';
  }
}

/** Splits a script on `--next` lines (PGlite's extended protocol runs one statement per call). */
export function splitStatements(script: string): string[] {
  return script
    .split('\n--next')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The schema and the table holding the layout version, created before any step runs. */
const META_DDL = `
CREATE SCHEMA IF NOT EXISTS sync;
--next
CREATE TABLE IF NOT EXISTS sync.meta (
  singleton_key boolean PRIMARY KEY DEFAULT true CHECK (singleton_key),
  protocol_label text NOT NULL,
  layout_name text NOT NULL,
  layout_version integer NOT NULL
);
`;

/**
 * Functions, re-created by every bootstrap (CREATE OR REPLACE): they are code, not stored state,
 * so a fix to one ships without a step. They run before the steps, which may attach triggers to them.
 */
const ROUTINES_DDL = `
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
${FLOAT_WIRE_TEXT_SQL};
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
`;

/** Step 1: the first layout (0.1.0). */
const STEP_1 = `
CREATE TABLE sync.table_catalog (
  table_id integer PRIMARY KEY,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  sync_key_column text NOT NULL,
  sync_key_kind text NOT NULL,
  UNIQUE (schema_name, table_name)
);
--next
CREATE TABLE sync.user_state (
  user_pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL UNIQUE,
  next_bundle_seq bigint NOT NULL DEFAULT 1,
  retained_bundle_floor bigint NOT NULL DEFAULT 0,
  CHECK (retained_bundle_floor >= 0 AND retained_bundle_floor <= next_bundle_seq - 1)
);
--next
CREATE TABLE sync.scope_state (
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
-- wire_dialect (protocol/dialect.ts): the last dialect the source pushed in (NULL: never pushed;
-- its reads get strings).
CREATE TABLE sync.source_state (
  user_pk bigint NOT NULL REFERENCES sync.user_state(user_pk),
  source_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'reserved', 'retired')),
  max_committed_source_bundle_id bigint NOT NULL DEFAULT 0 CHECK (max_committed_source_bundle_id >= 0),
  replaced_by_source_id text NOT NULL DEFAULT '',
  retirement_reason text NOT NULL DEFAULT '',
  wire_dialect text,
  PRIMARY KEY (user_pk, source_id)
);
--next
CREATE TABLE sync.row_state (
  user_pk bigint NOT NULL,
  table_id integer NOT NULL,
  key_text text COLLATE "C" NOT NULL,
  bundle_seq bigint NOT NULL,
  deleted boolean NOT NULL,
  PRIMARY KEY (user_pk, table_id, key_text)
);
--next
-- wire_dialect: which material bundle_hash is in.
CREATE TABLE sync.bundle_log (
  user_pk bigint NOT NULL,
  bundle_seq bigint NOT NULL,
  source_id text NOT NULL,
  source_bundle_id bigint NOT NULL,
  row_count integer NOT NULL,
  byte_count bigint NOT NULL,
  bundle_hash text NOT NULL,
  canonical_request_hash text,
  committed_at timestamptz NOT NULL DEFAULT now(),
  wire_dialect text NOT NULL DEFAULT 'jcs-numeric-strings',
  PRIMARY KEY (user_pk, bundle_seq),
  UNIQUE (user_pk, source_id, source_bundle_id)
);
--next
CREATE TABLE sync.bundle_rows (
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
CREATE TRIGGER bundle_log_delete_rows AFTER DELETE ON sync.bundle_log
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sync.bundle_log_delete_rows();
--next
-- Staging (push and snapshot sessions) is transient: UNLOGGED saves the WAL of every staged row.
-- A crash empties these tables, which clients see as an unknown session (404) and recreate.
-- wire_dialect: what the push session speaks.
CREATE UNLOGGED TABLE sync.push_sessions (
  push_id uuid PRIMARY KEY,
  user_pk bigint NOT NULL,
  source_id text NOT NULL,
  source_bundle_id bigint NOT NULL,
  planned_row_count bigint NOT NULL CHECK (planned_row_count > 0),
  next_expected_row_ordinal bigint NOT NULL DEFAULT 0,
  initialization_id uuid,
  canonical_request_hash text,
  expires_at timestamptz NOT NULL,
  wire_dialect text,
  UNIQUE (user_pk, source_id, source_bundle_id)
);
--next
CREATE UNLOGGED TABLE sync.push_session_rows (
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
CREATE UNLOGGED TABLE sync.push_session_segments (
  push_id uuid NOT NULL,
  start_ordinal bigint NOT NULL,
  end_ordinal bigint NOT NULL,
  table_id integer NOT NULL,
  op_code smallint NOT NULL,
  columns text[] NOT NULL,
  PRIMARY KEY (push_id, start_ordinal)
);
--next
-- The rows of each snapshot session live in a table of its own, sync.snapshot_rows_<id hex>
-- (see snapshot-sessions.ts).
CREATE UNLOGGED TABLE sync.snapshot_sessions (
  snapshot_id uuid PRIMARY KEY,
  user_pk bigint NOT NULL,
  snapshot_bundle_seq bigint NOT NULL,
  row_count bigint NOT NULL,
  byte_count bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
--next
CREATE SEQUENCE sync.accepted_push_replay_seq;
--next
CREATE SEQUENCE sync.rejected_registered_write_seq;
--next
CREATE SEQUENCE sync.history_pruned_error_seq;
`;

/**
 * Version 2: a snapshot session can be answered before its build ends (its rows are then built
 * in the background, see snapshot-piecewise-build.ts); `build_error` says why such a build stopped, so
 * its chunk reads fail with that reason instead of waiting.
 */
const STEP_2 = `
ALTER TABLE sync.snapshot_sessions ADD COLUMN build_error text;
`;

/**
 * The upgrade steps: `LAYOUT_STEPS[v]` moves a database from version v to v + 1 (version 0: an
 * empty `sync` schema). Append only.
 */
export const LAYOUT_STEPS: readonly string[] = [STEP_1, STEP_2];

/** The layout version this server writes and reads. */
export const LAYOUT_VERSION = LAYOUT_STEPS.length;

/**
 * Brings the `sync` schema to `LAYOUT_VERSION` inside the caller's transaction (which holds the
 * bootstrap lock) and returns the version it found.
 * @throws SyncSchemaError `sync_schema_foreign` for a schema of other software or of a pre-release
 * build, `sync_schema_too_new` for one written by a newer server, `sync_schema_step_failed` when a
 * step's SQL fails.
 */
export async function upgradeLayout(tx: SqlSession): Promise<number> {
  for (const stmt of splitStatements(META_DDL)) await tx.query(stmt);
  for (const stmt of splitStatements(ROUTINES_DDL)) await tx.query(stmt);
  // to_jsonb: reads a meta table of another shape (go-oversync's has no layout_version) without failing.
  const meta = await tx.query<{ m: { layout_name?: string; layout_version?: number } }>('SELECT to_jsonb(m) AS m FROM sync.meta m');
  const found = meta.rows[0]?.m;
  if (found && (found.layout_name !== LAYOUT_NAME || typeof found.layout_version !== 'number')) {
    throw new SyncSchemaError(
      'sync_schema_foreign',
      `sync schema has layout ${found.layout_name ?? '?'} without an oversqlite layout version (other software or a pre-release build); drop schema "sync" to bootstrap afresh`,
    );
  }
  const before = found?.layout_version ?? 0;
  if (before > LAYOUT_VERSION) {
    throw new SyncSchemaError(
      'sync_schema_too_new',
      `sync schema is at layout version ${before} but this server knows only up to ${LAYOUT_VERSION}; an older server build is running against a newer database: deploy the current build`,
    );
  }
  for (let version = before; version < LAYOUT_VERSION; version++) {
    try {
      for (const stmt of splitStatements(LAYOUT_STEPS[version]!)) await tx.query(stmt);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new SyncSchemaError(
        'sync_schema_step_failed',
        `sync layout step ${version} -> ${version + 1} failed (nothing was changed): ${message}`,
      );
    }
  }
  if (!found) {
    await tx.query(`INSERT INTO sync.meta (protocol_label, layout_name, layout_version) VALUES ('v1', $1, $2)`, [
      LAYOUT_NAME,
      LAYOUT_VERSION,
    ]);
  } else if (before < LAYOUT_VERSION) {
    await tx.query('UPDATE sync.meta SET layout_version = $1', [LAYOUT_VERSION]);
  }
  return before;
}
