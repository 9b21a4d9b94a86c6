/**
 * A Node device for the side-by-side group: the same real SyncEngine as `node-device.ts`, over
 * go-oversync's example schema (the 8 tables its example server serves; `interop/node/support/
 * example-schema.ts`), so one client drives both go-oversync's server and ours. Bench rows go to
 * `typed_rows` (TEXT UUID key, name, ~150-character note, BIGINT count, flag, REAL rating):
 * about 200 bytes a row, like the other groups' `items`.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../worker/engine/index.ts';
import type { SyncEngineOptions } from '../../worker/engine/index.ts';
import { LOCAL_SCHEMA, LOCAL_TABLES } from '../../interop/node/support/example-schema.ts';
import { nodeSqlite } from './node-device.ts';

/** go-oversync's example server keeps its tables in this PostgreSQL schema. */
export const EXAMPLE_REMOTE_SCHEMA = 'business';

/** A device over the example schema. */
export interface ExampleDevice {
  readonly db: Database;
  readonly engine: SyncEngine;
  /**
   * Inserts `typed_rows` `from`..`from+count-1` in one local transaction (captured); `device`
   * (0..2^32-1) goes into the key so devices sharing a user never collide.
   */
  insert(device: number, from: number, count: number): void;
  /** Rows in local `typed_rows`. */
  count(): number;
  close(): Promise<void>;
}

/** A canonical UUID text from a device number and a row number. */
export function benchUuid(device: number, i: number): string {
  return `${device.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** The note text: about 150 characters. */
function note(i: number): string {
  return `row ${i} `.padEnd(150, 'abcdefghijklmnopqrstuvwxyz0123456789');
}

/**
 * Opens a device against `serverUrl`; `getToken` is asked before each request, as in an app;
 * `options` override engine options (e.g. `pushChunkRows`).
 */
export async function openExampleDevice(
  serverUrl: string,
  getToken: () => Promise<string>,
  options: Partial<Pick<SyncEngineOptions, 'pushChunkRows' | 'pullMaxBundles' | 'snapshotChunkRows' | 'fetch'>> = {},
): Promise<ExampleDevice> {
  const sqlite3 = await nodeSqlite();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec(LOCAL_SCHEMA);
  const engine = await SyncEngine.open({
    sqlite3,
    db,
    remoteSchema: EXAMPLE_REMOTE_SCHEMA,
    tables: LOCAL_TABLES.map((t) => ({ ...t })),
    serverUrl,
    getToken,
    ...options,
  });
  return {
    db,
    engine,
    insert(device, from, count) {
      db.transaction(() => {
        const stmt = db.prepare('INSERT INTO typed_rows (id, name, note, count_value, enabled_flag, rating) VALUES (?, ?, ?, ?, 1, ?)');
        try {
          for (let i = from; i < from + count; i++) stmt.bind([benchUuid(device, i), `row ${i}`, note(i), i, i + 0.5]).stepReset();
        } finally {
          stmt.finalize();
        }
      });
    },
    count() {
      return Number(db.selectValue('SELECT count(*) FROM typed_rows'));
    },
    async close() {
      await engine.close();
      db.close();
    },
  };
}
