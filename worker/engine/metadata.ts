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

/**
 * The `_sync_*` tables at layout version 5 (`METADATA_VERSION`), created in one go on a fresh
 * database. Their texts are stored in `sqlite_schema` exactly as the pre-release upgrade steps 1–5
 * left them (hence `_sync_attachment_state`'s last column after the closing line), so a database
 * made by any build at layout 5 and a fresh one are the same (pinned by
 * `metadata-layout-version-checked-on-open` against test/fixtures/client-metadata/v5.sql, the
 * dump a build of those steps made). Why the tables are as they are:
 * - `_sync_row_state` is only reached by its key and a snapshot writes one per synced row:
 *   clustered on the key (WITHOUT ROWID), one B-tree instead of a table plus a key index. No
 *   timestamp: read by nothing, a third of each row state's bytes.
 * - `_sync_dirty_rows`, one row per pending key written by the capture triggers, is clustered on
 *   the key too, so a capture writes one B-tree; `dirty_ordinal` comes from the connection's
 *   capture order (capture.ts, `_sync_capture_ordinal`), and what reads in capture order sorts.
 * - `_sync_attachment_state.known_row_version` is at least the highest row version stored
 *   (`raiseKnownRowVersion`), so a pull's cascade gate reads one row, not every row state.
 * - `_sync_dropped_rows`: pulled rows dropped because an ancestor (the root) has a pending local
 *   delete (local-parent-deletes.ts); `_sync_skipped_rows`: pulled rows skipped because their key
 *   had a pending change (pull.ts), applied from here if that change never reaches the server;
 *   `_sync_held_changes`: pending changes the self-heal set aside (self-heal.ts);
 *   `_sync_failure_streak`: the self-heal's streak, kept across reloads.
 * - `_sync_outbox_rows_key`: a pull checks each incoming key against the frozen outbox.
 * - `_sync_snapshot_stage`: one row per (chunk, table), the rows as JSONB arrays (snapshot-stage.ts).
 */
const LAYOUT_SQL = `CREATE TABLE _sync_attachment_state (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     current_source_id TEXT NOT NULL,
     binding_state TEXT NOT NULL DEFAULT 'anonymous' CHECK (binding_state IN ('anonymous','attached')),
     attached_user_id TEXT,
     schema_name TEXT NOT NULL DEFAULT '',
     last_bundle_seq_seen INTEGER NOT NULL DEFAULT 0,
     rebuild_required INTEGER NOT NULL DEFAULT 0,
     pending_initialization_id TEXT
   , known_row_version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE _sync_source_state (
     source_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     next_source_bundle_id INTEGER NOT NULL DEFAULT 1,
     replaced_by_source_id TEXT NOT NULL DEFAULT '',
     PRIMARY KEY (source_id, user_id)
   );
CREATE TABLE _sync_operation_state (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     kind TEXT NOT NULL DEFAULT 'none' CHECK (kind IN ('none','remote_replace','source_recovery')),
     target_user_id TEXT,
     reason TEXT,
     replacement_source_id TEXT,
     staged_snapshot_id TEXT,
     snapshot_bundle_seq INTEGER NOT NULL DEFAULT 0,
     snapshot_row_count INTEGER NOT NULL DEFAULT 0
   );
CREATE TABLE _sync_row_state (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     row_version INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID;
CREATE TABLE _sync_dirty_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('INSERT','UPDATE','DELETE')),
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID;
CREATE TABLE _sync_outbox_bundle (
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
   );
CREATE TABLE _sync_outbox_rows (
     row_ordinal INTEGER PRIMARY KEY,
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     wire_key_json TEXT NOT NULL,
     op TEXT NOT NULL,
     base_row_version INTEGER NOT NULL,
     local_payload TEXT,
     dirty_ordinal INTEGER NOT NULL DEFAULT 0
   );
CREATE TABLE _sync_dropped_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     root_table TEXT NOT NULL,
     root_key_json TEXT NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID;
CREATE INDEX _sync_dropped_rows_root ON _sync_dropped_rows(schema_name, root_table, root_key_json);
CREATE TABLE _sync_skipped_rows (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     row_version INTEGER NOT NULL,
     staged TEXT,
     PRIMARY KEY (schema_name, table_name, key_json)
   ) WITHOUT ROWID;
CREATE TABLE _sync_held_changes (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     key_json TEXT NOT NULL,
     op TEXT NOT NULL,
     base_row_version INTEGER NOT NULL DEFAULT 0,
     payload TEXT,
     dirty_ordinal INTEGER NOT NULL,
     PRIMARY KEY (schema_name, table_name, key_json)
   );
CREATE INDEX _sync_outbox_rows_key ON _sync_outbox_rows(schema_name, table_name, key_json);
CREATE TABLE _sync_snapshot_stage (
     snapshot_id TEXT NOT NULL,
     chunk_ordinal INTEGER NOT NULL,
     table_name TEXT NOT NULL,
     row_count INTEGER NOT NULL,
     rows BLOB NOT NULL,
     states BLOB NOT NULL,
     PRIMARY KEY (snapshot_id, chunk_ordinal, table_name)
   );
CREATE TABLE _sync_managed_tables (
     schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL,
     PRIMARY KEY (schema_name, table_name)
   );
CREATE TABLE _sync_failure_streak (
     singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1),
     step TEXT NOT NULL,
     cause TEXT NOT NULL,
     failures INTEGER NOT NULL
   )`;

/**
 * The layout version of the `_sync_*` tables this engine reads and writes, recorded in
 * `_sync_layout`. Versions 1–4 were pre-release layouts and are not upgraded (docs/engine.md,
 * "Metadata layout version"); a later layout change appends an upgrade step from 5.
 */
export const METADATA_VERSION = 5;

/** Creates the tables on a fresh database, or checks their layout version (inside the caller's transaction). */
function upgradeMetadata(db: Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS _sync_layout (singleton_key INTEGER PRIMARY KEY CHECK (singleton_key = 1), version INTEGER NOT NULL)',
  );
  const before = Number(db.selectValue('SELECT version FROM _sync_layout WHERE singleton_key = 1') ?? 0);
  if (before > METADATA_VERSION) {
    throw new SyncError(
      'metadata_layout_too_new',
      `The sync metadata is at layout version ${before} but this build knows only up to ${METADATA_VERSION}. An older build of the app is running against newer data: reload to get the current build.`,
    );
  }
  if (before === METADATA_VERSION) return;
  if (before > 0 || db.selectValue("SELECT 1 FROM sqlite_schema WHERE name = '_sync_attachment_state'") !== undefined) {
    throw new SyncError(
      'metadata_layout_unknown',
      'This database holds sync metadata of a pre-release build; delete the local database to start afresh.',
    );
  }
  db.exec(LAYOUT_SQL);
  db.exec({ sql: 'INSERT INTO _sync_layout(singleton_key, version) VALUES (1, ?)', bind: [METADATA_VERSION] });
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
//   seed lease (pending_initialization_id): set by bindUser (initialize_local), consumed by the
//             first committed push (consumeSeedLease), dropped with the binding; CONNECT_OWED
//             while recovery.ts connects again (the lease lapsed, or has nothing to seed)
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

/**
 * The `pending_initialization_id` of a device that must connect again before it pushes or pulls:
 * the answer to its last connect is not known (lost: the server may hold a lease for this source)
 * or not yet acted on, or another device held the lease (recovery.ts). Never sent.
 */
export const CONNECT_OWED = '';

/** Binds the database to `userId`, with the seed lease of `initialize_local` (else null, or {@link CONNECT_OWED}). */
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
