/**
 * The SQL seam of the server: the runtime talks to PostgreSQL only through `SqlDatabase`, which has
 * two implementations — `pg` (a pool on a real PostgreSQL) and PGlite (embedded, one connection).
 *
 * Both implementations return the same JavaScript types as `pg` does by default: int8 and numeric
 * as strings, int2/int4/float as numbers, json/jsonb parsed, bytea as Buffer/Uint8Array, booleans
 * as booleans. Runtime SQL that needs exact int64 casts to text anyway.
 */

/** Rows and count of one statement. */
export interface SqlQueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** One connection (or the single PGlite connection) held for a unit of work. */
export interface SqlSession {
  /**
   * Runs a statement. Text without parameters may hold several `;`-separated statements (one
   * round trip); the result is the last statement's.
   */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlQueryResult<R>>;
}

/** A database the sync runtime can use. */
export interface SqlDatabase {
  /** Which engine this is; used for diagnostics and for the few places they differ. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs one statement on any available connection. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlQueryResult<R>>;
  /**
   * Runs `fn` with a connection held exclusively for its whole duration (transactions, session-level
   * advisory locks). On PGlite this serializes with every other `withConnection` call.
   */
  withConnection<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Subscribes to `LISTEN channel` on a dedicated connection; resolves once listening. The returned
   * function stops listening. `onError` reports a lost connection (the caller reconnects).
   */
  listen(channel: string, onNotify: (payload: string) => void, onError?: (err: Error) => void): Promise<() => Promise<void>>;
  /** Closes connections the database owns (a pool passed in by the host is left open). */
  close(): Promise<void>;
}
