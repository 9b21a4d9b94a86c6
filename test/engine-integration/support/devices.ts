/**
 * Real-server integration support: devices are engines over real sqlite-wasm databases talking
 * to the harness server (real HTTP, real PostgreSQL). The local schema mirrors the harness'
 * sample schema (`test/harness/sample-schema.ts`) minus `_sync_scope_id`.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { SyncEngineOptions, SyncedTable } from '../../../worker/engine/index.ts';
import { startSyncServer } from '../../harness/sync-server.ts';
import type { StartSyncServerOptions, StartedSyncServer } from '../../harness/sync-server.ts';
import { memoryDb } from '../../engine/support/sqlite.ts';

export const LOCAL_SCHEMA = `
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  email TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE projects (
  id TEXT PRIMARY KEY NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  title TEXT NOT NULL,
  budget TEXT,
  archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tasks (
  id TEXT PRIMARY KEY NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  title TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  priority INTEGER,
  estimate_hours REAL,
  attachment BLOB,
  due_at TEXT
);
CREATE TABLE tags (
  name TEXT PRIMARY KEY NOT NULL,
  color TEXT,
  weight INTEGER,
  meta TEXT
);`;

export const LOCAL_TABLES: SyncedTable[] = [
  { table: 'users', syncKey: 'id', columns: { created_at: 'timestamp' } },
  { table: 'projects', syncKey: 'id', columns: { budget: 'decimal', archived: 'boolean' } },
  { table: 'tasks', syncKey: 'id', columns: { done: 'boolean', due_at: 'timestamp' } },
  { table: 'tags', syncKey: 'name', columns: { meta: 'json' } },
];

export interface Device {
  engine: SyncEngine;
  db: Database;
  options: SyncEngineOptions;
  reopen(overrides?: Partial<SyncEngineOptions>): Promise<SyncEngine>;
}

/** A server plus a factory for devices of any user. */
export interface World {
  server: StartedSyncServer;
  device(userId: string, overrides?: Partial<SyncEngineOptions>): Promise<Device>;
  /**
   * Closes every device opened so far (engines, then their databases). Randomized runs call it
   * after each seed: thousands of seeds of open in-memory databases exhaust the wasm heap.
   */
  closeDevices(): Promise<void>;
  close(): Promise<void>;
}

/** A schema of its own on both sides: the server's (`schemaSql`, `tables`) and the device's. */
export interface WorldOptions extends StartSyncServerOptions {
  localSchema?: string;
  localTables?: SyncedTable[];
  remoteSchema?: string;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const { localSchema = LOCAL_SCHEMA, localTables = LOCAL_TABLES, remoteSchema = 'business', ...serverOpts } = opts;
  const server = await startSyncServer({ purpose: 'engine', ...serverOpts });
  const engines: SyncEngine[] = [];
  const databases: Database[] = [];
  const closeDevices = async (): Promise<void> => {
    await Promise.all(engines.splice(0).map((e) => e.close().catch(() => {})));
    for (const db of databases.splice(0)) db.close();
  };
  return {
    server,
    closeDevices,
    async device(userId, overrides = {}) {
      const { sqlite3, db } = await memoryDb(localSchema);
      databases.push(db);
      const options: SyncEngineOptions = {
        sqlite3,
        db,
        remoteSchema,
        tables: localTables,
        serverUrl: server.baseUrl,
        getToken: async () => server.tokenFor(userId),
        ...overrides,
      };
      const engine = await SyncEngine.open(options);
      engines.push(engine);
      return {
        engine,
        db,
        options,
        reopen: async (o = {}) => {
          const e = await SyncEngine.open({ ...options, ...o });
          engines.push(e);
          return e;
        },
      };
    },
    async close() {
      await closeDevices();
      await server.close();
    },
  };
}

/** Rows of a PostgreSQL table for one user, as text, ordered by key (scope column dropped). */
export async function pgRows(
  world: World,
  table: string,
  userId: string,
  key = 'id',
  schema = 'business',
): Promise<Record<string, unknown>[]> {
  const res = await world.server.database.query(`SELECT * FROM ${schema}.${table} WHERE _sync_scope_id = $1 ORDER BY ${key}::text`, [
    userId,
  ]);
  return (res.rows as Record<string, unknown>[]).map(({ _sync_scope_id, ...rest }) => rest);
}

/** Lets the seed leases of `userIds` lapse now (the server checks expiry against its own clock). */
export async function expireSeedLeases(world: World, ...userIds: string[]): Promise<void> {
  await world.server.database.query(
    `UPDATE sync.scope_state SET lease_expires_at = now() - interval '1 minute'
      WHERE state_code = 1 AND user_pk IN (SELECT user_pk FROM sync.user_state WHERE user_id = ANY($1))`,
    [userIds],
  );
}

/** Local rows ordered by key. */
export function localRows(db: Database, table: string, key = 'id'): Record<string, unknown>[] {
  return db
    .exec({ sql: `SELECT * FROM ${table} ORDER BY ${key}`, rowMode: 'object', returnValue: 'resultRows' })
    .map((r) => ({ ...(r as object) }));
}

/** Only `columns` of each row: compares rows whose other columns PostgreSQL and SQLite render differently (timestamps). */
export function pickColumns(rows: Record<string, unknown>[], columns: string[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
}

/** FK integrity of a local database (no violations). */
export function foreignKeyViolations(db: Database): number {
  return db.exec({ sql: 'PRAGMA foreign_key_check', rowMode: 'array', returnValue: 'resultRows' }).length;
}

export const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
