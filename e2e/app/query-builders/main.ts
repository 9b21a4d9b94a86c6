/**
 * The query-builder e2e page: `window.qb` runs Drizzle (oversqlite/drizzle) and Kysely
 * (oversqlite/kysely) against a database opened through the base harness, in whichever tab it is
 * (leader or follower), and returns what came back. The React page's harness is loaded too, with
 * query builders registered for `useQuery(queryObject)`.
 */
import { Kysely } from 'kysely';
import { asc, eq } from 'drizzle-orm';
import { drizzle, live as liveDrizzle } from '../../../src/drizzle/index.ts';
import type { OversqliteDrizzle } from '../../../src/drizzle/index.ts';
import { OversqliteDialect, executeAtomically, live as liveKysely } from '../../../src/kysely/index.ts';
import type { Database, LiveQuery } from '../../../src/index.ts';
import '../react/main.ts';
import '../vue/main.ts';
import { lists, todos } from './schema.ts';
import type { KyselyTables } from './schema.ts';

/** A failure as the specs compare it. */
interface Failure {
  error: string;
  statementIndex?: number;
}

function failure(e: unknown): Failure {
  // Drizzle wraps a failed query in its DrizzleQueryError; the OversqliteError is its `cause`.
  const outer = e as { code?: string; cause?: unknown };
  const err = (outer.code === undefined && outer.cause !== undefined ? outer.cause : e) as {
    code?: string;
    message?: string;
    statementIndex?: number;
  };
  return {
    error: `${err.code ?? 'not typed'}: ${err.message ?? String(e)}`,
    ...(err.statementIndex !== undefined ? { statementIndex: err.statementIndex } : {}),
  };
}

const orms = new Map<string, OversqliteDrizzle>();
const kyselys = new Map<string, Kysely<KyselyTables>>();
const lives = new Map<string, { results: unknown[][]; query: LiveQuery }>();

function orm(name: string): OversqliteDrizzle {
  let o = orms.get(name);
  if (o === undefined) orms.set(name, (o = drizzle(window.harness.db(name))));
  return o;
}

function kysely(name: string): Kysely<KyselyTables> {
  let k = kyselys.get(name);
  if (k === undefined) kyselys.set(name, (k = new Kysely<KyselyTables>({ dialect: new OversqliteDialect(window.harness.db(name)) })));
  return k;
}

/** A todo as JSON (dates as ISO text). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

const qb = {
  /** Drizzle: inserts with RETURNING, a join (two `id` columns), an update, a typed select, a delete. */
  async drizzleRoundTrip(name: string, prefix: string) {
    const o = orm(name);
    const list = await o
      .insert(lists)
      .values({ id: `${prefix}-l`, name: 'Groceries' })
      .returning();
    const created = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const inserted = (await o
      .insert(todos)
      .values([
        { id: `${prefix}-t1`, listId: `${prefix}-l`, title: 'milk', createdAt: created },
        { id: `${prefix}-t2`, listId: `${prefix}-l`, title: 'eggs', createdAt: created },
      ])
      .run()) as unknown as { changes: number };
    const joined = await o
      .select({ todoId: todos.id, listId: lists.id, list: lists.name, title: todos.title })
      .from(todos)
      .innerJoin(lists, eq(todos.listId, lists.id))
      .where(eq(lists.id, `${prefix}-l`))
      .orderBy(asc(todos.id));
    const updated = await o
      .update(todos)
      .set({ done: true })
      .where(eq(todos.id, `${prefix}-t1`))
      .returning({ id: todos.id, done: todos.done });
    const typed = await o
      .select()
      .from(todos)
      .where(eq(todos.id, `${prefix}-t1`));
    const first = typed[0]!;
    const removed = await o
      .delete(todos)
      .where(eq(todos.id, `${prefix}-t2`))
      .returning({ id: todos.id });
    const single = await o
      .select({ n: todos.title })
      .from(todos)
      .where(eq(todos.listId, `${prefix}-l`))
      .get();
    return plain({
      list,
      changes: inserted.changes,
      joined,
      updated,
      typed: {
        done: first.done,
        doneType: typeof first.done,
        createdAtIsDate: first.createdAt instanceof Date,
        createdAt: first.createdAt,
      },
      removed,
      single,
    });
  },

  /** Drizzle batches are atomic (a failing statement leaves nothing); transaction() commits, nests and rolls back. */
  async drizzleAtomicity(name: string, prefix: string) {
    const o = orm(name);
    const count = async () => (await o.select().from(todos)).length;
    const before = await count();
    let failed: Failure | null = null;
    try {
      await o.batch([
        o.insert(lists).values({ id: `${prefix}-bl`, name: 'batch' }),
        o.insert(todos).values({ id: `${prefix}-b1`, listId: `${prefix}-bl`, title: 'one', createdAt: new Date() }),
        o.insert(todos).values({ id: `${prefix}-b1`, listId: `${prefix}-bl`, title: 'duplicate key', createdAt: new Date() }),
      ]);
    } catch (e) {
      failed = failure(e);
    }
    const afterFailed = await count();
    const listsAfterFailed = (
      await o
        .select()
        .from(lists)
        .where(eq(lists.id, `${prefix}-bl`))
    ).length;
    const ok = await o.batch([
      o.insert(lists).values({ id: `${prefix}-bl`, name: 'batch' }),
      o.insert(todos).values({ id: `${prefix}-b1`, listId: `${prefix}-bl`, title: 'one', createdAt: new Date() }),
      o
        .select({ title: todos.title })
        .from(todos)
        .where(eq(todos.listId, `${prefix}-bl`)),
    ]);
    const afterOk = await count();
    // Interactive transaction: reads see its writes, a nested transaction rolls back to its savepoint.
    const committed = await o.transaction(async (tx) => {
      await tx.insert(lists).values({ id: `${prefix}-tx`, name: 'tx' });
      await tx.insert(todos).values({ id: `${prefix}-tx1`, listId: `${prefix}-tx`, title: 'kept', createdAt: new Date(0) });
      await tx
        .transaction(async (inner) => {
          await inner.insert(todos).values({ id: `${prefix}-tx2`, listId: `${prefix}-tx`, title: 'undone', createdAt: new Date(0) });
          inner.rollback();
        })
        .catch(() => {});
      return tx
        .select({ id: todos.id, done: todos.done, createdAt: todos.createdAt })
        .from(todos)
        .where(eq(todos.listId, `${prefix}-tx`));
    });
    let rolledBack: string | null = null;
    try {
      await o.transaction(async (tx) => {
        await tx.insert(lists).values({ id: `${prefix}-rb`, name: 'rolled back' });
        throw new Error('undo');
      });
    } catch (e) {
      rolledBack = (e as Error).message;
    }
    const txLists = (
      await o
        .select()
        .from(lists)
        .where(eq(lists.id, `${prefix}-tx`))
    ).length;
    const rolledBackLists = (
      await o
        .select()
        .from(lists)
        .where(eq(lists.id, `${prefix}-rb`))
    ).length;
    return plain({
      before,
      failed,
      afterFailed,
      listsAfterFailed,
      okSelect: ok[2],
      afterOk,
      committed,
      rolledBack,
      txLists,
      rolledBackLists,
    });
  },

  /** Kysely: insert, join with aliases, update, delete, RETURNING, introspection. */
  async kyselyRoundTrip(name: string, prefix: string) {
    const k = kysely(name);
    const inserted = await k
      .insertInto('lists')
      .values({ id: `${prefix}-l`, name: 'Work' })
      .executeTakeFirst();
    await k
      .insertInto('todos')
      .values([
        { id: `${prefix}-t1`, list_id: `${prefix}-l`, title: 'mail', done: 0, created_at: 1 },
        { id: `${prefix}-t2`, list_id: `${prefix}-l`, title: 'call', done: 0, created_at: 2 },
      ])
      .execute();
    const joined = await k
      .selectFrom('todos')
      .innerJoin('lists', 'lists.id', 'todos.list_id')
      .select(['todos.id as todoId', 'lists.id as listId', 'lists.name as list', 'todos.title'])
      .where('lists.id', '=', `${prefix}-l`)
      .orderBy('todos.id')
      .execute();
    const updated = await k.updateTable('todos').set({ done: 1 }).where('id', '=', `${prefix}-t1`).executeTakeFirst();
    const returning = await k.deleteFrom('todos').where('id', '=', `${prefix}-t2`).returning(['id', 'title']).execute();
    const tables = (await k.introspection.getTables()).map((t) => t.name).sort();
    return plain({
      insertedRows: String(inserted.numInsertedOrUpdatedRows),
      joined,
      updatedRows: String(updated.numUpdatedRows),
      returning,
      tables,
    });
  },

  /** executeAtomically commits all or none; transaction() commits, and rolls back on a throw. */
  async kyselyAtomicity(name: string, prefix: string) {
    const k = kysely(name);
    const db = window.harness.db(name);
    const count = async () =>
      Number(
        (
          await k
            .selectFrom('todos')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    let failed: Failure | null = null;
    try {
      await executeAtomically(db, [
        k.insertInto('lists').values({ id: `${prefix}-al`, name: 'atomic' }),
        k.insertInto('todos').values({ id: `${prefix}-a1`, list_id: `${prefix}-al`, title: 'one', done: 0, created_at: 1 }),
        k.insertInto('todos').values({ id: `${prefix}-a1`, list_id: `${prefix}-al`, title: 'dup', done: 0, created_at: 1 }),
      ]);
    } catch (e) {
      failed = failure(e);
    }
    const afterFailed = await count();
    const ok = await executeAtomically(db, [
      k.insertInto('lists').values({ id: `${prefix}-al`, name: 'atomic' }),
      k.insertInto('todos').values({ id: `${prefix}-a1`, list_id: `${prefix}-al`, title: 'one', done: 0, created_at: 1 }),
      k.selectFrom('todos').select('title').where('list_id', '=', `${prefix}-al`),
    ]);
    const afterOk = await count();
    // Interactive transaction: reads see its writes; a throw rolls everything back.
    const committed = await k.transaction().execute(async (trx) => {
      await trx
        .insertInto('lists')
        .values({ id: `${prefix}-tx`, name: 'tx' })
        .execute();
      await trx
        .insertInto('todos')
        .values({ id: `${prefix}-tx1`, list_id: `${prefix}-tx`, title: 'in tx', done: 1, created_at: 3 })
        .execute();
      return trx.selectFrom('todos').select(['id', 'done']).where('list_id', '=', `${prefix}-tx`).execute();
    });
    let rolledBack: string | null = null;
    try {
      await k.transaction().execute(async (trx) => {
        await trx
          .insertInto('lists')
          .values({ id: `${prefix}-rb`, name: 'rolled back' })
          .execute();
        throw new Error('undo');
      });
    } catch (e) {
      rolledBack = (e as Error).message;
    }
    const txLists = (await k.selectFrom('lists').selectAll().where('id', '=', `${prefix}-tx`).execute()).length;
    const rolledBackLists = (await k.selectFrom('lists').selectAll().where('id', '=', `${prefix}-rb`).execute()).length;
    return plain({
      before,
      failed,
      afterFailed,
      okSelect: ok[2]!.rows,
      okInsertRows: String(ok[1]!.numAffectedRows),
      afterOk,
      committed,
      rolledBack,
      txLists,
      rolledBackLists,
    });
  },

  /** Starts framework-free live queries from a Drizzle and a Kysely query object. */
  startLive(name: string) {
    const db: Database = window.harness.db(name);
    const o = orm(name);
    const drizzleEntry = { results: [] as unknown[][], query: null as unknown as LiveQuery };
    drizzleEntry.query = liveDrizzle(
      db,
      o.select({ id: todos.id, done: todos.done, createdAt: todos.createdAt }).from(todos).orderBy(asc(todos.id)),
      (rows) => {
        // Typed from the Drizzle schema: `done` is a boolean, `createdAt` a Date.
        drizzleEntry.results.push(rows.map((r) => ({ id: r.id, done: r.done, createdAt: r.createdAt.toISOString() })));
        // @ts-expect-error rows are typed, not `any`: `done` is not a string
        const wrong: string | undefined = rows[0]?.done;
        void wrong;
      },
    );
    lives.set('drizzle', drizzleEntry);
    const kyselyEntry = { results: [] as unknown[][], query: null as unknown as LiveQuery };
    kyselyEntry.query = liveKysely(db, kysely(name).selectFrom('todos').select(['id', 'title']).orderBy('id'), (rows) => {
      kyselyEntry.results.push(rows.map((r) => ({ id: r.id, title: r.title })));
      // @ts-expect-error only the selected columns are there
      void rows[0]?.done;
    });
    lives.set('kysely', kyselyEntry);
  },
  liveResults(key: 'drizzle' | 'kysely'): unknown[][] {
    return lives.get(key)?.results ?? [];
  },

  /** Registers `useQuery(queryObject)` builders on the React and Vue harnesses. */
  registerReactQueries() {
    window.vueHarness.setQueryBuilder('drizzle-todos', (db) =>
      drizzle(db)
        .select({ id: todos.id, list: lists.name, done: todos.done })
        .from(todos)
        .innerJoin(lists, eq(todos.listId, lists.id))
        .orderBy(asc(todos.id)),
    );
    window.vueHarness.setQueryBuilder('kysely-todos', (db) =>
      new Kysely<KyselyTables>({ dialect: new OversqliteDialect(db) }).selectFrom('todos').select(['id', 'done']).orderBy('id'),
    );
    window.reactHarness.setQueryBuilder('drizzle-todos', (db) =>
      drizzle(db)
        .select({ id: todos.id, list: lists.name, done: todos.done })
        .from(todos)
        .innerJoin(lists, eq(todos.listId, lists.id))
        .orderBy(asc(todos.id)),
    );
    window.reactHarness.setQueryBuilder('kysely-todos', (db) =>
      new Kysely<KyselyTables>({ dialect: new OversqliteDialect(db) }).selectFrom('todos').select(['id', 'done']).orderBy('id'),
    );
  },
};

export type QueryBuilderHarness = typeof qb;
(globalThis as unknown as { qb: QueryBuilderHarness }).qb = qb;
