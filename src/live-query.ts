/**
 * Live queries: a query that re-runs whenever a commit (local, from another tab, or from sync)
 * touches a table it reads. The read tables come from the SQLite authorizer when the query is
 * prepared. Re-runs are coalesced: however many notices arrive while a run is in flight, at most
 * one more run follows, so a pull that applies 1,000 bundles causes a handful of re-runs, not 1,000.
 */
import type { CommitNotice } from '../worker/database/table-access.ts';
import type { Outcome, Row, SqlParams, WatchedQueryResult } from '../worker/database/types.ts';
import { OversqliteError } from '../worker/database/errors.ts';

/** A running live query. */
export interface LiveQuery {
  /** The app tables the query reads (known after the first run). */
  readonly tables: readonly string[];
  /** Stops re-running and delivering rows. */
  close(): void;
}

/** Runs the query on whichever tab leads. */
type WatchedQueryRunner = (sql: string, params?: SqlParams) => Promise<Outcome<WatchedQueryResult>>;

/** One live query's state machine. */
export class LiveQueryRun<T = Row> implements LiveQuery {
  private readTables = new Set<string>();
  private tablesKnown = false;
  private running = false;
  private rerun = false;
  private closed = false;

  constructor(
    private readonly runQuery: WatchedQueryRunner,
    private readonly sql: string,
    private readonly params: SqlParams | undefined,
    private readonly onRows: (rows: T[]) => void,
    private readonly onError: (error: OversqliteError) => void,
  ) {}

  /** The tables the query reads. */
  get tables(): readonly string[] {
    return [...this.readTables];
  }

  /** Whether a commit notice concerns this query. Before the first run completes, every notice does. */
  concerns(notice: CommitNotice): boolean {
    if (!this.tablesKnown) return true;
    return notice.tables.some((t) => this.readTables.has(t));
  }

  /** Runs now, or once more after the run in flight. */
  refresh(): void {
    if (this.closed) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    void this.runQuery(this.sql, this.params).then((outcome) => {
      this.running = false;
      if (this.closed) return;
      if (outcome.ok) {
        this.readTables = new Set(outcome.value.tables);
        this.tablesKnown = true;
        this.onRows(outcome.value.rows as T[]);
      } else {
        this.onError(OversqliteError.fromShape(outcome.error));
      }
      if (this.rerun) {
        this.rerun = false;
        this.refresh();
      }
    });
  }

  /** Stops the query. */
  close(): void {
    this.closed = true;
  }
}
