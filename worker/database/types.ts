/**
 * Value and result types shared by the worker, the tabs and the app. They are all
 * structured-clone safe, so they cross `postMessage` and `BroadcastChannel` unchanged.
 */

/**
 * A SQLite value. INTEGERs come back as `number` when they fit in a JS number exactly and as
 * `bigint` otherwise, so no precision is ever lost; bind a `bigint` to write one.
 */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** Positional (`?`) or named (`:name`, `$name`, `@name`; keys include the prefix) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** One row, keyed by result column name. */
export type Row = Record<string, SqlValue>;

/** One statement with its parameters. */
export interface SqlStatement {
  /** A single SQL statement. */
  readonly sql: string;
  /** Its parameters, if any. */
  readonly params?: SqlParams;
}

/** What a write statement did. */
export interface ExecResult {
  /** Rows changed by the statement (`sqlite3_changes`). */
  readonly changes: number;
  /** The rowid of the last inserted row on this connection (bigint beyond 2^53). */
  readonly lastInsertRowid: number | bigint;
  /** Rows produced by a `RETURNING` clause (empty otherwise). */
  readonly rows: Row[];
}

/** Rows of a query plus their column names. */
export interface QueryResult<T = Row> {
  /** The rows, in result order. */
  readonly rows: T[];
  /** The result column names, in order. */
  readonly columns: string[];
}

/** A query result plus the app tables the query reads (used by live queries). */
export interface WatchedQueryResult<T = Row> extends QueryResult<T> {
  /** App tables the query reads, found by the SQLite authorizer at prepare time. */
  readonly tables: string[];
}

/** The app's schema: its current version and the forward migrations that build it. */
export interface AppSchema {
  /** The schema version the app expects (`PRAGMA user_version` after migrating). */
  readonly version: number;
  /**
   * `migrations[v]` is the SQL that moves the schema from version `v` to `v + 1`
   * (so `migrations.length` must equal `version`). Each runs in its own transaction.
   */
  readonly migrations: readonly string[];
}

/** The outcome of one call, as it crosses a worker or tab boundary (never a thrown value). */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: import('./errors.ts').OversqliteErrorShape };
