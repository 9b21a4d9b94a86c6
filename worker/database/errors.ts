/**
 * Typed errors of oversqlite. Every failure an app can see carries a stable `code` so it can branch
 * on it, plus a message that says what to do. Errors cross the worker and tab boundaries as plain
 * {@link OversqliteErrorShape} records (structured clone drops custom error fields), and are rebuilt
 * into {@link OversqliteError} on the other side.
 * @packageDocumentation
 */

/** Every error code oversqlite reports. */
export type OversqliteErrorCode =
  /** OPFS (or sync access handles) is missing in this browser context; choose `storage: 'memory'` explicitly or use another browser. */
  | 'opfs_unavailable'
  /** Another worker holds the database file (normally a leader tab); retry after it closes. */
  | 'database_locked'
  /** The disk or the origin quota is full; the failed write was rolled back. */
  | 'storage_full'
  /** A constraint (UNIQUE, NOT NULL, CHECK, FOREIGN KEY) rejected the write; it was rolled back. */
  | 'constraint_violation'
  /** SQLite rejected the statement (syntax, missing table, type, ...). */
  | 'sql_error'
  /** The arguments given to an oversqlite call are invalid. */
  | 'invalid_argument'
  /** A schema migration failed; the database stays at the previous version. */
  | 'migration_failed'
  /** The database on disk has a newer schema version than the app knows. */
  | 'schema_too_new'
  /** Another tab leads this database with a different schema version (two app builds are open). */
  | 'schema_mismatch'
  /** The database was closed. */
  | 'closed'
  /** No leader tab answered in time (multi-tab). */
  | 'leader_timeout'
  /** The leader tab went away while a call was in flight and the call could not be retried safely. */
  | 'leader_lost'
  /**
   * The interactive transaction is over: its lease ran out (no statement for `leaseMs`), it was
   * already committed or rolled back, or the leader tab changed under it. Nothing of it that was
   * not committed stays; start a new transaction.
   */
  | 'transaction_expired'
  /** Sync was called on a database opened without a `sync` configuration. */
  | 'sync_not_configured'
  /** The sync engine reported a failure (see `cause` for the engine's code). */
  | 'sync_failed'
  /** An unexpected internal failure. */
  | 'internal';

/** The serializable form of an {@link OversqliteError}, as it crosses workers and tabs. */
export interface OversqliteErrorShape {
  /** Stable machine-readable code. */
  readonly code: OversqliteErrorCode;
  /** Human-readable, actionable message. */
  readonly message: string;
  /** SQLite extended result code when the error came from SQLite. */
  readonly sqliteCode?: number;
  /** Index of the failing statement inside a transaction, when relevant. */
  readonly statementIndex?: number;
  /** Code reported by a lower layer (for example the sync engine), when relevant. */
  readonly cause?: string;
}

/** The error class every oversqlite API rejects with. */
export class OversqliteError extends Error {
  /** Stable machine-readable code. */
  readonly code: OversqliteErrorCode;
  /** SQLite extended result code when the error came from SQLite. */
  readonly sqliteCode?: number;
  /** Index of the failing statement inside a transaction, when relevant. */
  readonly statementIndex?: number;
  /** Code reported by a lower layer, when relevant (the `cause` of the shape). */
  readonly causeCode?: string;

  /** Creates an error with a code and an actionable message. */
  constructor(code: OversqliteErrorCode, message: string, extra: Omit<OversqliteErrorShape, 'code' | 'message'> = {}) {
    super(message);
    this.name = 'OversqliteError';
    this.code = code;
    if (extra.sqliteCode !== undefined) this.sqliteCode = extra.sqliteCode;
    if (extra.statementIndex !== undefined) this.statementIndex = extra.statementIndex;
    if (extra.cause !== undefined) this.causeCode = extra.cause;
  }

  /** The plain record that can be posted to another worker or tab. */
  toShape(): OversqliteErrorShape {
    return {
      code: this.code,
      message: this.message,
      ...(this.sqliteCode !== undefined ? { sqliteCode: this.sqliteCode } : {}),
      ...(this.statementIndex !== undefined ? { statementIndex: this.statementIndex } : {}),
      ...(this.causeCode !== undefined ? { cause: this.causeCode } : {}),
    };
  }

  /** Rebuilds an error from its posted shape. */
  static fromShape(shape: OversqliteErrorShape): OversqliteError {
    return new OversqliteError(shape.code, shape.message, shape);
  }
}

/** The error of a call on a closed database. */
export function closedError(): OversqliteError {
  return new OversqliteError('closed', 'The database is closed; open it again to continue.');
}

// Primary SQLite result codes (the low byte of an extended code).
const SQLITE_CONSTRAINT = 19;
const SQLITE_FULL = 13;

/**
 * Maps anything thrown by SQLite (or by the OPFS layer under it) to an {@link OversqliteError}.
 * A full disk shows up either as SQLITE_FULL or as an I/O error whose text names the browser's
 * QuotaExceededError, depending on where the write failed.
 */
export function toOversqliteError(error: unknown, statementIndex?: number): OversqliteError {
  if (error instanceof OversqliteError) return error;
  const extra: { sqliteCode?: number; statementIndex?: number } = {};
  if (statementIndex !== undefined) extra.statementIndex = statementIndex;
  const message = error instanceof Error ? error.message : String(error);
  const resultCode =
    typeof (error as { resultCode?: unknown })?.resultCode === 'number' ? (error as { resultCode: number }).resultCode : undefined;
  if (resultCode !== undefined) extra.sqliteCode = resultCode;
  const primary = resultCode === undefined ? undefined : resultCode & 0xff;
  const isQuota = /QuotaExceeded|quota/i.test(message) || (error as { name?: string })?.name === 'QuotaExceededError';
  if (primary === SQLITE_FULL || isQuota) {
    return new OversqliteError(
      'storage_full',
      `Storage is full (${message}). The write was rolled back; free space or ask the user to allow more storage.`,
      extra,
    );
  }
  if (primary === SQLITE_CONSTRAINT) {
    return new OversqliteError('constraint_violation', message, extra);
  }
  if (resultCode !== undefined) return new OversqliteError('sql_error', message, extra);
  return new OversqliteError('internal', message, extra);
}
