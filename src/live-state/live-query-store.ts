/**
 * A live query as a subscribable snapshot, the shape UI frameworks consume (React's
 * `useSyncExternalStore`, Vue refs). The database live query runs while at least one subscriber
 * is attached and closes with the last one. A snapshot is replaced only when something changed:
 * a re-run that returns equal rows keeps the same snapshot object and the same rows array.
 */
import type { Database } from '../database.ts';
import type { LiveQuery } from '../live-query.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { Row } from '../../worker/database/types.ts';
import type { LiveSource } from './query-source.ts';
import { reconcileRows } from './same-rows.ts';

/** A live query's current state. */
export interface LiveQueryState<T> {
  /** The latest rows (empty until the first result). Same array as before when a re-run returned equal rows. */
  readonly rows: readonly T[];
  /** True until the first result (or error) arrived. */
  readonly loading: boolean;
  /** The latest failure (the rows stay as they were), or null; cleared by the next good result. */
  readonly error: OversqliteError | null;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** One watched query of one database. */
export class LiveQueryStore<T = Row> {
  private state: LiveQueryState<T> = { rows: EMPTY, loading: true, error: null };
  private readonly listeners = new Set<() => void>();
  private live: LiveQuery | null = null;
  private settledWaiters: Array<() => void> = [];
  private pendingSettle: Promise<void> | null = null;

  constructor(
    private readonly database: Database,
    private readonly source: LiveSource<T>,
  ) {}

  /** The key of the query (same SQL and parameters, same key). */
  get key(): string {
    return this.source.key;
  }

  /** Whether no one is subscribed (the database live query is closed). */
  get idle(): boolean {
    return this.listeners.size === 0;
  }

  /** The current state (a stable object between changes). */
  readonly getSnapshot = (): LiveQueryState<T> => this.state;

  /** Calls `listener` after each change; the first subscriber starts the live query, the last one's unsubscribe closes it. */
  readonly subscribe = (listener: () => void): (() => void) => {
    // A wrapper per call: the same function subscribed twice (StrictMode) still counts twice.
    const entry = (): void => listener();
    this.listeners.add(entry);
    if (this.live === null) this.start();
    return () => {
      if (!this.listeners.delete(entry)) return;
      if (this.listeners.size === 0) this.stop();
    };
  };

  /**
   * Resolves once the query has a first result or error (runs the query meanwhile if no one else
   * does). The same promise until then, as Suspense wants.
   */
  settled(): Promise<void> {
    if (!this.state.loading) return Promise.resolve();
    this.pendingSettle ??= new Promise((resolve) => {
      const release = this.subscribe(() => {});
      this.settledWaiters.push(() => {
        release();
        this.pendingSettle = null;
        resolve();
      });
    });
    return this.pendingSettle;
  }

  private start(): void {
    this.live = this.database.live<Row>(
      this.source.sql,
      this.source.params,
      (rows) => {
        let mapped: T[];
        try {
          mapped = this.source.mapRows(rows);
        } catch (e) {
          this.set({
            rows: this.state.rows,
            loading: false,
            error: e instanceof OversqliteError ? e : new OversqliteError('internal', String(e)),
          });
          return;
        }
        const next = reconcileRows(this.state.rows, mapped);
        if (next === this.state.rows && !this.state.loading && this.state.error === null) return;
        this.set({ rows: next, loading: false, error: null });
      },
      (error) => this.set({ rows: this.state.rows, loading: false, error }),
    );
  }

  private stop(): void {
    this.live?.close();
    this.live = null;
  }

  private set(state: LiveQueryState<T>): void {
    this.state = state;
    for (const listener of [...this.listeners]) listener();
    for (const waiter of this.settledWaiters.splice(0)) waiter();
  }
}
