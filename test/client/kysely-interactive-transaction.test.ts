/**
 * oversqlite/kysely: `k.transaction().execute(async (trx) => ...)` runs in an oversqlite
 * interactive transaction (typed rows read back inside, commit on return, rollback on a throw),
 * and `k.startTransaction()` savepoints nest inside one. Queries on `k` stay outside the
 * transaction (and wait for it; the lease ends a transaction stuck that way, and its commit fails
 * with `transaction_expired`, not with a rollback error). Real SQLite under the real facade.
 */
import { describe, expect, it } from 'vitest';
import { Kysely } from 'kysely';
import { OversqliteDialect } from '../../src/kysely/index.ts';
import { openDatabaseOverService } from './database-over-service.ts';

interface Tables {
  lists: { id: string; name: string };
  todos: { id: string; list_id: string; title: string; done: number };
}
const schema = {
  version: 1,
  migrations: [
    `CREATE TABLE lists (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE todos (id TEXT PRIMARY KEY NOT NULL, list_id TEXT NOT NULL REFERENCES lists(id), title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);`,
  ],
};

describe('Kysely transaction()', () => {
  it('commits typed writes it read back, and rolls back on a throw', async () => {
    const { db } = await openDatabaseOverService('kysely-tx', schema);
    const k = new Kysely<Tables>({ dialect: new OversqliteDialect(db) });

    const inside = await k.transaction().execute(async (trx) => {
      await trx.insertInto('lists').values({ id: 'l1', name: 'Groceries' }).execute();
      const inserted = await trx
        .insertInto('todos')
        .values({ id: 't1', list_id: 'l1', title: 'milk', done: 0 })
        .returning(['id', 'done'])
        .executeTakeFirstOrThrow();
      const updated = await trx.updateTable('todos').set({ done: 1 }).where('id', '=', 't1').executeTakeFirst();
      const joined = await trx
        .selectFrom('todos')
        .innerJoin('lists', 'lists.id', 'todos.list_id')
        .select(['todos.title', 'todos.done', 'lists.name'])
        .execute();
      return { inserted, changed: updated.numUpdatedRows, joined };
    });
    expect(inside).toEqual({ inserted: { id: 't1', done: 0 }, changed: 1n, joined: [{ title: 'milk', done: 1, name: 'Groceries' }] });
    const title: string = inside.joined[0]!.title; // typed rows
    expect(title).toBe('milk');

    await expect(
      k.transaction().execute(async (trx) => {
        await trx.deleteFrom('todos').execute();
        expect(await trx.selectFrom('todos').selectAll().execute()).toEqual([]);
        throw new Error('keep them');
      }),
    ).rejects.toThrow('keep them');
    expect(await k.selectFrom('todos').select(['id', 'done']).execute()).toEqual([{ id: 't1', done: 1 }]);
    await k.destroy();
    await db.close();
  });

  it('a query on k inside the callback waits for the transaction: the lease ends it, and the commit fails typed', async () => {
    const { db } = await openDatabaseOverService('kysely-lease', schema, { transactionLeaseMs: 150 });
    const k = new Kysely<Tables>({ dialect: new OversqliteDialect(db) });
    await expect(
      k.transaction().execute(async (trx) => {
        await trx.insertInto('lists').values({ id: 'in trx', name: 'lost' }).execute();
        // The mistake the docs warn about: `k`, not `trx`. It waits until the lease rolls trx back.
        await k.insertInto('lists').values({ id: 'outside', name: 'landed' }).execute();
      }),
    ).rejects.toMatchObject({ code: 'transaction_expired', message: expect.stringMatching(/lease ran out/) });
    expect(await k.selectFrom('lists').select('id').execute()).toEqual([{ id: 'outside' }]);
    await k.destroy();
    await db.close();
  });

  it('nests savepoints in a controlled transaction: rolling back to one keeps what came before', async () => {
    const { db } = await openDatabaseOverService('kysely-savepoints', schema);
    const k = new Kysely<Tables>({ dialect: new OversqliteDialect(db) });
    const trx = await k.startTransaction().execute();
    await trx.insertInto('lists').values({ id: 'before', name: 'kept' }).execute();
    const sp = await trx.savepoint('sp "one"').execute();
    await sp.insertInto('lists').values({ id: 'after', name: 'undone' }).execute();
    expect(await sp.selectFrom('lists').select('id').orderBy('id').execute()).toEqual([{ id: 'after' }, { id: 'before' }]);
    const back = await sp.rollbackToSavepoint('sp "one"').execute();
    await back.releaseSavepoint('sp "one"').execute();
    await trx.commit().execute();
    expect(await k.selectFrom('lists').select('id').execute()).toEqual([{ id: 'before' }]);
    await k.destroy();
    await db.close();
  });
});
