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
 * Kysely's `k.transaction().execute(async (trx) => ...)` (and `k.startTransaction()` with its
 * savepoints) runs in an oversqlite interactive transaction (`Database.transaction(fn)`): reads
 * see its writes, it commits when the callback resolves and rolls back when it throws. Use `trx`
 * inside the callback: a query on `k` waits until the transaction ends. {@link executeAtomically}
 * commits several queries all or none in one group-committed unit (the cheapest atomic form).
 * kysely is an optional peer dependency of oversqlite: only apps that import this entry need it.
 * @packageDocumentation
 */
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  DatabaseMetadata,
  DatabaseMetadataOptions,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  SchemaMetadata,
  TableMetadata,
} from 'kysely';
import type { Database } from '../database.ts';
import type { Transaction } from '../transaction.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { ExecResult, Row } from '../../worker/database/types.ts';
import { isReadSql } from '../live-state/array-rows.ts';
import { toSqlParams } from '../live-state/sql-params.ts';

export { live } from '../live-state/live-object.ts';
export type { KyselyLikeQuery, RowOf } from '../live-state/query-source.ts';

function isRead(query: CompiledQuery): boolean {
  if (query.query.kind === 'SelectQueryNode') return true;
  if (query.query.kind === 'RawNode') return isReadSql(query.sql);
  return false;
}

function writeResult<R>(result: ExecResult): QueryResult<R> {
  return { rows: result.rows as R[], numAffectedRows: BigInt(result.changes), insertId: BigInt(result.lastInsertRowid) };
}

/**
 * One "connection": calls go to the database object, which routes them to the leader tab; while
 * Kysely runs a transaction on it, they go to that oversqlite {@link Transaction}.
 */
class OversqliteConnection implements DatabaseConnection {
  /** The transaction Kysely opened on this connection, until it commits or rolls back. */
  transaction: Transaction | undefined;

  constructor(private readonly database: Database) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = toSqlParams(compiled.parameters);
    const runner = this.transaction ?? this.database;
    if (isRead(compiled)) return { rows: await runner.query<R>(compiled.sql, params) };
    return writeResult<R>(await runner.exec(compiled.sql, params));
  }

  /** Runs a savepoint statement inside the open transaction. */
  async savepointStatement(sql: string): Promise<void> {
    await this.requireTransaction().exec(sql);
  }

  requireTransaction(): Transaction {
    if (this.transaction === undefined) throw new OversqliteError('invalid_argument', 'No transaction is open on this Kysely connection.');
    return this.transaction;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new OversqliteError('invalid_argument', 'Streaming results is not available on oversqlite; use execute().');
  }
}

/** Kysely quotes nothing in savepoint names it hands the driver; oversqlite quotes them. */
function savepointName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

class OversqliteDriver implements Driver {
  constructor(private readonly database: Database) {}

  async init(): Promise<void> {}

  /** A connection per acquisition: Kysely binds a transaction to the one it acquired. */
  async acquireConnection(): Promise<DatabaseConnection> {
    return new OversqliteConnection(this.database);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as OversqliteConnection).transaction = await this.database.beginTransaction();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const own = connection as OversqliteConnection;
    const tx = own.requireTransaction();
    own.transaction = undefined;
    await tx.commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // Kysely also rolls back after a failed commit: the transaction is over then, nothing to do,
    // and the commit's error is the one Kysely rethrows.
    const own = connection as OversqliteConnection;
    const tx = own.transaction;
    own.transaction = undefined;
    await tx?.rollback();
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as OversqliteConnection).savepointStatement(`SAVEPOINT ${savepointName(name)}`);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as OversqliteConnection).savepointStatement(`ROLLBACK TO SAVEPOINT ${savepointName(name)}`);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await (connection as OversqliteConnection).savepointStatement(`RELEASE SAVEPOINT ${savepointName(name)}`);
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
  const compiled = queries.map((q) => ('compile' in q && typeof q.compile === 'function' ? q.compile() : (q as CompiledQuery)));
  if (compiled.length === 0) return [];
  const results = await database.transaction(compiled.map((c) => ({ sql: c.sql, params: toSqlParams(c.parameters) })));
  return results.map((result, i) => (isRead(compiled[i]!) ? { rows: result.rows } : writeResult<Row>(result)));
}
