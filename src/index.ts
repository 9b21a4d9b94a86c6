/**
 * Public entry `oversqlite`: local-first SQLite for the web that syncs with PostgreSQL.
 *
 * ```ts
 * const db = await openDatabase({ name: 'app', schema: { version: 1, migrations: ['CREATE TABLE ...'] } });
 * await db.exec('INSERT INTO todo (id, title) VALUES (?, ?)', [id, 'Buy milk']);
 * db.live('SELECT * FROM todo', [], (rows) => render(rows));
 * ```
 * @packageDocumentation
 */
export { openDatabase } from './open-database.ts';
export type { OpenDatabaseOptions, SyncOptions } from './open-database.ts';
export { Database } from './database.ts';
export type { DatabaseEvents } from './database.ts';
export { Transaction } from './transaction.ts';
export type { TransactionOptions, TransactionState } from './transaction.ts';
export type { LiveQuery } from './live-query.ts';
export type { SyncHandle } from './sync-handle.ts';
export type { ObservableValue } from './observable-value.ts';
export type { StorageStatus } from './storage-status.ts';
export type { TabRole } from './tab-coordinator.ts';
export type { WorkerFactory } from './worker-backend.ts';
export { lastAttachedUser } from './device-state.ts';
export { OversqliteError } from './errors.ts';
export type { OversqliteErrorCode, OversqliteErrorShape } from './errors.ts';
export type { AppSchema, ExecResult, Row, SqlParams, SqlStatement, SqlValue } from '../worker/database/types.ts';
export type { CommitNotice } from '../worker/database/table-access.ts';
export type { GroupCommitStats } from '../worker/database/group-commit.ts';
export type { StorageKind } from '../worker/database/storage-kinds.ts';
export type {
  AttachResult,
  ConflictContext,
  ConflictEventDetail,
  ConflictResolution,
  ConflictResolver,
  ConflictStrategy,
  DetachOptions,
  DetachResult,
  PullResult,
  PushResult,
  RowLostDetail,
  RowLostReason,
  SelfHealDetail,
  SyncedTable,
  SyncErrorInfo,
  SyncPhase,
  SyncResult,
  SyncStatus,
  SyncThenDetachResult,
} from '../worker/engine/types.ts';
