/** Real sqlite-wasm (in-memory VFS) for engine tests. */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';

let initialized: Promise<Sqlite3Static> | null = null;

/** The sqlite3 module (initialized once per test file). */
export function sqlite3(): Promise<Sqlite3Static> {
  initialized ??= sqlite3InitModule();
  return initialized;
}

/** A fresh in-memory database with foreign keys on and `schemaSql` applied. */
export async function memoryDb(schemaSql: string): Promise<{ sqlite3: Sqlite3Static; db: Database }> {
  const s = await sqlite3();
  const db = new s.oo1.DB(':memory:');
  db.exec('PRAGMA foreign_keys = ON');
  if (schemaSql.trim()) db.exec(schemaSql);
  return { sqlite3: s, db };
}

/** All rows of a query as plain objects. */
export function rows(db: Database, sql: string, bind: unknown[] = []): Record<string, unknown>[] {
  return db
    .exec({ sql, bind: (bind.length ? bind : undefined) as never, rowMode: 'object', returnValue: 'resultRows' })
    .map((r) => ({ ...(r as object) }));
}

/** One scalar. */
export function scalar(db: Database, sql: string, bind: unknown[] = []): unknown {
  return bind.length ? db.selectValue(sql, bind as never) : db.selectValue(sql);
}
