/**
 * Runs single statements on an oo1 connection and shapes their results. No transaction handling
 * here: callers decide the transaction boundaries.
 */
import type { Database, Sqlite3Static, BindingSpec } from '@sqlite.org/sqlite-wasm';
import { OversqliteError } from './errors.ts';
import type { StatementCache } from './statement-cache.ts';
import type { ExecResult, QueryResult, Row, SqlParams, SqlValue } from './types.ts';

function isSqlValue(value: unknown): value is SqlValue {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || value instanceof Uint8Array
  );
}

/** Checks statement text and parameters, failing with `invalid_argument` before SQLite sees them. */
export function validateStatement(sql: unknown, params: unknown): asserts sql is string {
  if (typeof sql !== 'string' || sql.trim() === '') {
    throw new OversqliteError('invalid_argument', 'sql must be a non-empty string.');
  }
  // Transactions belong to oversqlite (group commit, sync apply); a stray BEGIN or COMMIT would
  // end someone else's transaction.
  if (/^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql)) {
    throw new OversqliteError(
      'invalid_argument',
      'Transaction control statements are not accepted; pass the statements to transaction([...]) instead.',
    );
  }
  if (params === undefined) return;
  const values = Array.isArray(params) ? params : typeof params === 'object' && params !== null ? Object.values(params) : undefined;
  if (values === undefined) {
    throw new OversqliteError('invalid_argument', 'params must be an array (for ?) or an object (for :name) of SQL values.');
  }
  for (const value of values) {
    if (!isSqlValue(value)) {
      throw new OversqliteError(
        'invalid_argument',
        `Unsupported parameter value ${String(value)} (${typeof value}); use string, number, bigint, Uint8Array or null.`,
      );
    }
    if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new OversqliteError(
        'invalid_argument',
        `Integer parameter ${value} is beyond 2^53 and has already lost precision; pass it as a bigint.`,
      );
    }
  }
}

/** Whether `params` binds anything (an empty array or object binds nothing). */
export function hasParams(params: SqlParams | undefined): params is SqlParams {
  return params !== undefined && (Array.isArray(params) ? params.length > 0 : Object.keys(params).length > 0);
}

/**
 * Runs one statement and returns its rows and column names. With `statements`, the prepared
 * statement comes from (and goes back to) that cache; without, it is prepared and finalized here.
 */
export function runQuery(db: Database, sql: string, params?: SqlParams, statements?: StatementCache): QueryResult {
  validateStatement(sql, params);
  const lent = statements ? statements.acquire(sql) : undefined;
  const stmt = lent ? lent.stmt : db.prepare(sql);
  try {
    if (hasParams(params)) stmt.bind(params as BindingSpec);
    const columns = stmt.columnCount > 0 ? stmt.getColumnNames() : [];
    const rows: Row[] = [];
    while (stmt.step()) {
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = stmt.get(i) as SqlValue;
      rows.push(row);
    }
    return { rows, columns };
  } finally {
    if (lent) lent.release();
    else stmt.finalize();
  }
}

/** Runs one write statement and returns what it changed. */
export function runExec(sqlite3: Sqlite3Static, db: Database, sql: string, params?: SqlParams, statements?: StatementCache): ExecResult {
  const { rows } = runQuery(db, sql, params, statements);
  const rowid = sqlite3.capi.sqlite3_last_insert_rowid(db);
  const lastInsertRowid = rowid >= BigInt(Number.MIN_SAFE_INTEGER) && rowid <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rowid) : rowid;
  return { changes: sqlite3.capi.sqlite3_changes(db), lastInsertRowid, rows };
}
