/**
 * Public types of the client sync engine. Everything that crosses to the main thread (status,
 * events, results) is plain structured-clone-able data: no class instances, no functions.
 */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import type { ValueFamily, WireOp } from '../../protocol/index.ts';
import type { ConflictResolver, ConflictStrategy } from './conflict-strategies.ts';

/** A synced table. The local SQLite table has the same name as the remote table. */
export interface SyncedTable {
  /** Table name (local and remote, unqualified). */
  table: string;
  /** Sync key column: must be the table's single PRIMARY KEY, declared TEXT or BLOB (16-byte UUID). */
  syncKey: string;
  /**
   * Per-column value family overrides, for columns whose declared SQLite type does not say how
   * the value travels (e.g. `boolean` for an INTEGER flag, `decimal` for an exact TEXT amount,
   * `json` for a TEXT column holding JSON, `timestamp`). Unlisted columns are derived from the
   * declared type.
   */
  columns?: Record<string, ValueFamily>;
}

export type { ConflictContext, ConflictResolution, ConflictResolver, ConflictStrategy } from './conflict-strategies.ts';

/** Options of {@link SyncEngine.open}. */
export interface SyncEngineOptions {
  sqlite3: Sqlite3Static;
  /** The open database; the app schema is already created by the runtime. */
  db: Database;
  /** PostgreSQL schema name on the server (one per database), e.g. `business`. */
  remoteSchema: string;
  /** Selective sync: only these tables are captured and synced, each with its sync-key column (its TEXT or BLOB primary key). */
  tables: readonly SyncedTable[];
  /** Server base URL; protocol paths (`/sync/...`) are appended to it. */
  serverUrl: string;
  /**
   * Returns the current bearer token (may refresh). Never stored in SQLite. `null` means signed
   * out (`auth_required`: automatic runs stop until an explicit call succeeds); throwing or
   * rejecting means no token right now (`token_unavailable`: transient, retried with backoff).
   */
  getToken: () => Promise<string | null>;
  /**
   * How long one `getToken()` call may take before the engine stops waiting and treats it as no
   * token right now (`token_unavailable`, retried with backoff). Default 30,000 ms.
   */
  getTokenTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Conflict strategy: a named one (`CONFLICT_STRATEGIES`) or a resolver function. Default `'server-wins'`. */
  conflicts?: ConflictStrategy | ConflictResolver;
  /**
   * How long a conflict resolver may take to decide before the push stops waiting: it fails with
   * `conflict_resolver_timeout`, the changes stay pending, and the next sync asks again. The sync
   * holds the writer lock meanwhile (the app's interactive transactions wait). Default 60,000 ms.
   */
  conflictResolverTimeoutMs?: number;
  /**
   * Local changes made before the first sign-in when the server already has data
   * (`remote_authoritative`): kept as pending intent on top of the server's rows (default) or discarded.
   */
  anonymousData?: 'keep' | 'discard';
  /**
   * Automatic sync after writes (debounced), on an interval, on server wake-ups (`watch`), on coming
   * online, and (through `openDatabase`) when the leader tab becomes visible again or gets focus
   * (at most once per 5 s). `false` (default): only explicit calls.
   */
  autoSync?: false | { debounceMs?: number; intervalMs?: number; watch?: boolean };
  /** Rows per push chunk (clamped to the server's `max_rows_per_push_chunk`). Default 1000. */
  pushChunkRows?: number;
  /** Bundles per pull page (clamped to `max_bundles_per_pull`). Default 1000. */
  pullMaxBundles?: number;
  /** Rows per snapshot chunk request. Default: the server's `max_rows_per_snapshot_chunk` (5000 on ours), else its default, else 1000. */
  snapshotChunkRows?: number;
  /** Bytes per snapshot chunk request (`max_bytes`). Default 4 MiB. */
  snapshotChunkBytes?: number;
  /** Transport retry policy for 429/502/503/504/network errors. */
  retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /** Conflict auto-retries per push. Default 3. */
  maxConflictRetries?: number;
  /**
   * Last-resort self-heal: when the same sync step fails this many times in a row with the same
   * non-transient error (counted across reloads), the engine rebuilds from a server snapshot keeping its pending changes
   * (and, if the push still fails the same way, drops the changes the server keeps refusing, each
   * as a `lost` event). Default 3; 0 turns it off.
   */
  selfHealAfter?: number;
  /** Injected clock and timers (tests). */
  clock?: EngineClock;
  /**
   * Held around each sync operation (attach, sync, push, pull, hydrate, detach): resolves with
   * its release once the operation may write. The worker shares it with interactive
   * transactions, so that sync never writes inside one and one never opens inside a sync step.
   */
  writerLock?: () => Promise<() => void>;
}

/**
 * The sync options an app sets (through `openDatabase`, which hands them to the worker); the other
 * engine options tune the engine or are seams for tests and hosts that run SQLite themselves.
 */
export type AppSyncOptionName =
  | 'serverUrl'
  | 'remoteSchema'
  | 'tables'
  | 'getToken'
  | 'getTokenTimeoutMs'
  | 'conflicts'
  | 'conflictResolverTimeoutMs'
  | 'anonymousData'
  | 'autoSync';

/** The sync options an app sets: the one definition `openDatabase`'s `SyncOptions` and the worker's `WorkerSyncOptions` derive from. */
export type AppSyncOptions = Readonly<Pick<SyncEngineOptions, AppSyncOptionName>>;

/** Time source and timers; injectable so backoff and debounce are testable without sleeping. */
export interface EngineClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

/** What the engine is doing right now. */
export type SyncPhase =
  'idle' | 'attaching' | 'pushing' | 'pulling' | 'hydrating' | 'recovering' | 'detaching' | 'auth_required' | 'closed';

/** An error as reported in status and events: a stable `code` plus a human message. */
export interface SyncErrorInfo {
  code: string;
  message: string;
  status?: number;
  /**
   * The row the server refused, when it names one (a push refused because of the pushed data:
   * `rejection` of `push_commit_invalid` / `push_session_commit_failed`): table, key value, op,
   * why (`missing_reference`, `check_violation`, …) and the column(s) when known.
   */
  rejected?: { table: string; key: string; op: string; reason: string; columns: string[] };
}

/** Snapshot of the engine's state (structured-clone-able). */
export interface SyncStatus {
  online: boolean;
  phase: SyncPhase;
  /** Attached user, or null when anonymous. */
  userId: string | null;
  /** Pending local changes: dirty rows plus frozen outbox rows. */
  pendingCount: number;
  /**
   * Epoch ms of the last successful exchange with the server: a push or a pull (including a
   * snapshot) that completed against the server in this session. Operations that need no server
   * (an offline `attach` that resumed, a push with nothing to send) never set it; null until the
   * first exchange since the engine opened.
   */
  lastSyncAt: number | null;
  lastError: SyncErrorInfo | null;
  /** Snapshot/upload progress, or null when nothing long-running is under way. */
  progress: { done: number; total: number } | null;
  sourceId: string;
  /** Last bundle sequence applied contiguously (`last_bundle_seq_seen`). */
  checkpoint: number;
}

/**
 * How a conflict was resolved: the `conflict` event's payload. It is emitted after the
 * resolution's transaction has committed, so the local table already shows the result; the rows
 * below say what the two sides were before. Plain data (structured-clone-able).
 */
export interface ConflictEventDetail {
  table: string;
  /** The sync key value (string; BLOB UUID keys as dashed UUID text). */
  key: string;
  /** The local intent that the server rejected. */
  localOp: WireOp;
  /**
   * The local row as it was before resolution, as the app's SQLite stores it (column name →
   * number, bigint, text, Uint8Array or null; not the resolver's wire form): the app's latest edit
   * of that key, which is newer than the pushed intent when the app wrote it again during the
   * push; null when it was deleted.
   */
  localRow: Record<string, unknown> | null;
  /** The server's row that won or was merged with (null when deleted or missing), in the same app form. */
  serverRow: Record<string, unknown> | null;
  serverVersion: number;
  serverDeleted: boolean;
  resolution: 'server' | 'local' | 'merged' | 'delete';
}

/**
 * Why sync removed a row (or a pending change) the app had or was about to get:
 * - `parent_deleted_locally`: a pulled row whose parent this device deleted (not pushed yet) under
 *   an `ON DELETE CASCADE` foreign key; the server removes it too when the delete lands.
 * - `parent_deleted_remotely`: a local row with a pending change whose parent another device
 *   deleted (the server's FK would refuse it forever).
 * - `cascade`: a row removed together with its parent: a pulled bundle deleted both (another
 *   device deleted the parent; the server's cascade took the row, perhaps one this device
 *   created), or an applied delete of the parent cascaded locally over a pending change.
 * - `delete_refused`: a pending local delete of a parent that a `RESTRICT`/`NO ACTION` foreign key
 *   refuses, because another device added a child under it; the parent comes back.
 * - `unsyncable`: the last-resort self-heal dropped a pending change the server refused every time.
 */
export type RowLostReason = 'parent_deleted_locally' | 'parent_deleted_remotely' | 'cascade' | 'delete_refused' | 'unsyncable';

/** A row or pending change sync removed: the `lost` event's payload (plain data). */
export interface RowLostDetail {
  table: string;
  /** The sync key value (string; BLOB UUID keys as dashed UUID text). */
  key: string;
  reason: RowLostReason;
  /**
   * The row as the app's SQLite stored it just before it went (column name to value: numbers,
   * bigints, text, Uint8Array, null); the pending after-image for a change that never had a row;
   * null for a pending delete.
   */
  row: Record<string, unknown> | null;
  /** The pending local change that was dropped, or null when the row had none. */
  localOp: WireOp | null;
}

/** The last-resort self-heal ran: the `self_heal` event's payload (plain data). */
export interface SelfHealDetail {
  /** The failure that repeated `failures` times in a row. */
  cause: SyncErrorInfo;
  /** The step that kept failing. */
  step: 'push' | 'pull';
  failures: number;
  /** Pending changes the heal could not keep (each also reached the app as a `lost` event). */
  droppedChanges: number;
}

/** Events emitted to subscribers. */
export type SyncEvent =
  | { type: 'status'; status: SyncStatus }
  | { type: 'conflict'; conflict: ConflictEventDetail }
  | { type: 'lost'; lost: RowLostDetail }
  | { type: 'self_heal'; selfHeal: SelfHealDetail }
  | { type: 'error'; error: SyncErrorInfo }
  | { type: 'applied'; tables: string[] };

/** Result of {@link SyncEngine.attach}. */
export type AttachResult =
  | {
      status: 'connected';
      outcome: 'resumed' | 'seeded_from_local' | 'started_empty' | 'used_remote_state';
      userId: string;
      /** Rows applied from the snapshot (used_remote_state). */
      snapshotRows?: number;
      /** Anonymous local changes kept as pending intent (used_remote_state, anonymousData 'keep'). */
      keptLocalChanges?: number;
      /** Anonymous local changes dropped (anonymousData 'discard'). */
      discardedLocalChanges?: number;
    }
  | { status: 'retry_later'; retryAfterSeconds: number };

/** Options of {@link SyncEngine.detach}. */
export interface DetachOptions {
  /**
   * Sign out even with local changes not on the server yet, discarding them (counted in
   * `discardedChanges`). For a shared device, or changes the user chose to drop; default false.
   */
  force?: boolean;
}

/** Result of {@link SyncEngine.detach}. */
export type DetachResult = { outcome: 'detached'; discardedChanges: number } | { outcome: 'blocked_unsynced_data'; pendingCount: number };

/** Result of {@link SyncEngine.syncThenDetach}. */
export interface SyncThenDetachResult {
  /** The last sync round's result. */
  lastSync: SyncResult;
  /** The detach after that round: detached, or blocked by changes written during the syncs. */
  detach: DetachResult;
  /** Sync rounds run, 1 to 3. */
  syncRounds: number;
  /** Changes still pending when it stopped: 0 when detached. */
  remainingPendingCount: number;
}

/** Result of {@link SyncEngine.pushPending}. */
export interface PushResult {
  outcome: 'no_change' | 'committed';
  /** Committed bundle sequence (committed). */
  bundleSeq?: number;
  rowCount: number;
  conflicts: number;
}

/** Result of {@link SyncEngine.pullToStable} and {@link SyncEngine.hydrate}. */
export interface PullResult {
  outcome: 'already_at_target' | 'applied_incremental' | 'applied_snapshot';
  checkpoint: number;
  bundlesApplied: number;
  rowsApplied: number;
}

/** Result of {@link SyncEngine.sync}. */
export interface SyncResult {
  push: PushResult;
  pull: PullResult;
}
