/**
 * One open app database inside its owner (the leader tab's worker, or Node in tests): storage,
 * pragmas, migrations, reads, grouped writes and commit notices. The sync engine gets the same
 * connection through {@link LocalDatabase.connection}.
 */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { closedError, OversqliteError, toOversqliteError } from './errors.ts';
import { GroupCommit } from './group-commit.ts';
import type { GroupCommitStats, WriteOutcome, WriteUnit } from './group-commit.ts';
import { InteractiveTransactions } from './interactive-transactions.ts';
import { installRequestLedger } from './request-ledger.ts';
import { migrateSchema, pendingMigrations } from './schema-migrations.ts';
import { loadSqlite } from './sqlite-module.ts';
import { runExec, runQuery } from './statement-runner.ts';
import { StatementCache } from './statement-cache.ts';
import { openStorage } from './storage-open.ts';
import type { OpenedStorage } from './storage-open.ts';
import { isStorageKind, storageDescriptor, unknownStorageMessage } from './storage-kinds.ts';
import type { StorageKind } from './storage-kinds.ts';
import { TableAccessMonitor } from './table-access.ts';
import type { CommitNotice } from './table-access.ts';
import type { AppSchema, Outcome, QueryResult, SqlParams, WatchedQueryResult } from './types.ts';
import { WriterLock } from './writer-lock.ts';

/** Options to open a {@link LocalDatabase}. */
export interface LocalDatabaseOptions {
  /** Database name; one file (and one OPFS pool) per name. */
  readonly name: string;
  /** The app schema and its migrations. */
  readonly schema: AppSchema;
  /** `'opfs'` (durable, the default in browsers) or `'memory'` (explicitly not durable). */
  readonly storage: StorageKind;
  /** Overrides how group commits are scheduled (tests use this to group deterministically). */
  readonly scheduleFlush?: (flush: () => void) => void;
  /**
   * Runs on the connection before migrations, with the migrations still to run. The sync runtime
   * uses it to register the capture function that synced tables' triggers call.
   */
  readonly beforeMigrate?: (db: Database, pendingMigrations: readonly string[], sqlite3: Sqlite3Static) => void;
}

/** An open app database with group commit and change notices. */
export class LocalDatabase {
  #closed = false;
  /**
   * Held by an interactive transaction or a sync operation for its whole duration (one writer
   * across awaits); the sync engine takes it through its `writerLock` option.
   */
  readonly writerLock = new WriterLock();
  /** Interactive transactions on this connection (see interactive-transactions.ts). */
  readonly transactions: InteractiveTransactions;
  readonly #opened: OpenedStorage;
  readonly #monitor: TableAccessMonitor;
  readonly #writes: GroupCommit;
  readonly #statements: StatementCache;

  private constructor(
    /** The sqlite-wasm module. */
    readonly sqlite3: Sqlite3Static,
    opened: OpenedStorage,
    monitor: TableAccessMonitor,
    writes: GroupCommit,
    /** The schema version found in the file before migrating (0 for a new database). */
    readonly previousSchemaVersion: number,
    statements: StatementCache,
  ) {
    this.#opened = opened;
    this.#monitor = monitor;
    this.#writes = writes;
    this.#statements = statements;
    const { db } = opened;
    this.transactions = new InteractiveTransactions(
      {
        sqlite3,
        db,
        holdWrites: () => writes.hold(),
        resumeWrites: () => writes.resume(),
        run: (sql, params) => runExec(sqlite3, db, sql, params, statements),
        announce: () => monitor.announce(),
      },
      this.writerLock,
    );
  }

  /**
   * Opens (creating if needed) and migrates a database.
   * @throws OversqliteError `opfs_unavailable`, `database_locked`, `migration_failed`, `schema_too_new`, `invalid_argument`.
   */
  static async open(options: LocalDatabaseOptions): Promise<LocalDatabase> {
    if (typeof options?.name !== 'string' || options.name === '' || options.name.length > 100) {
      throw new OversqliteError('invalid_argument', 'name must be a non-empty string of at most 100 characters.');
    }
    if (!isStorageKind(options.storage)) throw new OversqliteError('invalid_argument', unknownStorageMessage());
    const sqlite3 = await loadSqlite();
    const opened = await openStorage(sqlite3, options.name, options.storage);
    try {
      const { db } = opened;
      for (const pragma of storageDescriptor(options.storage).pragmas) db.exec(pragma);
      db.exec('PRAGMA foreign_keys = ON');
      installRequestLedger(db);
      options.beforeMigrate?.(db, pendingMigrations(db, options.schema), sqlite3);
      const previous = migrateSchema(db, options.schema);
      const monitor = new TableAccessMonitor(sqlite3, db);
      const statements = new StatementCache(db, monitor);
      const writes = new GroupCommit(
        sqlite3,
        db,
        () => monitor.announce(),
        options.scheduleFlush,
        statements,
        (write) => monitor.withoutRowHook(write),
      );
      return new LocalDatabase(sqlite3, opened, monitor, writes, previous, statements);
    } catch (error) {
      opened.close();
      throw toOversqliteError(error);
    }
  }

  /** The raw connection, for the sync engine (which must never keep a transaction open across an await). */
  get connection(): Database {
    return this.#opened.db;
  }

  /** Where the data lives. */
  get storage(): StorageKind {
    return this.#opened.storage;
  }

  /** Registers a listener for commit notices (local writes and sync applies alike). */
  onCommit(listener: (notice: CommitNotice) => void): () => void {
    return this.#monitor.onCommit(listener);
  }

  /** Runs a read. Writes queued before it are committed first, so a caller always reads its own writes. */
  query(sql: string, params?: SqlParams): Outcome<QueryResult> {
    return this.#guard(() => {
      if (this.#writes.hasPending) this.#writes.flush();
      return runQuery(this.#opened.db, sql, params, this.#statements);
    });
  }

  /** Runs a read and also reports the app tables it reads (for live queries). */
  watchedQuery(sql: string, params?: SqlParams): Outcome<WatchedQueryResult> {
    return this.#guard(() => {
      if (this.#writes.hasPending) this.#writes.flush();
      const tables = this.#monitor.tablesReadBy(sql);
      return { ...runQuery(this.#opened.db, sql, params, this.#statements), tables };
    });
  }

  /** Queues a write unit into the group commit. */
  write(unit: WriteUnit): Promise<WriteOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: closedError().toShape() });
    return this.#writes.submit(unit);
  }

  /** How writes have been grouped so far. */
  groupCommitStats(): GroupCommitStats {
    return this.#writes.stats();
  }

  /** Rolls back an open interactive transaction, commits queued writes, removes the hooks and closes the file (releasing OPFS handles). */
  close(): void {
    if (this.#closed) return;
    this.transactions.close();
    this.#writes.flush();
    this.#closed = true;
    this.#statements.clear();
    this.#monitor.dispose();
    this.#opened.close();
  }

  #guard<T>(run: () => T): Outcome<T> {
    if (this.#closed) return { ok: false, error: closedError().toShape() };
    try {
      return { ok: true, value: run() };
    } catch (error) {
      return { ok: false, error: toOversqliteError(error).toShape() };
    }
  }
}
