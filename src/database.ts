/**
 * The main-thread database object an app uses. It looks the same in every tab: calls run on the
 * leader tab's worker, whichever tab makes them.
 */
import type { ExecResult, Outcome, QueryResult, Row, SqlParams, SqlStatement, WatchedQueryResult } from '../worker/database/types.ts';
import type { CommitNotice } from '../worker/database/table-access.ts';
import type { GroupCommitStats } from '../worker/database/group-commit.ts';
import type { StorageKind } from '../worker/database/storage-kinds.ts';
import { storageDescriptor } from '../worker/database/storage-kinds.ts';
import type { ConflictEventDetail, RowLostDetail, SelfHealDetail, SyncEvent } from '../worker/engine/types.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import { EventHub } from './event-hub.ts';
import { LiveQueryRun } from './live-query.ts';
import type { LiveQuery } from './live-query.ts';
import { unwrapOutcome } from './outcome.ts';
import { readStorageStatus } from './storage-status.ts';
import type { StorageStatus } from './storage-status.ts';
import type { TabCoordinator, TabRole } from './tab-coordinator.ts';
import { SyncHandle } from './sync-handle.ts';
import { Transaction, holdTransactionLock } from './transaction.ts';
import type { TransactionOptions } from './transaction.ts';

/** Events of a {@link Database}. */
export interface DatabaseEvents {
  /** A commit touched these app tables (in any tab, local write or sync). */
  change: CommitNotice;
  /**
   * Sync resolved a conflict. Sent after the resolution's transaction committed (the table
   * already holds the result), with the local row as it was before (`localRow`), the server's
   * row (`serverRow`) and the `resolution`.
   */
  conflict: ConflictEventDetail;
  /**
   * Sync removed a row or a pending change of this database (a cascade, an orphan, a refused
   * delete, a change the self-heal could not keep): table, key, why, and the row as SQLite stored
   * it. Sent after the removal committed.
   */
  lost: RowLostDetail;
  /** Sync recovered by itself from a failure that kept repeating (see `selfHealAfter`). */
  selfHeal: SelfHealDetail;
  /** A background failure (a live query that failed, a sync error). */
  error: OversqliteError;
}

/** An open oversqlite database. */
export class Database {
  private readonly events = new EventHub<DatabaseEvents>();
  private readonly liveQueries = new Set<LiveQueryRun<never>>();
  private readonly closeHooks: Array<() => void> = [];
  /** Interactive transactions of this tab still open (rolled back by close). */
  private readonly openTransactions = new Set<Transaction>();
  /** Sync status and operations (present when the database was opened with `sync`). */
  readonly sync: SyncHandle;

  /** @internal created by {@link openDatabase}. */
  constructor(
    /** The database name. */
    readonly name: string,
    private readonly kind: StorageKind,
    private readonly coordinator: TabCoordinator,
    sync: SyncHandle,
    private readonly transactionLeaseMs = 30_000,
  ) {
    this.sync = sync;
  }

  /** Whether this tab currently owns the file (`leader`) or proxies to the tab that does. */
  get role(): TabRole {
    return this.coordinator.role;
  }

  /** Runs a read and returns its rows. INTEGERs beyond 2^53 come back as `bigint`. */
  async query<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const result = unwrapOutcome(await this.coordinator.call({ op: 'query', sql, ...(params ? { params } : {}) })) as QueryResult;
    return result.rows as T[];
  }

  /**
   * Runs one write statement. Writes issued together (even from several tabs) are committed
   * together; the promise resolves once this write is durable, and rejects with its own error
   * only.
   */
  async exec(sql: string, params?: SqlParams): Promise<ExecResult> {
    const results = unwrapOutcome(
      await this.coordinator.call({ op: 'write', unit: { statements: [{ sql, ...(params ? { params } : {}) }] } }),
    ) as ExecResult[];
    return results[0]!;
  }

  /**
   * Applies several statements atomically: all of them or none. They share a group commit with
   * other writes (the cheapest atomic form).
   */
  transaction(statements: readonly SqlStatement[]): Promise<ExecResult[]>;
  /**
   * Runs `fn` in an interactive transaction and commits when it resolves; rolls back (and
   * rethrows) when it throws. Inside, `tx.query` reads the transaction's own writes. While it is
   * open, other writes, reads and sync wait (one writer), so keep it short and use `tx`, not the
   * database, inside `fn`. A transaction whose caller goes quiet for `leaseMs` is rolled back.
   * @throws OversqliteError what `fn` threw, or `transaction_expired` when the lease ran out.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  async transaction<T>(
    work: readonly SqlStatement[] | ((tx: Transaction) => Promise<T>),
    options?: TransactionOptions,
  ): Promise<ExecResult[] | T> {
    if (typeof work === 'function') {
      const tx = await this.beginTransaction(options);
      let result: T;
      try {
        result = await work(tx);
      } catch (error) {
        await tx.rollback().catch(() => {}); // the app's error is the one to report
        throw error;
      }
      await tx.commit();
      return result;
    }
    if (!Array.isArray(work) || work.length === 0) {
      throw new OversqliteError(
        'invalid_argument',
        'transaction() needs a non-empty array of { sql, params } statements, or an async function of the transaction.',
      );
    }
    return unwrapOutcome(await this.coordinator.call({ op: 'write', unit: { statements: work } })) as ExecResult[];
  }

  /**
   * Opens an interactive transaction and returns it; the caller must commit or roll it back
   * (`db.transaction(fn)` does both). Resolves once no sync step or other transaction is writing.
   */
  async beginTransaction(options?: TransactionOptions): Promise<Transaction> {
    const leaseMs = options?.leaseMs ?? this.transactionLeaseMs;
    const txId = crypto.randomUUID();
    const releaseLock = await holdTransactionLock(txId);
    try {
      unwrapOutcome(await this.coordinator.call({ op: 'begin', txId, leaseMs }));
    } catch (error) {
      releaseLock();
      throw error;
    }
    const tx: Transaction = new Transaction(
      txId,
      (request) => this.coordinator.call(request),
      () => {
        this.openTransactions.delete(tx);
        releaseLock();
      },
    );
    this.openTransactions.add(tx);
    return tx;
  }

  /**
   * Runs `sql` now and again whenever a commit in any tab touches a table it reads, calling
   * `onRows` with each result. Errors go to `onError`, or to the `error` event without one.
   */
  live<T = Row>(
    sql: string,
    params: SqlParams | undefined,
    onRows: (rows: T[]) => void,
    onError?: (error: OversqliteError) => void,
  ): LiveQuery {
    const run = new LiveQueryRun<T>(
      async (s, p) =>
        (await this.coordinator.call({ op: 'watchedQuery', sql: s, ...(p ? { params: p } : {}) })) as Outcome<WatchedQueryResult>,
      sql,
      params,
      onRows,
      onError ?? ((error) => this.events.emit('error', error)),
    );
    this.liveQueries.add(run as unknown as LiveQueryRun<never>);
    run.refresh();
    return {
      get tables() {
        return run.tables;
      },
      close: () => {
        run.close();
        this.liveQueries.delete(run as unknown as LiveQueryRun<never>);
      },
    };
  }

  /**
   * @internal Diagnostics: runs a read `iterations` times inside the leader's worker and returns each
   * run's duration in ms, to compare with the round trip of {@link Database.query} from this tab.
   */
  async measureQueryInWorker(sql: string, params: SqlParams | undefined, iterations: number): Promise<number[]> {
    return unwrapOutcome(await this.coordinator.call({ op: 'measureQuery', sql, ...(params ? { params } : {}), iterations })) as number[];
  }

  /** @internal Diagnostics: how the leader's group commit has grouped writes so far. */
  async groupCommitStats(): Promise<GroupCommitStats | null> {
    return unwrapOutcome(await this.coordinator.call({ op: 'groupCommitStats' })) as GroupCommitStats | null;
  }

  /** Listens to an event; returns the function that stops listening. */
  on<K extends keyof DatabaseEvents>(event: K, listener: (payload: DatabaseEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Whether the data is on disk, persistent, and how much room is left. */
  storage(): Promise<StorageStatus> {
    return readStorageStatus(this.kind);
  }

  /**
   * Rolls back this tab's open interactive transactions, stops live queries; a leader tab commits
   * queued writes and hands the file to the next tab.
   */
  async close(): Promise<void> {
    await Promise.all([...this.openTransactions].map((tx) => tx.rollback().catch(() => {})));
    for (const run of this.liveQueries) run.close();
    this.liveQueries.clear();
    for (const hook of this.closeHooks.splice(0)) hook();
    await this.coordinator.close();
  }

  /** @internal runs `hook` when the database closes. */
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }

  /** @internal a commit notice arrived (from this tab's worker or from the leader). */
  handleChange(notice: CommitNotice): void {
    this.events.emit('change', notice);
    for (const run of this.liveQueries) if (run.concerns(notice)) run.refresh();
  }

  /** @internal a new leader serves: re-run every live query (changes may have happened in between). */
  handleLeaderChange(): void {
    for (const run of this.liveQueries) run.refresh();
    void this.sync.refreshStatus();
  }

  /** @internal this tab's database worker ended on its own; the coordinator handed the database over. */
  handleWorkerEnded(): void {
    this.events.emit(
      'error',
      new OversqliteError(
        'internal',
        !storageDescriptor(this.kind).durable
          ? 'The database worker of this tab ended, and the in-memory database with it. Open the database again.'
          : 'The database worker of this tab ended; the database was handed to the next leader tab and calls continue there.',
      ),
    );
  }

  /** @internal a sync event from the engine (this tab's or relayed). */
  handleSyncEvent(event: SyncEvent): void {
    if (event.type === 'conflict') this.events.emit('conflict', event.conflict);
    else if (event.type === 'lost') this.events.emit('lost', event.lost);
    else if (event.type === 'self_heal') this.events.emit('selfHeal', event.selfHeal);
    else if (event.type === 'error')
      this.events.emit('error', new OversqliteError('sync_failed', event.error.message, { cause: event.error.code }));
    this.sync.handleEvent(event);
  }
}
