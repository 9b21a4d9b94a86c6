/**
 * An interactive transaction as the app (or an ORM binding) holds it: statements run one by one
 * on the leader's worker inside one SQLite transaction, from the leader tab or a follower.
 */
import type { ExecResult, Outcome, Row, SqlParams } from '../worker/database/types.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import type { DatabaseRequest } from './database-request.ts';
import { transactionLockName } from './leader-server.ts';
import { unwrapOutcome } from './outcome.ts';

/** Options of an interactive transaction. */
export interface TransactionOptions {
  /**
   * How long the transaction may go without a statement before the leader rolls it back (its
   * caller is taken to be gone); later calls on it then fail with `transaction_expired`. Default:
   * the database's `transactionLeaseMs` (30 s). At most 10 minutes.
   */
  readonly leaseMs?: number;
}

/** Where a transaction is in its life. */
export type TransactionState = 'open' | 'committed' | 'rolledBack';

/**
 * An open interactive transaction. Reads see its own writes; nobody else sees them before
 * {@link Transaction.commit}. While it is open, writes and reads from other callers (any tab) and
 * sync wait, so keep it short, and run its statements on it, not on the database (a call on the
 * database waits for this transaction to end). Get one with `db.transaction(async (tx) => ...)`
 * or `db.beginTransaction()`.
 */
export class Transaction {
  private current: TransactionState = 'open';

  /** @internal created by `Database.beginTransaction`. */
  constructor(
    /** The transaction's id (unique; in `transaction_expired` messages). */
    readonly id: string,
    private readonly call: (request: DatabaseRequest) => Promise<Outcome<unknown>>,
    private readonly releaseLock: () => void,
  ) {}

  /** `open` until committed or rolled back (by the app, or by the leader when the lease ran out: see its errors). */
  get state(): TransactionState {
    return this.current;
  }

  /** Runs a read inside the transaction (it sees the transaction's writes). */
  async query<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.exec(sql, params)).rows as T[];
  }

  /**
   * Runs one statement inside the transaction. A failing statement undoes only itself; the
   * transaction stays open (roll it back, or go on). `SAVEPOINT name`, `RELEASE name` and
   * `ROLLBACK TO name` nest transactions; BEGIN, COMMIT and ROLLBACK are refused (use
   * {@link Transaction.commit} and {@link Transaction.rollback}).
   * @throws OversqliteError the statement's error, or `transaction_expired` when the transaction is over.
   */
  async exec(sql: string, params?: SqlParams): Promise<ExecResult> {
    this.requireOpen();
    const outcome = (await this.call({ op: 'txRun', txId: this.id, sql, ...(params ? { params } : {}) })) as Outcome<ExecResult>;
    if (!outcome.ok && outcome.error.code === 'transaction_expired') this.finish('rolledBack');
    return unwrapOutcome(outcome);
  }

  /**
   * Commits: the writes become visible to everyone at once (live queries fire once), are captured
   * for sync, and the writes and reads that waited run.
   * @throws OversqliteError `transaction_expired` (the lease ran out: nothing was committed), `storage_full`.
   */
  async commit(): Promise<void> {
    this.requireOpen();
    try {
      unwrapOutcome(await this.call({ op: 'commit', txId: this.id }));
      this.finish('committed');
    } catch (error) {
      this.finish('rolledBack');
      throw error;
    }
  }

  /** Rolls back: nothing of the transaction stays, not even a captured change. Does nothing when it is over already. */
  async rollback(): Promise<void> {
    if (this.current !== 'open') return;
    this.finish('rolledBack');
    unwrapOutcome(await this.call({ op: 'rollback', txId: this.id }));
  }

  private requireOpen(): void {
    if (this.current !== 'open') {
      throw new OversqliteError(
        'transaction_expired',
        `Transaction ${this.id} is over: it was ${this.current === 'committed' ? 'committed' : 'rolled back'}. Start a new transaction to continue.`,
      );
    }
  }

  private finish(state: Exclude<TransactionState, 'open'>): void {
    if (this.current !== 'open') return;
    this.current = state;
    this.releaseLock();
  }
}

/**
 * Takes the Web Lock that tells the leader this tab still holds transaction `txId` (see
 * leader-server.ts); resolves with its release. Without Web Locks (Node) there is nothing to hold.
 */
export function holdTransactionLock(txId: string): Promise<() => void> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks === undefined) return Promise.resolve(() => {});
  return new Promise((granted) => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    void locks
      .request(transactionLockName(txId), () => {
        granted(release);
        return held;
      })
      .catch(() => granted(() => {}));
  });
}
