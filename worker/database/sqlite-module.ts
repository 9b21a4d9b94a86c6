/**
 * Loads the sqlite-wasm module once per realm (worker or Node process). The same import resolves
 * to the browser build in a worker and to the Node build under Vitest, so the SQL layer runs the
 * same engine everywhere.
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';

let loading: Promise<Sqlite3Static> | undefined;

/** Returns the initialized sqlite-wasm module, initializing it on first use. */
export function loadSqlite(): Promise<Sqlite3Static> {
  loading ??= sqlite3InitModule();
  return loading;
}
