/**
 * The pre-release upgrade steps of the client's `_sync_*` tables, as they shipped before 0.1.0
 * (worker/engine/metadata.ts until session 18): `METADATA_STEPS_1_TO_5[v]` moved a database from
 * layout v to v + 1. The engine now creates layout 5 in one go and refuses layouts 1–4; these
 * steps stay here only so a test can check that a fresh database's tables are exactly what they
 * produced (`metadata-layout-fresh-equals-steps-1-to-5.test.ts`). Do not edit.
 */
/** Step 1: the first layout (0.1.0). */
const STEP_1 = [
  `CREATE TABLE _sync_attachment_state (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     current_source_id TEXT NOT NULL,
     binding_state TEXT NOT NULL DEFAULT 'anonymous' CHECK (binding_state IN ('anonymous','attached')),
     attached_user_id TEXT,
     schema_name TEXT NOT NULL DEFAULT '',
     last_bundle_seq_seen INTEGER NOT NULL DEFAULT 0,
     rebuild_required INTEGER NOT NULL DEFAULT 0,
     pending_initialization_id TEXT
   )`,
  `CREATE TABLE _sync_source_state (
     source_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     next_source_bundle_id INTEGER NOT NULL DEFAULT 1,
     replaced_by_source_id TEXT NOT NULL DEFAULT '',
     PRIMARY KEY (source_id, user_id)
   )`,
  `CREATE TABLE _sync_operation_state (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     kind TEXT NOT NULL DEFAULT 'none' CHECK (kind IN ('none','remote_replace','source_recovery')),
     target_user_id TEXT,
     reason TEXT,
     replacement_source_id TEXT,
     staged_snapshot_id TEXT,
     snapshot_bundle_seq INTEGER NOT NULL DEFAULT 0,
     snapshot_row_count INTEGER NOT NULL DEFAULT 0
   )`,
  // WITHOUT ROWID: the table is only ever reached by its key, and a snapshot writes one row per
  // synced row; clustered on the key it is one B-tree instead of a table plus an index holding
  // the key again (about a third fewer pages to write).
  `CREATE TABLE _sync_row_state (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     row_version INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID`,
  // One row per pending key, written by the capture triggers on every app write. No updated_at
  // column: nothing read it, and it was ~8% of the bytes each captured row writes. Not WITHOUT
  // ROWID (measured in the browser: the triggers' upsert then rewrites a whole clustered record
  // per update, and bulk updates got ~1.6x slower).
  `CREATE TABLE _sync_dirty_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')),
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   )`,
  // The capture triggers read MAX(dirty_ordinal) on every write (keep that O(log n)); the push
  // freeze walks it (INDEXED BY) for capture order. (Replaced by step 3.)
  `CREATE INDEX _sync_dirty_rows_ordinal ON _sync_dirty_rows(dirty_ordinal)`,
  `CREATE TABLE _sync_outbox_bundle (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     state TEXT NOT NULL DEFAULT 'none' CHECK (state IN ('none','prepared','committed_remote')),
     source_id TEXT NOT NULL DEFAULT '',
     user_id TEXT NOT NULL DEFAULT '',
     source_bundle_id INTEGER NOT NULL DEFAULT 0,
     canonical_request_hash TEXT NOT NULL DEFAULT '',
     row_count INTEGER NOT NULL DEFAULT 0,
     initialization_id TEXT,
     remote_bundle_hash TEXT NOT NULL DEFAULT '',
     remote_bundle_seq INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE _sync_outbox_rows (
     row_ordinal INTEGER PRIMARY KEY,
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     wire_key_json TEXT NOT NULL,
     op TEXT NOT NULL,
     base_row_version INTEGER NOT NULL,
     local_payload TEXT,
     dirty_ordinal INTEGER NOT NULL DEFAULT 0
   )`,
  // Pulled rows dropped because an ancestor has a pending local delete (local-parent-deletes.ts),
  // with that ancestor (the root): if its delete does not win on the server after all, they
  // exist only there; and a later row under a dropped one follows the same root.
  `CREATE TABLE _sync_dropped_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     root_table TEXT NOT NULL,
     root_key_json TEXT NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID`,
  `CREATE INDEX _sync_dropped_rows_root ON _sync_dropped_rows(schema_name, root_table, root_key_json)`,
  // Pulled rows skipped because their key had a pending local change (pull.ts), newest version per
  // key, staged values (snapshot-stage encoding). If that change then never reaches the server (an
  // insert dropped as a no-op), the server's row is applied from here instead of never.
  `CREATE TABLE _sync_skipped_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     row_version INTEGER NOT NULL,
     staged TEXT,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID`,
  // Pending changes the self-heal set aside while it looks for the ones the server refuses
  // (self-heal.ts); same shape as _sync_dirty_rows. Given back to the dirty set on open.
  `CREATE TABLE _sync_held_changes (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL,
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   )`,
  // A pull checks every incoming key against the frozen outbox; without this it scans the outbox per row.
  `CREATE INDEX _sync_outbox_rows_key ON _sync_outbox_rows(schema_name, table_name, key_json)`,
  // One row per (chunk, table): the chunk's rows of that table as JSONB arrays, expanded with
  // jsonb_each by the final apply (format in snapshot-stage.ts). chunk_ordinal = first row ordinal.
  `CREATE TABLE _sync_snapshot_stage (
     snapshot_id TEXT NOT NULL,
     chunk_ordinal INTEGER NOT NULL,
     table_name TEXT NOT NULL,
     row_count INTEGER NOT NULL,
     rows BLOB NOT NULL,
     states BLOB NOT NULL,
     PRIMARY KEY (snapshot_id, chunk_ordinal, table_name)
   )`,
  `CREATE TABLE _sync_managed_tables (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     PRIMARY KEY (schema_name, table_name)
   )`,
];

/**
 * Layout 2: the self-heal's failure streak (self-heal.ts) survives a reload, so a device whose
 * app is reopened between failing syncs (a PWA, a discarded tab) still reaches the threshold.
 */
const STEP_2 = [
  `CREATE TABLE _sync_failure_streak (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     step TEXT NOT NULL,
     cause TEXT NOT NULL,
     failures INTEGER NOT NULL
   )`,
];

/**
 * Layout 3: the capture ordinal is the rowid of `_sync_dirty_rows` (INTEGER PRIMARY KEY), so a
 * captured row is written to two B-trees (rows by ordinal, the key index) instead of three, and
 * capture gets its next ordinal from SQLite's rowid choice (the largest plus one) instead of a
 * MAX(dirty_ordinal) lookup. Ordinals are unique now: the engine gives changes back to the dirty
 * set with ordinals below every pending one (`ordinalOffsetBeforePending`, capture.ts). Existing
 * pending changes keep their order (renumbered 1..n; the old layout allowed equal ordinals).
 * Copied through a temporary table rather than renamed: SQLite's RENAME TABLE re-checks every
 * trigger, and the capture triggers name `_sync_dirty_rows` while it is gone.
 */
const STEP_3 = [
  `CREATE TEMP TABLE _sync_dirty_rows_v2 AS
     SELECT schema_name, table_name, key_json, op, base_row_version, payload,
       row_number() OVER (ORDER BY dirty_ordinal, rowid) AS dirty_ordinal
     FROM _sync_dirty_rows`,
  `DROP TABLE _sync_dirty_rows`,
  `CREATE TABLE _sync_dirty_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')),
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER PRIMARY KEY,
     UNIQUE (schema_name, table_name, key_json)
   )`,
  'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
    'SELECT schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM temp._sync_dirty_rows_v2',
  `DROP TABLE temp._sync_dirty_rows_v2`,
];

/**
 * Layout 4: `_sync_row_state` without `updated_at` (a timestamp written for every applied row and
 * read by nothing: a third of each row state's bytes, and a bundle pull writes one row state per
 * row). And the highest row version the device knows, kept in `known_row_version` (raised wherever
 * row states are written, see `raiseKnownRowVersion`), so a pull reads its gate
 * (remote-cascades.ts) from one row instead of a pass over every row state.
 */
const STEP_4 = [
  'ALTER TABLE _sync_row_state DROP COLUMN updated_at',
  'ALTER TABLE _sync_attachment_state ADD COLUMN known_row_version INTEGER NOT NULL DEFAULT 0',
  'UPDATE _sync_attachment_state SET known_row_version = (SELECT COALESCE(MAX(row_version), 0) FROM _sync_row_state)',
];

/**
 * Layout 5: `_sync_dirty_rows` is one B-tree, clustered on the key (WITHOUT ROWID), instead of
 * rows by ordinal plus a key index: a captured row is written once, not twice (in Chromium on
 * OPFS, most of what capture adds to a bulk insert was those two inserts, and a single-row
 * commit writes one page fewer). `dirty_ordinal` is a plain column now; capture takes it from
 * the connection's ordinal counter (capture.ts, `_sync_capture_ordinal`), above every ordinal
 * stored, and what reads in capture order sorts. (Layout 1 found WITHOUT ROWID slower for bulk
 * updates: its triggers rewrote whole records holding payloads. Capture stores no payload now,
 * and an update of a key already pending as is writes nothing.) Copied through a temporary
 * table, as in step 3.
 */
const STEP_5 = [
  `CREATE TEMP TABLE _sync_dirty_rows_v4 AS
     SELECT schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM _sync_dirty_rows`,
  `DROP TABLE _sync_dirty_rows`,
  `CREATE TABLE _sync_dirty_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')),
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID`,
  'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
    'SELECT schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM temp._sync_dirty_rows_v4',
  `DROP TABLE temp._sync_dirty_rows_v4`,
];

export const METADATA_STEPS_1_TO_5: readonly (readonly string[])[] = [STEP_1, STEP_2, STEP_3, STEP_4, STEP_5];
