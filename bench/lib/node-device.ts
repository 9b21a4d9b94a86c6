/**
 * A device in the Node process: the real SyncEngine over sqlite-wasm's in-memory VFS (the only
 * VFS Node has), talking to the sync server over real HTTP. Used where the browser adds nothing
 * to what is measured (the push path, the server under load).
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../worker/engine/index.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from '../app/schema.ts';

let sqlite: Promise<Sqlite3Static> | undefined;

/** The one sqlite-wasm module instance Node devices of this process share. */
export function nodeSqlite(): Promise<Sqlite3Static> {
  sqlite ??= sqlite3InitModule();
  return sqlite;
}

/** A Node-side device. */
export interface NodeDevice {
  readonly db: Database;
  readonly engine: SyncEngine;
  /** Inserts rows `from`..`from+count-1` with key prefix `prefix` in one local transaction (captured). */
  insert(prefix: string, from: number, count: number): void;
  close(): Promise<void>;
}

/** Opens a device for `token` against `serverUrl`. */
export async function openNodeDevice(serverUrl: string, token: string): Promise<NodeDevice> {
  const sqlite3 = await nodeSqlite();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  for (const migration of itemsSchema.migrations) db.exec(migration);
  const engine = await SyncEngine.open({
    sqlite3,
    db,
    remoteSchema,
    tables: itemsSyncTables.map((t) => ({ ...t })),
    serverUrl,
    getToken: async () => token,
  });
  return {
    db,
    engine,
    insert(prefix, from, count) {
      db.transaction(() => {
        const stmt = db.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
        try {
          for (let i = from; i < from + count; i++) stmt.bind([itemKey(prefix, i), i, itemBody(i)]).stepReset();
        } finally {
          stmt.finalize();
        }
      });
    },
    async close() {
      await engine.close();
      db.close();
    },
  };
}
