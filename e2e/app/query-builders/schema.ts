/**
 * The query-builder specs' schema, once per tool: the Drizzle tables, the Kysely table types and
 * the oversqlite migration that creates them (checked against the Drizzle tables by
 * `checkDrizzleSchema` in the specs).
 */
import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core';
import type { AppSchema } from '../../../src/index.ts';

export const lists = sqliteTable('lists', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
});

export const todos = sqliteTable('todos', {
  id: text('id').primaryKey(),
  listId: text('list_id')
    .notNull()
    .references(() => lists.id),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Kysely's view of the same tables (SQL column names, SQLite storage types). */
export interface KyselyTables {
  lists: { id: string; name: string };
  todos: { id: string; list_id: string; title: string; done: number; created_at: number };
}

export const queryBuilderSchema: AppSchema = {
  version: 1,
  migrations: [
    `CREATE TABLE lists (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE todos (id TEXT PRIMARY KEY NOT NULL, list_id TEXT NOT NULL REFERENCES lists(id), title TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);`,
  ],
};
