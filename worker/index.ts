/**
 * Public entry `oversqlite/worker`: the database layer that runs inside the worker (and in Node
 * for tests), for apps that host it themselves.
 * @packageDocumentation
 */
export { LocalDatabase } from './database/local-database.ts';
export type { LocalDatabaseOptions } from './database/local-database.ts';
export { WorkerService } from './database/worker-service.ts';
export type { WorkerCallbacks, WorkerOpenInfo, WorkerOpenOptions, WorkerSyncMethod, WorkerSyncOptions } from './database/worker-service.ts';
export { OversqliteError, toOversqliteError } from './database/errors.ts';
export type { OversqliteErrorCode, OversqliteErrorShape } from './database/errors.ts';
export type { GroupCommitStats, WriteOutcome, WriteUnit } from './database/group-commit.ts';
export type { CommitNotice } from './database/table-access.ts';
export type { StorageKind } from './database/storage-kinds.ts';
export type {
  AppSchema,
  ExecResult,
  Outcome,
  QueryResult,
  Row,
  SqlParams,
  SqlStatement,
  SqlValue,
  WatchedQueryResult,
} from './database/types.ts';
// The sync engine, for apps that run SQLite themselves (e.g. in Node or their own worker).
export * from './engine/index.ts';
