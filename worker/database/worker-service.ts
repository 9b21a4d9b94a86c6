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
import { classifyIoError } from './quota-check.ts';
import type { StorageKind } from './storage-kinds.ts';
import type { CommitNotice } from './table-access.ts';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import type { AppSchema, ExecResult, Outcome, QueryResult, SqlParams, WatchedQueryResult } from './types.ts';
import { SyncEngine, dropCaptureTriggers, installCaptureFunction } from '../engine/index.ts';
import { SyncEventRelay } from './sync-event-relay.ts';
import type { AppSyncOptions, ConflictContext, ConflictResolution, ConflictStrategy, DetachOptions, SyncEvent } from '../engine/types.ts';

/** Sync configuration as it crosses into the worker (functions stay in the tab, behind callbacks). */
export interface WorkerSyncOptions extends Omit<AppSyncOptions, 'getToken' | 'conflicts'> {
  /** Conflict strategy; `'custom'` calls {@link WorkerCallbacks.resolveConflict} in the tab. */
  readonly conflicts: ConflictStrategy | 'custom';
}

/** The sync operations a tab can run through {@link WorkerService.sync}. */
export type WorkerSyncMethod = 'attach' | 'detach' | 'syncThenDetach' | 'sync' | 'pushPending' | 'pullToStable' | 'hydrate' | 'status';

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
  /** Sync with a server (the engine runs in this worker, next to the database). */
  readonly sync?: WorkerSyncOptions;
  /** Whether the tab is online now. */
  readonly online?: boolean;
  /**
   * A Web Lock name the worker holds until it ends. The browser releases a lock when the worker
   * that holds it ends for any reason (crash, `self.close()`, `terminate()`), so the tab queues
   * for the same name and is woken exactly when its worker is gone.
   */
  readonly lifeLock?: string;
}

/** Callbacks the tab hands to the worker (as comlink proxies). */
export interface WorkerCallbacks {
  /** Called after every commit, local or from sync, with the app tables it touched. */
  onCommit(notice: CommitNotice): void;
  /** Sync engine events (status, conflicts, errors). */
  onSyncEvent?(event: SyncEvent): void;
  /** Returns the current bearer token; runs in the tab (the worker never stores tokens). */
  getToken?(): Promise<string | null>;
  /** Custom conflict resolver, when `sync.conflicts` is `'custom'`. */
  resolveConflict?(context: ConflictContext): Promise<ConflictResolution>;
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

/**
 * `sync_failed` for an engine error. Engine errors carry their own stable code (auth_required,
 * network, push_conflict, ...): it is kept as the cause so the app can branch on it.
 */
function syncFailed(error: unknown, prefix = ''): OversqliteError {
  const code = (error as { code?: unknown })?.code;
  return new OversqliteError(
    'sync_failed',
    prefix + (error instanceof Error ? error.message : String(error)),
    typeof code === 'string' ? { cause: code } : {},
  );
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
  #database: LocalDatabase | undefined;
  #engine: SyncEngine | undefined;
  /** The engine's events on their way to the tab (sync-event-relay.ts). */
  #syncEvents: SyncEventRelay | undefined;

  /**
   * Opens the database. While another worker still holds the OPFS file (a closing leader), the
   * open is retried with a short backoff for up to `lockedRetryMs` (default 10 s).
   */
  async open(options: WorkerOpenOptions, callbacks: WorkerCallbacks): Promise<Outcome<WorkerOpenInfo>> {
    return outcomeOf(async () => {
      if (this.#database !== undefined) throw new OversqliteError('invalid_argument', 'This worker already has an open database.');
      if (options.lifeLock !== undefined) await holdUntilWorkerEnds(options.lifeLock);
      const deadline = Date.now() + (options.lockedRetryMs ?? 10_000);
      let attempts = 0;
      let delay = 20;
      for (;;) {
        attempts++;
        try {
          this.#database = await LocalDatabase.open({
            name: options.name,
            schema: options.schema,
            storage: options.storage,
            beforeMigrate: prepareCapture,
          });
          break;
        } catch (error) {
          const typed = toOversqliteError(error);
          if (typed.code !== 'database_locked' || Date.now() + delay > deadline) throw typed;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 200);
        }
      }
      this.#database.onCommit((notice) => callbacks.onCommit(notice));
      if (options.sync !== undefined) {
        try {
          this.#engine = await this.#openEngine(this.#database, options.sync, callbacks, options.online ?? true);
        } catch (error) {
          this.#database.close();
          this.#database = undefined;
          throw error;
        }
      }
      return { storage: this.#database.storage, previousSchemaVersion: this.#database.previousSchemaVersion, openAttempts: attempts };
    });
  }

  /** Runs a read (after an open interactive transaction ends: its rows are not committed yet). */
  async query(sql: string, params?: SqlParams): Promise<Outcome<QueryResult>> {
    const database = this.#require();
    if (database.transactions.isOpen) await database.transactions.idle();
    return database.query(sql, params);
  }

  /** Runs a read and reports the tables it reads (after an open interactive transaction ends). */
  async watchedQuery(sql: string, params?: SqlParams): Promise<Outcome<WatchedQueryResult>> {
    const database = this.#require();
    if (database.transactions.isOpen) await database.transactions.idle();
    return database.watchedQuery(sql, params);
  }

  /**
   * Opens interactive transaction `id` (chosen by the caller) once no sync step or other
   * transaction is writing. Without a statement for `leaseMs` it is rolled back.
   */
  async beginTransaction(id: string, leaseMs: number): Promise<Outcome<null>> {
    return outcomeOf(async () => {
      await this.#require().transactions.begin(id, leaseMs);
      return null;
    });
  }

  /** Runs one statement inside interactive transaction `id`. */
  async runInTransaction(id: string, sql: string, params?: SqlParams): Promise<Outcome<ExecResult>> {
    return outcomeOf(async () => {
      try {
        return this.#require().transactions.run(id, sql, params);
      } catch (error) {
        throw await classifyIoError(toOversqliteError(error).toShape()).then(OversqliteError.fromShape);
      }
    });
  }

  /** Commits interactive transaction `id`; its captured changes are pushed like any other write. */
  async commitTransaction(id: string): Promise<Outcome<null>> {
    return outcomeOf(async () => {
      try {
        this.#require().transactions.commit(id);
      } catch (error) {
        throw await classifyIoError(toOversqliteError(error).toShape()).then(OversqliteError.fromShape);
      }
      this.#engine?.notifyLocalWrite();
      return null;
    });
  }

  /** Rolls back interactive transaction `id` (nothing happens if it already ended). */
  async rollbackTransaction(id: string): Promise<Outcome<null>> {
    return outcomeOf(() => {
      this.#require().transactions.rollback(id);
      return null;
    });
  }

  /** Applies write units through the group commit; one outcome per unit, in order. */
  async write(units: readonly WriteUnit[]): Promise<WriteOutcome[]> {
    const database = this.#database;
    if (database === undefined) {
      const error = new OversqliteError('closed', 'The database is not open.').toShape();
      return units.map(() => ({ ok: false, error }));
    }
    const outcomes = await Promise.all(
      units.map(async (unit) => {
        const outcome = await database.write(unit);
        return outcome.ok ? outcome : { ok: false as const, error: await classifyIoError(outcome.error) };
      }),
    );
    // Local writes to synced tables are captured by the engine's triggers; tell it to schedule a push.
    if (outcomes.some((o) => o.ok)) this.#engine?.notifyLocalWrite();
    return outcomes;
  }

  /** Runs a sync operation on the engine. */
  async sync(method: WorkerSyncMethod, args: readonly unknown[]): Promise<Outcome<unknown>> {
    return outcomeOf(() =>
      this.#runSync(method, args)
        .finally(() => this.#syncEvents?.flush())
        .catch((error: unknown) => {
          throw error instanceof OversqliteError ? error : syncFailed(error);
        }),
    );
  }

  async #runSync(method: WorkerSyncMethod, args: readonly unknown[]): Promise<unknown> {
    const engine = this.#engine;
    if (engine === undefined) {
      throw new OversqliteError(
        'sync_not_configured',
        'This database was opened without `sync`; pass a sync configuration to openDatabase.',
      );
    }
    switch (method) {
      case 'status':
        return engine.status;
      case 'attach':
        return await engine.attach(String(args[0]));
      case 'detach':
        return await engine.detach(detachOptions(args[0]));
      case 'syncThenDetach':
        return await engine.syncThenDetach();
      case 'sync':
        return await engine.sync();
      case 'pushPending':
        return await engine.pushPending();
      case 'pullToStable':
        return await engine.pullToStable();
      case 'hydrate':
        return await engine.hydrate();
      default:
        throw new OversqliteError('invalid_argument', `Unknown sync operation ${String(method)}.`);
    }
  }

  /** The leader tab came back to the foreground: let the engine's scheduler run a sync now. */
  async requestSync(): Promise<void> {
    this.#engine?.requestSync();
  }

  /** Connectivity of the tab changed (the tab's online/offline events). */
  async setOnline(online: boolean): Promise<void> {
    this.#engine?.setOnline(online);
  }

  /**
   * Runs a read `iterations` times inside the worker and returns each run's duration in ms
   * (benchmarks compare it with the same query's round trip from a tab).
   */
  async measureQuery(sql: string, params: SqlParams | undefined, iterations: number): Promise<Outcome<number[]>> {
    return outcomeOf(async () => {
      const database = this.#require();
      if (database.transactions.isOpen) await database.transactions.idle();
      const timings: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        const outcome = database.query(sql, params);
        timings.push(performance.now() - started);
        if (!outcome.ok) throw OversqliteError.fromShape(outcome.error);
      }
      return timings;
    });
  }

  /** Grouping counters (for benchmarks and tests). */
  async groupCommitStats(): Promise<GroupCommitStats | undefined> {
    return this.#database?.groupCommitStats();
  }

  /** Stops the engine, commits queued writes and closes the file, releasing the OPFS handles for the next owner. */
  async close(): Promise<void> {
    // An open interactive transaction is rolled back first: a sync step waiting for the writer
    // lock can then finish, and the engine close with it.
    this.#database?.transactions.close();
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.close();
    this.#syncEvents?.flush();
    this.#database?.close();
    this.#database = undefined;
  }

  async #openEngine(database: LocalDatabase, sync: WorkerSyncOptions, callbacks: WorkerCallbacks, online: boolean): Promise<SyncEngine> {
    const { getToken, resolveConflict, onSyncEvent } = callbacks;
    if (getToken === undefined) throw new OversqliteError('invalid_argument', 'sync needs getToken.');
    if (sync.conflicts === 'custom' && resolveConflict === undefined) {
      throw new OversqliteError('invalid_argument', "sync.conflicts 'custom' needs a resolver function.");
    }
    let engine: SyncEngine;
    try {
      engine = await SyncEngine.open({
        sqlite3: database.sqlite3,
        db: database.connection,
        // The options arrived by structured clone: plain data of this worker's own.
        remoteSchema: sync.remoteSchema,
        tables: sync.tables,
        serverUrl: sync.serverUrl,
        getToken: () => getToken(),
        conflicts: sync.conflicts === 'custom' ? (context) => resolveConflict!(context) : sync.conflicts,
        writerLock: () => database.writerLock.acquire(),
        anonymousData: sync.anonymousData,
        getTokenTimeoutMs: sync.getTokenTimeoutMs,
        conflictResolverTimeoutMs: sync.conflictResolverTimeoutMs,
        autoSync: sync.autoSync,
      });
    } catch (error) {
      throw syncFailed(error, 'The sync engine could not start: ');
    }
    if (!online) engine.setOnline(false);
    if (onSyncEvent !== undefined) {
      const relay = new SyncEventRelay((event) => onSyncEvent(event));
      this.#syncEvents = relay;
      engine.subscribe((event) => relay.push(event));
    }
    return engine;
  }

  #require(): LocalDatabase {
    if (this.#database === undefined) throw new OversqliteError('closed', 'The database is not open.');
    return this.#database;
  }
}

/** Takes the Web Lock `name` and never releases it: the browser does when this worker ends. */
function holdUntilWorkerEnds(name: string): Promise<void> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks === undefined) return Promise.resolve(); // no Web Locks (Node tests): nothing to watch the worker with
  return new Promise((granted) => {
    void locks.request(name, () => {
      granted();
      return new Promise<never>(() => {});
    });
  });
}

/**
 * Synced tables carry capture triggers that call a connection-local SQL function, so it is
 * registered before any migration (or write) can fire them — also when this open has no sync
 * config, because the triggers persist in the file. SQLite refuses to drop or rename a column a
 * trigger reads, so such a migration runs with the capture triggers removed; `SyncEngine.open`
 * reinstalls them for the new columns.
 */
function prepareCapture(db: Database, pendingMigrations: readonly string[], sqlite3: Sqlite3Static): void {
  installCaptureFunction(sqlite3, db);
  if (pendingMigrations.some((sql) => /\b(DROP\s+COLUMN|RENAME)\b/i.test(sql))) dropCaptureTriggers(db);
}

/**
 * The options of a `detach` call as the tab sent them; anything but `{ force?: boolean }` is
 * refused (a bare `detach(true)` too: discarding changes is never guessed).
 */
function detachOptions(raw: unknown): DetachOptions {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) {
    throw new OversqliteError('invalid_argument', `detach takes { force?: boolean }; got ${JSON.stringify(raw)}.`);
  }
  const { force } = raw as { force?: unknown };
  if (force === undefined) return {};
  if (typeof force !== 'boolean') {
    throw new OversqliteError('invalid_argument', `detach takes { force?: boolean }; got force: ${JSON.stringify(force)}.`);
  }
  return { force };
}
