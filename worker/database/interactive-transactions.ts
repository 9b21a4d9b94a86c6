/**
 * Interactive transactions: a transaction the caller keeps open across awaits, statement by
 * statement (the ORMs' `transaction(async (tx) => ...)`), on the worker's one connection.
 *
 * One writer at a time: the transaction holds the {@link WriterLock} (a sync operation in progress
 * finishes first; the next one waits) and holds back the group commit (writes from any tab queue
 * and commit right after it ends). Reads of other callers wait for its end too (see
 * worker-service.ts), so nobody sees its uncommitted rows. A lease ends a transaction whose caller
 * went away: without a statement for `leaseMs` it is rolled back, and later calls on its id fail
 * with `transaction_expired`. The commit is recorded in the request ledger inside the transaction,
 * so a commit re-sent after a leader hand-over learns that it went through.
 */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { closedError, OversqliteError, toOversqliteError } from './errors.ts';
import { findAppliedRequest, recordAppliedRequest } from './request-ledger.ts';
import { hasParams } from './statement-runner.ts';
import type { ExecResult, SqlParams } from './types.ts';
import type { WriterLock } from './writer-lock.ts';

/** The longest lease a caller may ask for. */
export const MAX_LEASE_MS = 10 * 60 * 1000;

/** What the transactions need from the database that owns the connection. */
export interface TransactionConnection {
  readonly sqlite3: Sqlite3Static;
  readonly db: Database;
  /** Commits queued group-commit writes, then keeps new ones queued. */
  holdWrites(): void;
  /** Lets queued group-commit writes commit again. */
  resumeWrites(): void;
  /** Validates and runs one ordinary statement on the connection (no transaction control). */
  run(sql: string, params: SqlParams | undefined): ExecResult;
  /** Sends the commit notice of the commit that just happened. */
  announce(): void;
}

interface OpenTransaction {
  readonly id: string;
  readonly leaseMs: number;
  readonly release: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Savepoint statements an ORM issues for nested transactions; allowed inside an interactive transaction only. */
const SAVEPOINT_CONTROL =
  /^\s*(savepoint|release(\s+savepoint)?|rollback(\s+transaction)?\s+to(\s+savepoint)?)\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s*;?\s*$/i;
const TRANSACTION_CONTROL = /^\s*(begin|commit|end|rollback)\b/i;
/** How many ended transaction ids keep their reason for the error message. */
const REMEMBERED_ENDINGS = 200;

function ledgerId(id: string): string {
  return `transaction:${id}`;
}

/** The interactive transactions of one connection (at most one open at a time). */
export class InteractiveTransactions {
  #current: OpenTransaction | undefined;
  readonly #waitingBegins = new Map<string, Promise<void>>();
  readonly #cancelled = new Set<string>();
  readonly #endings = new Map<string, string>();
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  readonly #connection: TransactionConnection;
  readonly #lock: WriterLock;
  constructor(connection: TransactionConnection, lock: WriterLock) {
    this.#connection = connection;
    this.#lock = lock;
  }

  /** Whether an interactive transaction is open now. */
  get isOpen(): boolean {
    return this.#current !== undefined;
  }

  /** Resolves once no interactive transaction is open (at once when none is). */
  idle(): Promise<void> {
    if (this.#current === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Opens transaction `id` once the writer lock is free (a sync step or another transaction in
   * progress ends first). Writes queued before it commit first.
   * @throws OversqliteError `invalid_argument`, `transaction_expired` (rolled back while waiting), `closed`.
   */
  async begin(id: string, leaseMs: number): Promise<void> {
    if (typeof id !== 'string' || id === '' || id.length > 200) {
      throw new OversqliteError('invalid_argument', 'A transaction id must be a non-empty string of at most 200 characters.');
    }
    if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_LEASE_MS) {
      throw new OversqliteError('invalid_argument', `leaseMs must be an integer from 1 to ${MAX_LEASE_MS} (idle ms before a rollback).`);
    }
    // A re-sent begin shares the first one's fate.
    if (this.#current?.id === id) return;
    const waiting = this.#waitingBegins.get(id);
    if (waiting !== undefined) return waiting;
    if (this.#endings.has(id)) throw this.#expired(id);
    if (this.#closed) throw closedError();
    const opening = this.#open(id, leaseMs);
    this.#waitingBegins.set(id, opening);
    try {
      await opening;
    } finally {
      this.#waitingBegins.delete(id);
    }
  }

  async #open(id: string, leaseMs: number): Promise<void> {
    const release = await this.#lock.acquire();
    if (this.#closed || this.#cancelled.delete(id)) {
      release();
      if (this.#closed) throw closedError();
      this.#remember(id, 'it was rolled back before it began');
      throw this.#expired(id);
    }
    this.#connection.holdWrites();
    try {
      this.#connection.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      this.#connection.resumeWrites();
      release();
      throw toOversqliteError(error);
    }
    this.#current = { id, leaseMs, release, timer: undefined };
    this.#renewLease(this.#current);
  }

  /**
   * Runs one statement inside transaction `id` and renews its lease. SAVEPOINT, RELEASE and
   * ROLLBACK TO are accepted here (nested transactions of the ORMs); BEGIN, COMMIT and ROLLBACK
   * are not (use commit and rollback). A failing statement undoes only itself, as in SQLite.
   * @throws OversqliteError `transaction_expired`, `invalid_argument`, or the statement's own error.
   */
  run(id: string, sql: string, params?: SqlParams): ExecResult {
    const tx = this.#require(id);
    this.#renewLease(tx);
    if (typeof sql === 'string' && TRANSACTION_CONTROL.test(sql) && !SAVEPOINT_CONTROL.test(sql)) {
      throw new OversqliteError(
        'invalid_argument',
        "BEGIN, COMMIT and ROLLBACK are not accepted here: use the transaction's own commit and rollback calls.",
      );
    }
    try {
      if (typeof sql === 'string' && SAVEPOINT_CONTROL.test(sql)) {
        if (hasParams(params)) {
          throw new OversqliteError('invalid_argument', 'Savepoint statements take no parameters.');
        }
        this.#connection.db.exec(sql);
        return { changes: 0, lastInsertRowid: 0, rows: [] };
      }
      return this.#connection.run(sql, params);
    } catch (error) {
      if (this.#autocommit()) {
        this.#end(tx, `SQLite rolled it back after a failed statement (${error instanceof Error ? error.message : String(error)})`);
      }
      throw toOversqliteError(error);
    }
  }

  /**
   * Commits transaction `id`. A commit re-sent after its answer was lost succeeds again (the
   * ledger recorded it); one whose transaction ended otherwise fails with `transaction_expired`.
   */
  commit(id: string): void {
    const tx = this.#current?.id === id ? this.#current : undefined;
    if (tx === undefined) {
      if (typeof id === 'string' && findAppliedRequest(this.#connection.db, ledgerId(id)) !== undefined) return;
      throw this.#expired(id);
    }
    const { db } = this.#connection;
    try {
      recordAppliedRequest(db, ledgerId(id), []);
      db.exec('COMMIT');
    } catch (error) {
      this.#rollbackIfOpen();
      this.#end(tx, 'its commit failed and it was rolled back');
      throw toOversqliteError(error);
    }
    this.#connection.announce();
    this.#end(tx, 'it was committed');
  }

  /**
   * Rolls transaction `id` back. Rolling back one that already ended does nothing; one still
   * waiting to begin never begins.
   */
  rollback(id: string, why = 'it was rolled back'): void {
    const tx = this.#current;
    if (tx !== undefined && tx.id === id) {
      this.#rollbackIfOpen();
      this.#end(tx, why);
      return;
    }
    if (this.#waitingBegins.has(id)) this.#cancelled.add(id);
  }

  /** Rolls back the open transaction and refuses new ones (the database is closing). */
  close(): void {
    this.#closed = true;
    if (this.#current !== undefined) this.rollback(this.#current.id, 'the database was closed');
  }

  /** Whether SQLite has rolled the transaction back itself (some errors do: a full disk, I/O). */
  #autocommit(): boolean {
    return this.#connection.sqlite3.capi.sqlite3_get_autocommit(this.#connection.db) !== 0;
  }

  #rollbackIfOpen(): void {
    if (this.#autocommit()) return;
    try {
      this.#connection.db.exec('ROLLBACK');
    } catch {
      /* SQLite may have rolled back already. */
    }
  }

  #require(id: string): OpenTransaction {
    const tx = this.#current;
    if (tx === undefined || tx.id !== id) throw this.#expired(id);
    return tx;
  }

  #renewLease(tx: OpenTransaction): void {
    if (tx.timer !== undefined) clearTimeout(tx.timer);
    tx.timer = setTimeout(() => {
      if (this.#current === tx) this.rollback(tx.id, `it was rolled back after ${tx.leaseMs} ms without a statement (its lease ran out)`);
    }, tx.leaseMs);
  }

  #end(tx: OpenTransaction, why: string): void {
    if (tx.timer !== undefined) clearTimeout(tx.timer);
    this.#current = undefined;
    this.#remember(tx.id, why);
    // Readers that waited go first (their continuations run before the next writer's), then the
    // held writes, then the next holder of the lock (which commits those writes before it begins).
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.#connection.resumeWrites();
    tx.release();
  }

  #remember(id: string, why: string): void {
    this.#endings.set(id, why);
    if (this.#endings.size > REMEMBERED_ENDINGS) this.#endings.delete(this.#endings.keys().next().value!);
  }

  #expired(id: string): OversqliteError {
    const why = this.#endings.get(id);
    return new OversqliteError(
      'transaction_expired',
      why !== undefined
        ? `Transaction ${id} is over: ${why}. Start a new transaction to continue.`
        : `Transaction ${id} is not open here (never begun on this leader, or rolled back when the leader tab changed). Start a new transaction to continue.`,
    );
  }
}
