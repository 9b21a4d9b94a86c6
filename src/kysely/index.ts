/**
 * `oversqlite/kysely`: a Kysely dialect over an oversqlite database, in any tab (a follower's
 * queries run on the leader's worker like every other call).
 *
 * ```ts
 * import { Kysely } from 'kysely';
 * import { OversqliteDialect, executeAtomically } from 'oversqlite/kysely';
 * const k = new Kysely<AppTables>({ dialect: new OversqliteDialect(db) });
 * const open = await k.selectFrom('todo').selectAll().where('done', '=', 0).execute();
 * await executeAtomically(db, [k.insertInto('todo').values(a), k.updateTable('list').set(b).where('id', '=', a.list_id)]); // all or none
 * ```
 *
 * Kysely's interactive `k.transaction().execute(async (trx) => ...)` is refused with
 * `invalid_argument`: oversqlite does not hold a transaction open across awaits (writes from every
 * tab share one group commit); {@link executeAtomically} commits several queries all or none.
 * kysely is an optional peer dependency of oversqlite: only apps that import this entry need it.
 * @packageDocumentation
 */
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, DatabaseMetadata, DatabaseMetadataOptions, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, SchemaMetadata, TableMetadata } from 'kysely';
import type { Database } from '../database.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { ExecResult, Row } from '../../worker/database/types.ts';
import { isReadSql } from '../live-state/array-rows.ts';
import { toSqlParams } from '../live-state/sql-params.ts';

export { live } from '../live-state/live-object.ts';
export type { KyselyLikeQuery, RowOf } from '../live-state/query-source.ts';

const NO_TRANSACTIONS = "Kysely's interactive transaction() is not available on oversqlite (no transaction stays open across awaits); use executeAtomically(db, [queries]), which commits them all or none.";

function isRead(query: CompiledQuery): boolean {
  if (query.query.kind === 'SelectQueryNode') return true;
  if (query.query.kind === 'RawNode') return isReadSql(query.sql);
  return false;
}

function writeResult<R>(result: ExecResult): QueryResult<R> {
  return { rows: result.rows as R[], numAffectedRows: BigInt(result.changes), insertId: BigInt(result.lastInsertRowid) };
}

/** One "connection": every call goes to the database object, which routes it to the leader tab. */
class OversqliteConnection implements DatabaseConnection {
  constructor(private readonly database: Database) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = toSqlParams(compiled.parameters);
    if (isRead(compiled)) return { rows: await this.database.query<R>(compiled.sql, params) };
    return writeResult<R>(await this.database.exec(compiled.sql, params));
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new OversqliteError('invalid_argument', 'Streaming results is not available on oversqlite; use execute().');
  }
}

class OversqliteDriver implements Driver {
  private readonly connection: OversqliteConnection;

  constructor(database: Database) {
    this.connection = new OversqliteConnection(database);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    throw new OversqliteError('invalid_argument', NO_TRANSACTIONS);
  }

  async commitTransaction(): Promise<void> {
    throw new OversqliteError('invalid_argument', NO_TRANSACTIONS);
  }

  async rollbackTransaction(): Promise<void> {
    throw new OversqliteError('invalid_argument', NO_TRANSACTIONS);
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}

/** oversqlite's own bookkeeping tables (sync state, request ledger): not the app's. */
const INTERNAL_TABLE = /^_(oversqlite|sync)_/;

/** SQLite's introspector without oversqlite's bookkeeping tables. */
class AppTablesIntrospector implements DatabaseIntrospector {
  constructor(private readonly inner: DatabaseIntrospector) {}

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.inner.getSchemas();
  }

  async getTables(options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    return (await this.inner.getTables(options)).filter((t) => !INTERNAL_TABLE.test(t.name));
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** The Kysely dialect: SQLite's query compiler and adapter, queries run on `database`. */
export class OversqliteDialect implements Dialect {
  constructor(private readonly database: Database) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new OversqliteDriver(this.database);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new AppTablesIntrospector(new SqliteIntrospector(db));
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
}

/** A Kysely query (builder or compiled). */
export type AtomicQuery = { compile(): CompiledQuery } | CompiledQuery;

/**
 * Runs `queries` as one oversqlite transaction: all of them commit, or none (the failing query's
 * typed error, with `statementIndex`). Results in order; reads see the writes before them.
 */
export async function executeAtomically(database: Database, queries: readonly AtomicQuery[]): Promise<Array<QueryResult<Row>>> {
  const compiled = queries.map((q) => ('compile' in q && typeof q.compile === 'function' ? q.compile() : q as CompiledQuery));
  if (compiled.length === 0) return [];
  const results = await database.transaction(compiled.map((c) => ({ sql: c.sql, params: toSqlParams(c.parameters) })));
  return results.map((result, i) => (isRead(compiled[i]!) ? { rows: result.rows } : writeResult<Row>(result)));
}
