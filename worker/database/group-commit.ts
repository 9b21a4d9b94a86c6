/**
 * Group commit: write calls that arrive together share one durable transaction. On OPFS a commit
 * costs about a millisecond whatever it holds, so committing 100 single-row writes at once is
 * almost 100 times cheaper than committing them one by one.
 *
 * Each call still behaves as if it ran alone: it gets its own savepoint, so a failing call rolls
 * back only its own statements and gets its own error while the others commit; calls are applied
 * in arrival order; and every caller's promise settles only after the shared COMMIT, so a resolved
 * call is durable. If the COMMIT itself fails (a full disk), everything is rolled back and every
 * call in the group gets that error: nothing is acknowledged that is not on disk.
 */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { OversqliteError, toOversqliteError } from './errors.ts';
import { findAppliedRequest, recordAppliedRequest } from './request-ledger.ts';
import type { StatementCache } from './statement-cache.ts';
import { runExec } from './statement-runner.ts';
import type { ExecResult, Outcome, SqlStatement } from './types.ts';
import { nextTaskScheduler } from './next-task.ts';
import { collectUnitCaptures } from '../engine/capture.ts';

/** One write call: statements applied atomically, optionally with a request id for exactly-once replay. */
export interface WriteUnit {
  /** The statements, applied in order, all or nothing. */
  readonly statements: readonly SqlStatement[];
  /** Caller-chosen unique id; a unit whose id was already applied returns the recorded results. */
  readonly requestId?: string;
}

/** The result of a write unit: one {@link ExecResult} per statement. */
export type WriteOutcome = Outcome<ExecResult[]>;

/** Counters that show how well writes are being grouped. */
export interface GroupCommitStats {
  /** Transactions committed (or attempted) by the group commit. */
  readonly batches: number;
  /** Write units processed. */
  readonly units: number;
  /** The largest number of units in one transaction so far. */
  readonly largestBatch: number;
}

interface QueuedUnit {
  readonly unit: WriteUnit;
  readonly resolve: (outcome: WriteOutcome) => void;
}

/** Queues write units and applies each group in one transaction. */
export class GroupCommit {
  #queue: QueuedUnit[] = [];
  #scheduled = false;
  #held = false;
  #batches = 0;
  #units = 0;
  #largestBatch = 0;
  readonly #sqlite3: Sqlite3Static;
  readonly #db: Database;
  readonly #afterCommit: () => void;
  readonly #schedule: (flush: () => void) => void;
  /** Prepared statements reused across units (none: each statement is prepared and finalized). */
  readonly #statements: StatementCache | undefined;
  /** Runs a write that touches internal tables only (a unit's collected captures). */
  readonly #internalWrite: (write: () => void) => void;

  /**
   * @param afterCommit called synchronously right after a successful COMMIT, before any caller's
   * promise settles (the change announcement goes out first).
   * @param schedule defers a flush so that calls arriving in the same turn of the event loop
   * (and messages already queued behind it) join the same group.
   */
  constructor(
    sqlite3: Sqlite3Static,
    db: Database,
    afterCommit: () => void,
    schedule: (flush: () => void) => void = nextTaskScheduler(),
    statements?: StatementCache,
    internalWrite: (write: () => void) => void = (write) => write(),
  ) {
    this.#sqlite3 = sqlite3;
    this.#db = db;
    this.#afterCommit = afterCommit;
    this.#schedule = schedule;
    this.#statements = statements;
    this.#internalWrite = internalWrite;
  }

  /** Queues a unit; the promise settles after the group it joins has committed (or failed). */
  submit(unit: WriteUnit): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ unit, resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.flush());
      }
    });
  }

  /** Whether writes are waiting; a read must flush them first to see the caller's earlier writes. */
  get hasPending(): boolean {
    return this.#queue.length > 0;
  }

  /**
   * Commits what is queued, then keeps later units queued until {@link GroupCommit.resume}: an
   * interactive transaction owns the connection meanwhile, and a group's BEGIN would fail inside
   * it (or its units would join it).
   */
  hold(): void {
    this.flush();
    this.#held = true;
  }

  /** Ends a {@link GroupCommit.hold}: units queued meanwhile commit in the next group. */
  resume(): void {
    this.#held = false;
    if (this.#queue.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
  }

  /** The grouping counters so far. */
  stats(): GroupCommitStats {
    return { batches: this.#batches, units: this.#units, largestBatch: this.#largestBatch };
  }

  /** Applies everything queued now, synchronously, in one transaction (nothing while held). */
  flush(): void {
    this.#scheduled = false;
    if (this.#held) return;
    const group = this.#queue;
    if (group.length === 0) return;
    this.#queue = [];
    this.#batches++;
    this.#units += group.length;
    this.#largestBatch = Math.max(this.#largestBatch, group.length);
    const outcomes = this.#applyGroup(group.map((q) => q.unit));
    group.forEach((q, i) => q.resolve(outcomes[i]!));
  }

  #applyGroup(units: readonly WriteUnit[]): WriteOutcome[] {
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      const shape = toOversqliteError(error).toShape();
      return units.map(() => ({ ok: false, error: shape }));
    }
    const outcomes: WriteOutcome[] = [];
    // A unit alone in its group needs no savepoint: the transaction is its own, and a failure
    // rolls it back whole. Inside an open savepoint every statement that fires triggers (each
    // write to a synced table) appends its pages to the statement journal until the savepoint is
    // released, so a large unit's journal grew with its statement count: 10k captured UPDATEs in
    // one unit took ~3x as long in Chromium on OPFS (BENCHMARKS.md, 2026-12-06).
    const alone = units.length === 1;
    for (const unit of units) {
      const outcome = this.#applyUnit(unit, alone);
      // Some errors (SQLITE_FULL, I/O errors) make SQLite roll back the whole transaction, which
      // undoes the earlier units of the group too: none of them may be acknowledged.
      if (this.#sqlite3.capi.sqlite3_get_autocommit(db) !== 0) {
        const shape = outcome.ok
          ? new OversqliteError('internal', 'The group transaction ended unexpectedly; nothing was committed.').toShape()
          : outcome.error;
        return units.map(() => ({ ok: false, error: shape }));
      }
      outcomes.push(outcome);
    }
    try {
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        /* SQLite may have rolled back already. */
      }
      const shape = toOversqliteError(error).toShape();
      return units.map(() => ({ ok: false, error: shape }));
    }
    this.#afterCommit();
    return outcomes;
  }

  /**
   * Runs one unit inside the group's transaction. With `alone`, no savepoint: on failure the
   * whole transaction is rolled back (it holds nothing else), which leaves autocommit on and
   * makes `applyGroup` report the unit's own error without committing.
   */
  #applyUnit(unit: WriteUnit, alone: boolean): WriteOutcome {
    const db = this.#db;
    if (!alone) db.exec('SAVEPOINT oversqlite_unit');
    let index = 0;
    // A unit of several statements collects its captures and writes them set-based before it
    // ends (capture.ts): about a fifth of a captured insert's cost. A unit of one statement gains
    // nothing from it (one set-based write per captured row or two), so its triggers write directly.
    const many = Array.isArray(unit.statements) && unit.statements.length > 1;
    let captures = many ? collectUnitCaptures(this.#sqlite3, db, unit.statements) : undefined;
    try {
      if (!Array.isArray(unit.statements) || unit.statements.length === 0) {
        throw new OversqliteError('invalid_argument', 'A write needs at least one statement.');
      }
      const replay = unit.requestId === undefined ? undefined : findAppliedRequest(db, unit.requestId);
      let results: ExecResult[] = [];
      if (replay !== undefined) {
        results = replay;
      } else {
        for (;;) {
          results = [];
          for (index = 0; index < unit.statements.length && !captures?.needsTriggers; index++) {
            const { sql, params } = unit.statements[index]!;
            // runQuery checks the statement (validateStatement) before SQLite sees it.
            results.push(runExec(this.#sqlite3, db, sql, params, this.#statements));
          }
          captures?.end();
          if (!captures?.needsTriggers) break;
          // Collected without triggers, the unit met a write only the triggers can judge: run it
          // again with them, from the start of the unit.
          if (alone) {
            db.exec('ROLLBACK');
            db.exec('BEGIN IMMEDIATE');
          } else {
            db.exec('ROLLBACK TO oversqlite_unit');
          }
          captures = collectUnitCaptures(this.#sqlite3, db, unit.statements, { triggers: true });
        }
        if (captures) this.#internalWrite(captures.flush);
        if (unit.requestId !== undefined) recordAppliedRequest(db, unit.requestId, results);
      }
      if (!alone) db.exec('RELEASE oversqlite_unit');
      return { ok: true, value: results };
    } catch (error) {
      if (this.#sqlite3.capi.sqlite3_get_autocommit(db) === 0) {
        if (alone) {
          db.exec('ROLLBACK');
        } else {
          db.exec('ROLLBACK TO oversqlite_unit');
          db.exec('RELEASE oversqlite_unit');
        }
      }
      const indexed = unit.statements.length > 1 ? index : undefined;
      return { ok: false, error: toOversqliteError(error, indexed).toShape() };
    } finally {
      // The unit's rows were rolled back if its captures were not flushed: drop them too.
      captures?.end();
    }
  }
}
