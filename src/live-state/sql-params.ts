/**
 * Parameters from query builders as oversqlite SQL values. Builders already map dates, JSON and
 * booleans for SQLite; what is left to do here is booleans passed raw (SQLite stores them as
 * 0/1) and Node `Buffer`s (plain bytes), which do not cross to the worker as they are.
 */
import type { SqlValue } from '../../worker/database/types.ts';

/** `values` as SQL values (anything else is left for the worker to reject with a typed error). */
export function toSqlParams(values: readonly unknown[]): SqlValue[] {
  return values.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Uint8Array && value.constructor !== Uint8Array) return new Uint8Array(value);
    return value as SqlValue;
  });
}
