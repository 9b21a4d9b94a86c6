/**
 * Rows by position for query builders that map by position (Drizzle). The worker returns rows
 * keyed by column name; a query run as `SELECT * FROM (<query>)` has unique names (SQLite renames
 * a repeated `id` to `id:1`), so each row's values in key order are its columns in order.
 */
import type { Row, SqlValue } from '../../worker/database/types.ts';
import { OversqliteError } from '../../worker/database/errors.ts';

/** `sql` as a subquery whose result columns have unique names, in the same order. */
export function uniqueColumnsSql(sql: string): string {
  return `SELECT * FROM (${sql.replace(/;\s*$/, '')})`;
}

/** Whether SQL text is a read (so it can run as a subquery and outside the write path). */
export function isReadSql(sql: string): boolean {
  if (/^\s*select\b/i.test(sql)) return true;
  return /^\s*with\b/i.test(sql) && !/\b(insert|update|delete|replace)\b/i.test(sql);
}

/** Each row's values in column order. */
export function arrayRowsOf(rows: readonly Row[]): SqlValue[][] {
  return rows.map((row) => {
    const keys = Object.keys(row);
    // JavaScript lists integer-like keys first, whatever the column order: positions would lie.
    if (keys.some((key) => /^(0|[1-9]\d*)$/.test(key))) {
      throw new OversqliteError(
        'invalid_argument',
        `A result column is named ${JSON.stringify(keys.find((key) => /^(0|[1-9]\d*)$/.test(key)))}; give it an alias (sql\`...\`.as('name')) so its position is kept.`,
      );
    }
    return keys.map((key) => row[key]!);
  });
}
