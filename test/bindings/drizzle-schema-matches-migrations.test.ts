// checkDrizzleSchema compares Drizzle table declarations with what the oversqlite migrations built,
// on real SQLite (sqlite-wasm's Node build, the worker's own database class): the e2e page's
// schema agrees; every kind of drift (missing table and column, extra column, type, NOT NULL,
// primary key, including SQLite's nullable TEXT primary key) is reported.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { checkDrizzleSchema } from '../../src/drizzle/index.ts';
import type { SchemaReader } from '../../src/drizzle/index.ts';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { lists, queryBuilderSchema, todos } from '../../e2e/app/query-builders/schema.ts';

let db: LocalDatabase;
let drifted: LocalDatabase;

/** The same `query` the main-thread Database offers, over the worker's database class. */
function reader(local: LocalDatabase): SchemaReader {
  return {
    async query<T>(sql: string, params?: Parameters<SchemaReader['query']>[1]): Promise<T[]> {
      const outcome = local.query(sql, params);
      if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
      return outcome.value.rows as T[];
    },
  };
}

beforeAll(async () => {
  db = await LocalDatabase.open({ name: 'drizzle-schema', storage: 'memory', schema: queryBuilderSchema });
  drifted = await LocalDatabase.open({
    name: 'drizzle-drift',
    storage: 'memory',
    schema: {
      version: 1,
      migrations: [
        'CREATE TABLE notes (id TEXT PRIMARY KEY, body INTEGER, extra TEXT, score REAL NOT NULL); CREATE TABLE pairs (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b))',
      ],
    },
  });
});

afterAll(() => {
  db?.close();
  drifted?.close();
});

it('reports no difference when the Drizzle tables match the migrations', async () => {
  expect(await checkDrizzleSchema(reader(db), [lists, todos])).toEqual([]);
});

it('reports each kind of drift', async () => {
  const notes = sqliteTable('notes', {
    id: text('id').primaryKey(),
    body: text('body'),
    score: real('score'),
    title: text('title').notNull(),
  });
  const pairs = sqliteTable('pairs', { a: text('a').notNull(), b: text('b').notNull() }, (t) => [primaryKey({ columns: [t.a, t.b] })]);
  const missing = sqliteTable('missing', { id: integer('id').primaryKey() });
  expect(await checkDrizzleSchema(reader(drifted), [notes, pairs, missing])).toEqual([
    // SQLite lets a TEXT primary key hold NULL unless the migration says NOT NULL.
    { table: 'notes', column: 'id', problem: 'NOT NULL in Drizzle, nullable in the database' },
    { table: 'notes', column: 'body', problem: 'type text in Drizzle, INTEGER in the database' },
    { table: 'notes', column: 'score', problem: 'nullable in Drizzle, NOT NULL in the database' },
    { table: 'notes', column: 'title', problem: 'declared in Drizzle, missing in the database' },
    { table: 'notes', column: 'extra', problem: 'in the database, not declared in Drizzle' },
    { table: 'missing', problem: 'the database has no such table (no migration creates it)' },
  ]);
});
