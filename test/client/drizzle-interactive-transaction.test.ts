/**
 * oversqlite/drizzle: `orm.transaction(async (tx) => ...)` runs in an oversqlite interactive
 * transaction: typed rows read back inside (boolean and timestamp modes), commit on return,
 * rollback on a throw and on `tx.rollback()`, and `tx.transaction(...)` nests as a savepoint whose
 * rollback keeps the outer writes. Real SQLite under the real facade.
 */
import { describe, expect, it } from 'vitest';
import { TransactionRollbackError, eq, sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { drizzle } from '../../src/drizzle/index.ts';
import { openDatabaseOverService } from './database-over-service.ts';

const lists = sqliteTable('lists', { id: text('id').primaryKey(), name: text('name').notNull() });
const todos = sqliteTable('todos', {
  id: text('id').primaryKey(),
  listId: text('list_id')
    .notNull()
    .references(() => lists.id),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});
const schema = {
  version: 1,
  migrations: [
    `CREATE TABLE lists (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE todos (id TEXT PRIMARY KEY NOT NULL, list_id TEXT NOT NULL REFERENCES lists(id), title TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);`,
  ],
};
const at = new Date('2026-01-02T03:04:05.000Z');

describe('Drizzle transaction()', () => {
  it('commits typed writes it read back, and rolls back on a throw and on tx.rollback()', async () => {
    const { db } = await openDatabaseOverService('drizzle-tx', schema);
    const orm = drizzle(db, { schema: { lists, todos } });

    const inside = await orm.transaction(async (tx) => {
      await tx.insert(lists).values({ id: 'l1', name: 'Groceries' });
      await tx.insert(todos).values({ id: 't1', listId: 'l1', title: 'milk', createdAt: at });
      await tx.update(todos).set({ done: true }).where(eq(todos.id, 't1'));
      const row = await tx.select().from(todos).where(eq(todos.id, 't1')).get();
      const related = await tx.query.lists.findMany();
      return { row, related };
    });
    expect(inside.row).toEqual({ id: 't1', listId: 'l1', title: 'milk', done: true, createdAt: at });
    expect(inside.row!.createdAt).toBeInstanceOf(Date);
    expect(inside.related).toEqual([{ id: 'l1', name: 'Groceries' }]);
    expect(await orm.select({ id: todos.id, done: todos.done }).from(todos)).toEqual([{ id: 't1', done: true }]);

    await expect(
      orm.transaction(async (tx) => {
        await tx.insert(todos).values({ id: 't2', listId: 'l1', title: 'eggs', createdAt: at });
        throw new Error('no eggs');
      }),
    ).rejects.toThrow('no eggs');
    await expect(
      orm.transaction(async (tx) => {
        await tx.delete(todos);
        tx.rollback();
      }),
    ).rejects.toBeInstanceOf(TransactionRollbackError);
    expect(await orm.select({ id: todos.id }).from(todos)).toEqual([{ id: 't1' }]);
    await db.close();
  });

  it('nests tx.transaction() as a savepoint: an inner rollback keeps the outer writes', async () => {
    const { db } = await openDatabaseOverService('drizzle-nested', schema);
    const orm = drizzle(db);
    await orm.transaction(async (tx) => {
      await tx.insert(lists).values({ id: 'outer', name: 'kept' });
      await expect(
        tx.transaction(async (inner) => {
          await inner.insert(lists).values({ id: 'inner', name: 'undone' });
          expect(await inner.select({ id: lists.id }).from(lists)).toHaveLength(2);
          inner.rollback();
        }),
      ).rejects.toBeInstanceOf(TransactionRollbackError);
      await tx.transaction(async (inner) => {
        await inner.insert(lists).values({ id: 'inner kept', name: 'released' });
      });
      expect(await tx.select({ id: lists.id }).from(lists).orderBy(lists.id)).toEqual([{ id: 'inner kept' }, { id: 'outer' }]);
    });
    expect(await orm.select({ id: lists.id }).from(lists).orderBy(lists.id)).toEqual([{ id: 'inner kept' }, { id: 'outer' }]);
    // Outside a transaction, transaction statements are still refused with a pointer to the right call.
    await expect(orm.run(sql`BEGIN`)).rejects.toMatchObject({ cause: { code: 'invalid_argument' } });
    await db.close();
  });
});
