/**
 * The engine's durable local metadata (`_sync_*` tables). The layout follows the KMP/Go client
 * where that costs nothing (names, key_json format, dirty-row shape), so the contract fixtures'
 * write transitions map onto our tables. Differences, on purpose:
 * - no `_sync_apply_state` row: capture suppression is a connection-local SQL function
 *   (`capture.ts`), so no crash can ever leave capture switched off;
 * - `_sync_source_state` is keyed by (source_id, user_id): the server sequences pushes per
 *   (user, source), so a user switch on the same source starts again at 1 (notes §12.4);
 * - committed push rows are not staged on disk: they are fetched and replayed in one go, and a
 *   crash before replay simply fetches them again.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncError } from './errors.ts';
import { runCached, selectRowCached } from './statements.ts';

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
 * The upgrade steps of the `_sync_*` tables: `METADATA_STEPS[v]` moves a database from layout
 * version v to v + 1 (version 0: no metadata yet), recorded in `_sync_layout`. Append only: a
 * layout change is a new step, never an edit of one that shipped, with a test that upgrades a
 * database made by the previous release (docs/engine.md, "Metadata layout version").
 */
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

export const METADATA_STEPS: readonly (readonly string[])[] = [STEP_1, STEP_2, STEP_3, STEP_4, STEP_5];

/** The layout version of the `_sync_*` tables this engine reads and writes. */
export const METADATA_VERSION = METADATA_STEPS.length;

/** Runs the missing steps (inside the caller's transaction). */
function upgradeMetadata(db: Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS _sync_layout (singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1), version INTEGER NOT NULL)',
  );
  const stored = db.selectValue('SELECT version FROM _sync_layout WHERE singleton_key = 1');
  const before = stored === undefined ? 0 : Number(stored);
  if (before === 0 && db.selectValue("SELECT 1 FROM sqlite_schema WHERE name = '_sync_attachment_state'") !== undefined) {
    throw new SyncError(
      'metadata_layout_unknown',
      'This database holds sync metadata of a pre-release build without a layout version; delete the local database to start afresh.',
    );
  }
  if (before > METADATA_VERSION) {
    throw new SyncError(
      'metadata_layout_too_new',
      `The sync metadata is at layout version ${before} but this build knows only up to ${METADATA_VERSION}. An older build of the app is running against newer data: reload to get the current build.`,
    );
  }
  for (let version = before; version < METADATA_VERSION; version++) for (const sql of METADATA_STEPS[version]!) db.exec(sql);
  if (before < METADATA_VERSION)
    db.exec({ sql: 'INSERT OR REPLACE INTO _sync_layout(singleton_key, version) VALUES (1, ?)', bind: [METADATA_VERSION] });
}

/**
 * Brings the metadata tables to the current layout and creates their singletons. Returns true
 * when this is the first initialization of the DB.
 */
export function installMetadata(db: Database, newSourceId: () => string, remoteSchema: string): boolean {
  let first = false;
  db.savepoint(() => {
    upgradeMetadata(db);
    const existing = db.selectValue('SELECT COUNT(*) FROM _sync_attachment_state');
    if (Number(existing) === 0) {
      first = true;
      db.exec({
        sql: 'INSERT INTO _sync_attachment_state(singleton_key, current_source_id, schema_name) VALUES (1, ?, ?)',
        bind: [newSourceId(), remoteSchema],
      });
    }
    db.exec("INSERT OR IGNORE INTO _sync_operation_state(singleton_key, kind) VALUES (1, 'none')");
    db.exec("INSERT OR IGNORE INTO _sync_outbox_bundle(singleton_key, state) VALUES (1, 'none')");
  });
  return first;
}

// ---------------------------------------------------------------------------------------------
// The attachment state machine (`_sync_attachment_state`, with `_sync_source_state`). Every write
// of these rows is one of the transitions below.
//   binding:  anonymous --bindUser--> attached --unbindUser (detach)--> anonymous
//             attached --unbindAfterSeedLeaseLost--> anonymous (data, checkpoint and outbox kept)
//   seed lease (pending_initialization_id): set by bindUser (initialize_local), consumed by the
//             first committed push (consumeSeedLease), dropped with the binding
//   checkpoint (last_bundle_seq_seen): recordPulledBundle, recordReplayedBundle (when contiguous),
//             recordSnapshotApplied; 0 again on unbindUser
//   rebuild_required: requireRebuild (a snapshot must replace local state before the next pull);
//             cleared only by recordSnapshotApplied (or unbindUser)
//   source:   rotateSource (source recovery); next_source_bundle_id only moves forward
// ---------------------------------------------------------------------------------------------

/** The durable attachment singleton. */
interface AttachmentState {
  currentSourceId: string;
  bindingState: 'anonymous' | 'attached';
  attachedUserId: string | null;
  schemaName: string;
  lastBundleSeqSeen: number;
  rebuildRequired: boolean;
  pendingInitializationId: string | null;
  /**
   * At least the highest `row_version` in `_sync_row_state` (equal, unless row states were removed
   * since): every write of row states raises it with the highest version it wrote, in the same
   * transaction (`raiseKnownRowVersion`). A kept bound: a MAX is a pass over every row state.
   */
  knownRowVersion: number;
}

/** Reads the attachment singleton. */
export function readAttachment(db: Database): AttachmentState {
  // A cached statement: this runs several times per sync and for every status event.
  const row = selectRowCached(db, READ_ATTACHMENT_SQL, [])!;
  return {
    currentSourceId: String(row[0]),
    bindingState: row[1] as 'anonymous' | 'attached',
    attachedUserId: (row[2] as string | null) ?? null,
    schemaName: String(row[3]),
    lastBundleSeqSeen: Number(row[4]),
    rebuildRequired: Number(row[5]) === 1,
    pendingInitializationId: (row[6] as string | null) ?? null,
    knownRowVersion: Number(row[7]),
  };
}

const READ_ATTACHMENT_SQL =
  'SELECT current_source_id, binding_state, attached_user_id, schema_name, last_bundle_seq_seen, ' +
  'rebuild_required, pending_initialization_id, known_row_version FROM _sync_attachment_state WHERE singleton_key = 1';

/** Binds the database to `userId`, with the seed lease of `initialize_local` (else null). */
export function bindUser(db: Database, userId: string, initializationId: string | null): void {
  db.exec({
    sql: "UPDATE _sync_attachment_state SET binding_state = 'attached', attached_user_id = ?, pending_initialization_id = ? WHERE singleton_key = 1",
    bind: [userId, initializationId],
  });
}

/** Detach: anonymous again with no checkpoint and no rebuild pending (the caller wipes the data and row versions). */
export function unbindUser(db: Database): void {
  db.exec(
    "UPDATE _sync_attachment_state SET binding_state = 'anonymous', attached_user_id = NULL, last_bundle_seq_seen = 0, " +
      'rebuild_required = 0, pending_initialization_id = NULL, known_row_version = 0 WHERE singleton_key = 1',
  );
}

/** Row states up to `version` were written: raises `knownRowVersion` (`readAttachment`) to it. */
export function raiseKnownRowVersion(db: Database, version: number): void {
  runCached(db, 'UPDATE _sync_attachment_state SET known_row_version = ?1 WHERE singleton_key = 1 AND known_row_version < ?1', [version]);
}

/** The seed lease became invalid: anonymous again, keeping data and checkpoint (attach again). */
export function unbindAfterSeedLeaseLost(db: Database): void {
  db.exec(
    "UPDATE _sync_attachment_state SET binding_state = 'anonymous', attached_user_id = NULL, pending_initialization_id = NULL WHERE singleton_key = 1",
  );
}

/** The seed lease was consumed by a committed push. */
export function consumeSeedLease(db: Database): void {
  db.exec(
    'UPDATE _sync_attachment_state SET pending_initialization_id = NULL WHERE singleton_key = 1 AND pending_initialization_id IS NOT NULL',
  );
}

/** Local state must be rebuilt from a snapshot before the next pull. */
export function requireRebuild(db: Database): void {
  db.exec('UPDATE _sync_attachment_state SET rebuild_required = 1 WHERE singleton_key = 1');
}

/** The checkpoint moves to a pulled bundle applied in the same transaction. */
export function recordPulledBundle(db: Database, seq: number): void {
  db.exec({ sql: 'UPDATE _sync_attachment_state SET last_bundle_seq_seen = ? WHERE singleton_key = 1', bind: [seq] });
}

/** Our own committed bundle was replayed: the checkpoint moves to it when it is the next one. */
export function recordReplayedBundle(db: Database, seq: number): void {
  if (seq === readAttachment(db).lastBundleSeqSeen + 1) recordPulledBundle(db, seq);
}

/** A snapshot replaced local state: the checkpoint is its bundle seq; `rebuildAgain` when it must be followed by another. */
export function recordSnapshotApplied(db: Database, snapshotBundleSeq: number, rebuildAgain: boolean): void {
  db.exec({
    sql: 'UPDATE _sync_attachment_state SET last_bundle_seq_seen = ?, rebuild_required = ? WHERE singleton_key = 1',
    bind: [snapshotBundleSeq, rebuildAgain ? 1 : 0],
  });
}

/** Source recovery: the current source is marked replaced by `newSourceId`, which becomes current. */
export function rotateSource(db: Database, newSourceId: string): void {
  db.exec({
    sql: 'UPDATE _sync_source_state SET replaced_by_source_id = ? WHERE source_id = ?',
    bind: [newSourceId, readAttachment(db).currentSourceId],
  });
  db.exec({ sql: 'UPDATE _sync_attachment_state SET current_source_id = ? WHERE singleton_key = 1', bind: [newSourceId] });
}

/** Next source_bundle_id for (source, user); 1 when this pair never pushed. */
export function readNextSourceBundleId(db: Database, sourceId: string, userId: string): number {
  const v = db.selectValue('SELECT next_source_bundle_id FROM _sync_source_state WHERE source_id = ? AND user_id = ?', [sourceId, userId]);
  return v === undefined ? 1 : Number(v);
}

/** Advances next_source_bundle_id monotonically to at least `next`. */
export function advanceNextSourceBundleId(db: Database, sourceId: string, userId: string, next: number): void {
  db.exec({
    sql:
      'INSERT INTO _sync_source_state(source_id, user_id, next_source_bundle_id) VALUES (?, ?, ?) ' +
      'ON CONFLICT(source_id, user_id) DO UPDATE SET next_source_bundle_id = MAX(next_source_bundle_id, excluded.next_source_bundle_id)',
    bind: [sourceId, userId, next],
  });
}

// ---------------------------------------------------------------------------------------------
// The operation in progress (`_sync_operation_state`): a durable transition that a crash must
// finish on the next run.
//   none --startRemoteReplace (connect: remote_authoritative)--> remote_replace
//   none --startSourceRecovery (the server retired our source)--> source_recovery
//   either --finishOperation (snapshot applied, or detach)--> none
//   remote_replace --cancelRemoteReplace (detach while anonymous)--> none
// ---------------------------------------------------------------------------------------------

/** The durable in-progress transition singleton. */
interface OperationState {
  kind: 'none' | 'remote_replace' | 'source_recovery';
  targetUserId: string | null;
  reason: string | null;
  replacementSourceId: string | null;
}

/** Reads the operation singleton. */
export function readOperation(db: Database): OperationState {
  const row = db.exec({
    sql: 'SELECT kind, target_user_id, reason, replacement_source_id FROM _sync_operation_state WHERE singleton_key = 1',
    rowMode: 'array',
    returnValue: 'resultRows',
  })[0] as unknown[];
  return {
    kind: row[0] as OperationState['kind'],
    targetUserId: (row[1] as string | null) ?? null,
    reason: (row[2] as string | null) ?? null,
    replacementSourceId: (row[3] as string | null) ?? null,
  };
}

/** Connect answered `remote_authoritative`: a snapshot for `userId` replaces local state. */
export function startRemoteReplace(db: Database, userId: string): void {
  db.exec({ sql: "UPDATE _sync_operation_state SET kind = 'remote_replace', target_user_id = ? WHERE singleton_key = 1", bind: [userId] });
}

/** The server retired our source (`reason`): rebuild from a snapshot under `replacementSourceId`. */
export function startSourceRecovery(db: Database, targetUserId: string, reason: string, replacementSourceId: string): void {
  db.exec({
    sql:
      "UPDATE _sync_operation_state SET kind = 'source_recovery', target_user_id = ?, reason = ?, replacement_source_id = ? " +
      'WHERE singleton_key = 1',
    bind: [targetUserId, reason, replacementSourceId],
  });
}

/** The operation in progress is done (or abandoned by detach). */
export function finishOperation(db: Database): void {
  db.exec(
    "UPDATE _sync_operation_state SET kind = 'none', target_user_id = NULL, reason = NULL, replacement_source_id = NULL WHERE singleton_key = 1",
  );
}

/** An interrupted remote replace is cancelled (detach of an anonymous database); any other operation stays. */
export function cancelRemoteReplace(db: Database): void {
  db.exec(
    "UPDATE _sync_operation_state SET kind = 'none', target_user_id = NULL, reason = NULL, replacement_source_id = NULL WHERE singleton_key = 1 AND kind = 'remote_replace'",
  );
}

// ---------------------------------------------------------------------------------------------
// The outbox state machine (`_sync_outbox_bundle` header, with `_sync_outbox_rows`):
//   none --prepareOutbox (freeze)--> prepared
//   prepared --markOutboxCommitted--> committed_remote --clearOutbox (replayed)--> none
//   any --clearOutbox (requeued, skipped past, detach, snapshot)--> none
//   dropOutboxSeedLease: the seed lease it would carry became invalid
// ---------------------------------------------------------------------------------------------

/** The frozen outbox header. */
export interface OutboxHeader {
  state: 'none' | 'prepared' | 'committed_remote';
  sourceId: string;
  userId: string;
  sourceBundleId: number;
  canonicalRequestHash: string;
  rowCount: number;
  initializationId: string | null;
  remoteBundleHash: string;
  remoteBundleSeq: number;
}

/** Reads the outbox header. */
export function readOutboxHeader(db: Database): OutboxHeader {
  const r = selectRowCached(
    db,
    'SELECT state, source_id, user_id, source_bundle_id, canonical_request_hash, row_count, initialization_id, ' +
      'remote_bundle_hash, remote_bundle_seq FROM _sync_outbox_bundle WHERE singleton_key = 1',
    [],
  )!;
  return {
    state: r[0] as OutboxHeader['state'],
    sourceId: String(r[1]),
    userId: String(r[2]),
    sourceBundleId: Number(r[3]),
    canonicalRequestHash: String(r[4]),
    rowCount: Number(r[5]),
    initializationId: (r[6] as string | null) ?? null,
    remoteBundleHash: String(r[7]),
    remoteBundleSeq: Number(r[8]),
  };
}

/** The freeze wrote `rowCount` outbox rows: they become source bundle `sourceBundleId` of (source, user). */
export function prepareOutbox(
  db: Database,
  bundle: { sourceId: string; userId: string; sourceBundleId: number; rowCount: number; initializationId: string | null },
): void {
  db.exec({
    sql:
      "UPDATE _sync_outbox_bundle SET state = 'prepared', source_id = ?, user_id = ?, source_bundle_id = ?, " +
      "canonical_request_hash = '', row_count = ?, initialization_id = ?, remote_bundle_hash = '', remote_bundle_seq = 0 " +
      'WHERE singleton_key = 1',
    bind: [bundle.sourceId, bundle.userId, bundle.sourceBundleId, bundle.rowCount, bundle.initializationId],
  });
}

/** The server committed the outbox as bundle `bundleSeq` with `bundleHash`. */
export function markOutboxCommitted(db: Database, bundleSeq: number, bundleHash: string): void {
  db.exec({
    sql: `UPDATE _sync_outbox_bundle SET state = 'committed_remote', remote_bundle_seq = ?, remote_bundle_hash = ? WHERE singleton_key = 1`,
    bind: [bundleSeq, bundleHash],
  });
}

/** The outbox no longer carries the seed lease (it became invalid). */
export function dropOutboxSeedLease(db: Database): void {
  db.exec('UPDATE _sync_outbox_bundle SET initialization_id = NULL WHERE singleton_key = 1');
}

/** Inside a transaction: empties the outbox (rows and header). */
export function clearOutbox(db: Database): void {
  db.exec('DELETE FROM _sync_outbox_rows');
  db.exec(
    "UPDATE _sync_outbox_bundle SET state = 'none', source_id = '', user_id = '', source_bundle_id = 0, canonical_request_hash = '', " +
      "row_count = 0, initialization_id = NULL, remote_bundle_hash = '', remote_bundle_seq = 0 WHERE singleton_key = 1",
  );
}

/** Dirty rows plus frozen outbox rows. */
export function countPending(db: Database): number {
  return Number(
    selectRowCached(
      db,
      'SELECT (SELECT COUNT(*) FROM _sync_dirty_rows) + (SELECT COUNT(*) FROM _sync_outbox_rows) + (SELECT COUNT(*) FROM _sync_held_changes)',
      [],
    )![0],
  );
}
