/**
 * `oversqlite/drizzle`: Drizzle ORM over an oversqlite database, in any tab (a follower's calls
 * run on the leader's worker like every other call).
 *
 * ```ts
 * import { drizzle } from 'oversqlite/drizzle';
 * const orm = drizzle(db, { schema });
 * await orm.insert(todos).values({ id, title: 'Buy milk' });
 * const open = await orm.select().from(todos).where(eq(todos.done, false));
 * await orm.batch([orm.insert(todos).values(a), orm.update(lists).set(b).where(eq(lists.id, a.listId))]); // atomic
 * ```
 *
 * Atomic writes: `orm.batch([...])` (one group-committed unit, the cheapest form), or Drizzle's
 * interactive `orm.transaction(async (tx) => ...)` when a write depends on a read in between: it
 * runs in an oversqlite interactive transaction (`Database.transaction(fn)`): reads see its
 * writes, it commits when the callback resolves, rolls back when it throws or calls
 * `tx.rollback()`, and `tx.transaction(...)` nests as a savepoint. Use `tx` inside the callback:
 * a call on `orm` waits until the transaction ends.
 * drizzle-orm is an optional peer dependency of oversqlite: only apps that import this entry need it.
 * @packageDocumentation
 */
import { drizzle as drizzleProxy } from 'drizzle-orm/sqlite-proxy';
import type { SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import type { DrizzleConfig } from 'drizzle-orm';
import type { Database } from '../database.ts';
import type { Transaction } from '../transaction.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { ExecResult, Row, SqlStatement, SqlValue } from '../../worker/database/types.ts';
import { arrayRowsOf, isReadSql, uniqueColumnsSql } from '../live-state/array-rows.ts';
import { toSqlParams } from '../live-state/sql-params.ts';

export { live } from '../live-state/live-object.ts';
export { checkDrizzleSchema } from './schema-check.ts';
export type { SchemaDifference, SchemaReader } from './schema-check.ts';
export type { DrizzleLikeQuery, RowOf } from '../live-state/query-source.ts';

/** How Drizzle asks for a statement's result. */
type Method = 'run' | 'all' | 'values' | 'get';

/** What a `run` returns (Drizzle hands it to the app as is). */
export interface OversqliteRunResult {
  readonly rows: never[];
  /** Rows changed by the statement. */
  readonly changes: number;
  /** The rowid of the last inserted row. */
  readonly lastInsertRowid: number | bigint;
}

/** A Drizzle database over oversqlite (Drizzle's `sqlite-proxy` database type). */
export type OversqliteDrizzle<TSchema extends Record<string, unknown> = Record<string, never>> = SqliteRemoteDatabase<TSchema>;

const TRANSACTION_CONTROL = /^\s*(begin|commit|end|rollback|savepoint|release)\b/i;

function refuseTransactionControl(sql: string): void {
  if (TRANSACTION_CONTROL.test(sql)) {
    throw new OversqliteError(
      'invalid_argument',
      'Transaction statements are not run on their own on oversqlite: use orm.transaction(async (tx) => ...), or orm.batch([...]) for writes that commit all or none.',
    );
  }
}

/** How Drizzle's session opens, ends and nests the transaction it runs on a {@link Transaction}. */
const BEGIN = /^\s*begin\b/i;
const COMMIT = /^\s*(commit|end)\b/i;
const ROLLBACK = /^\s*rollback\s*;?\s*$/i;

function shape(method: Method, rows: readonly Row[], result?: ExecResult): { rows: unknown[] } | OversqliteRunResult {
  if (method === 'run') return { rows: [], changes: result?.changes ?? 0, lastInsertRowid: result?.lastInsertRowid ?? 0 };
  const arrays: SqlValue[][] = arrayRowsOf(rows);
  // `get` wants the one row itself (undefined when there is none).
  if (method === 'get') return { rows: arrays[0] as unknown[] };
  return { rows: arrays };
}

/**
 * A Drizzle database running on `database`. Pass `{ schema }` for Drizzle's relational queries
 * (`orm.query.todos.findMany()`); live queries: `useQuery(orm.select()...)` in oversqlite/react or
 * oversqlite/vue, or {@link live}.
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  database: Database,
  config?: DrizzleConfig<TSchema>,
): OversqliteDrizzle<TSchema> {
  const orm = drizzleProxy<TSchema>(
    async (sql: string, params: unknown[], method: Method) => {
      refuseTransactionControl(sql);
      const values = toSqlParams(params);
      if (isReadSql(sql)) return shape(method, await database.query(uniqueColumnsSql(sql), values));
      const result = await database.exec(sql, values);
      return shape(method, result.rows, result);
    },
    async (batch: Array<{ sql: string; params: unknown[]; method: Method }>) => {
      for (const item of batch) refuseTransactionControl(item.sql);
      if (batch.length === 0) return [];
      const statements: SqlStatement[] = batch.map((item) => ({
        sql: isReadSql(item.sql) ? uniqueColumnsSql(item.sql) : item.sql,
        params: toSqlParams(item.params),
      }));
      const results = await database.transaction(statements);
      return results.map((result, i) => shape(batch[i]!.method, result.rows, result)) as Array<{ rows: unknown[] }>;
    },
    config,
  );
  // Each transaction gets a Drizzle session of its own over an oversqlite Transaction: Drizzle's
  // session runs begin/commit/rollback/savepoint statements through it (translated below), and
  // calls on `orm` meanwhile stay outside the transaction.
  orm.transaction = ((fn, txConfig) =>
    database.transaction((tx) =>
      drizzleProxy<TSchema>(
        (sql: string, params: unknown[], method: Method) => runInTransaction(tx, sql, params, method),
        async (batch: Array<{ sql: string; params: unknown[]; method: Method }>) => {
          const results: Array<{ rows: unknown[] }> = [];
          for (const item of batch) results.push((await runInTransaction(tx, item.sql, item.params, item.method)) as { rows: unknown[] });
          return results;
        },
        config,
      ).transaction(fn, txConfig),
    )) as typeof orm.transaction;
  return orm;
}

async function runInTransaction(
  tx: Transaction,
  sql: string,
  params: unknown[],
  method: Method,
): Promise<{ rows: unknown[] } | OversqliteRunResult> {
  // The transaction is open already and commits when Drizzle's callback resolves.
  if (BEGIN.test(sql) || COMMIT.test(sql)) return shape(method, []);
  if (ROLLBACK.test(sql)) {
    await tx.rollback();
    return shape(method, []);
  }
  const values = toSqlParams(params);
  if (isReadSql(sql)) return shape(method, await tx.query(uniqueColumnsSql(sql), values));
  const result = await tx.exec(sql, values);
  return shape(method, result.rows, result);
}
