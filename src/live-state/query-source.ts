/**
 * What a live binding (React, Vue) can watch: SQL with parameters, a Kysely query, or a Drizzle
 * query built on `oversqlite/drizzle`. Each becomes SQL plus a function that turns the rows the
 * worker returns into the rows the query builder would return, with the builder's row type.
 * Nothing here imports a query builder: queries are recognised by shape.
 */
import type { Row, SqlParams } from '../../worker/database/types.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import { arrayRowsOf, uniqueColumnsSql } from './array-rows.ts';
import { toSqlParams } from './sql-params.ts';

/** A Kysely query (a select builder, or anything with `compile()` and `execute()`); rows typed as `execute()` resolves. */
export interface KyselyLikeQuery<R> {
  compile(): { readonly sql: string; readonly parameters: readonly unknown[] };
  execute(): Promise<R[]>;
}

/** A Drizzle query built on a database from `oversqlite/drizzle` (select, `db.query.x.findMany/findFirst`). */
export interface DrizzleLikeQuery<R> extends PromiseLike<R> {
  prepare(): {
    getQuery(): { sql: string; params: unknown[] };
    mapResult(response: unknown, isFromBatch?: boolean): unknown;
  };
}

/** A query object a live binding accepts. */
export type LiveQueryObject = KyselyLikeQuery<unknown> | DrizzleLikeQuery<unknown>;

/** The row type of a query object: Kysely's selected row, Drizzle's mapped row. */
export type RowOf<Q> =
  Q extends KyselyLikeQuery<infer R>
    ? R
    : Q extends DrizzleLikeQuery<infer R>
      ? R extends readonly (infer E)[]
        ? E
        : NonNullable<R>
      : never;

/** A query resolved for watching. */
export interface LiveSource<T> {
  readonly sql: string;
  readonly params: SqlParams | undefined;
  /** Equal for queries with the same SQL and parameter values (bindings reuse work by it). */
  readonly key: string;
  /** Turns the worker's rows into the app's rows (throws a typed error it cannot). */
  readonly mapRows: (rows: Row[]) => T[];
}

function isKysely(query: object): query is KyselyLikeQuery<unknown> {
  return typeof (query as { compile?: unknown }).compile === 'function';
}

function isDrizzle(query: object): query is DrizzleLikeQuery<unknown> {
  return typeof (query as { prepare?: unknown }).prepare === 'function' && typeof (query as { then?: unknown }).then === 'function';
}

/** A stable text key for SQL + parameters (bigints and byte arrays included). */
export function queryKey(sql: string, params: SqlParams | undefined): string {
  return JSON.stringify([sql, params ?? null], (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return { $bytes: Array.from(value) };
    return value;
  });
}

/** Resolves a SQL string (with `params`) or a query object into what a live query runs. */
export function resolveLiveSource<T>(query: string | LiveQueryObject, params?: SqlParams): LiveSource<T> {
  if (typeof query === 'string') {
    return { sql: query, params, key: queryKey(query, params), mapRows: (rows) => rows as T[] };
  }
  if (query !== null && typeof query === 'object' && isKysely(query)) {
    const compiled = query.compile();
    const values = toSqlParams(compiled.parameters);
    return { sql: compiled.sql, params: values, key: queryKey(compiled.sql, values), mapRows: (rows) => rows as T[] };
  }
  if (query !== null && typeof query === 'object' && isDrizzle(query)) {
    const prepared = query.prepare();
    const built = prepared.getQuery() as { sql: string; params: unknown[]; method?: string };
    const values = toSqlParams(built.params);
    // Drizzle maps rows by column position; the worker returns rows keyed by name, so the query
    // runs as a subquery, where SQLite gives duplicate names (a join's two `id`s) unique ones.
    const sql = uniqueColumnsSql(built.sql);
    const single = built.method === 'get';
    return {
      sql,
      params: values,
      key: queryKey(sql, values),
      mapRows: (rows) => {
        const arrays = arrayRowsOf(rows);
        if (!single) return prepared.mapResult({ rows: arrays }, true) as T[];
        const row = prepared.mapResult({ rows: arrays[0] }, true) as T | undefined;
        return row === undefined ? [] : [row];
      },
    };
  }
  throw new OversqliteError(
    'invalid_argument',
    'A live query needs SQL text, a Kysely query (with compile()), or a Drizzle query from oversqlite/drizzle.',
  );
}
