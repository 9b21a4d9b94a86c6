/**
 * The API a database worker exposes to its tab through comlink. It owns the {@link LocalDatabase}
 * (and, when sync is configured, the sync engine next to it) and pushes commit notices, status
 * and events to the tab through callbacks. Every method answers with an {@link Outcome} instead
 * of throwing, so typed error codes survive the trip (comlink would reduce a thrown error to its
 * message).
 */
import { OversqliteError, toOversqliteError } from './errors.ts';
import type { GroupCommitStats, WriteOutcome, WriteUnit } from './group-commit.ts';
import { LocalDatabase } from './local-database.ts';
import type { StorageKind } from './storage-open.ts';
import type { CommitNotice } from './table-access.ts';
import type { AppSchema, Outcome, QueryResult, SqlParams, WatchedQueryResult } from './types.ts';

/** What the tab asks the worker to open. */
export interface WorkerOpenOptions {
  /** Database name. */
  readonly name: string;
  /** App schema. */
  readonly schema: AppSchema;
  /** Storage kind. */
  readonly storage: StorageKind;
  /** How long to keep retrying while another worker still holds the file (leader hand-over). */
  readonly lockedRetryMs?: number;
}

/** Callbacks the tab hands to the worker (as comlink proxies). */
export interface WorkerCallbacks {
  /** Called after every commit, local or from sync, with the app tables it touched. */
  onCommit(notice: CommitNotice): void;
}

/** What an open reports back. */
export interface WorkerOpenInfo {
  /** Where the data lives. */
  readonly storage: StorageKind;
  /** Schema version found in the file before migrating. */
  readonly previousSchemaVersion: number;
  /** How many attempts the open needed (more than 1 while a previous owner released the file). */
  readonly openAttempts: number;
}

/** Runs `fn` and converts any throw to a failed outcome. */
async function outcomeOf<T>(fn: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: toOversqliteError(error).toShape() };
  }
}

/** The comlink-exposed service of one database worker. */
export class WorkerService {
  private database: LocalDatabase | undefined;

  /**
   * Opens the database. While another worker still holds the OPFS file (a closing leader), the
   * open is retried with a short backoff for up to `lockedRetryMs` (default 10 s).
   */
  async open(options: WorkerOpenOptions, callbacks: WorkerCallbacks): Promise<Outcome<WorkerOpenInfo>> {
    return outcomeOf(async () => {
      if (this.database !== undefined) throw new OversqliteError('invalid_argument', 'This worker already has an open database.');
      const deadline = Date.now() + (options.lockedRetryMs ?? 10_000);
      let attempts = 0;
      let delay = 20;
      for (;;) {
        attempts++;
        try {
          this.database = await LocalDatabase.open({ name: options.name, schema: options.schema, storage: options.storage });
          break;
        } catch (error) {
          const typed = toOversqliteError(error);
          if (typed.code !== 'database_locked' || Date.now() + delay > deadline) throw typed;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 200);
        }
      }
      this.database.onCommit((notice) => callbacks.onCommit(notice));
      return { storage: this.database.storage, previousSchemaVersion: this.database.previousSchemaVersion, openAttempts: attempts };
    });
  }

  /** Runs a read. */
  async query(sql: string, params?: SqlParams): Promise<Outcome<QueryResult>> {
    return this.require().query(sql, params);
  }

  /** Runs a read and reports the tables it reads. */
  async watchedQuery(sql: string, params?: SqlParams): Promise<Outcome<WatchedQueryResult>> {
    return this.require().watchedQuery(sql, params);
  }

  /** Applies write units through the group commit; one outcome per unit, in order. */
  async write(units: readonly WriteUnit[]): Promise<WriteOutcome[]> {
    const database = this.database;
    if (database === undefined) {
      const error = new OversqliteError('closed', 'The database is not open.').toShape();
      return units.map(() => ({ ok: false, error }));
    }
    return Promise.all(units.map((unit) => database.write(unit)));
  }

  /** Grouping counters (for benchmarks and tests). */
  async groupCommitStats(): Promise<GroupCommitStats | undefined> {
    return this.database?.groupCommitStats();
  }

  /** Commits queued writes and closes the file, releasing the OPFS handles for the next owner. */
  async close(): Promise<void> {
    this.database?.close();
    this.database = undefined;
  }

  private require(): LocalDatabase {
    if (this.database === undefined) throw new OversqliteError('closed', 'The database is not open.');
    return this.database;
  }
}
