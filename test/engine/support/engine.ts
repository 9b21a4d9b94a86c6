/** Opening an engine over real sqlite-wasm with a scripted server, for unit tests. */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { EngineClock, SyncEngineOptions, SyncedTable } from '../../../worker/engine/index.ts';
import { memoryDb } from './sqlite.ts';
import { ScriptedServer } from './scripted-server.ts';

/** A clock whose sleeps resolve at once (recorded), with real-time `now`. */
export function instantClock(): EngineClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    random: () => 0.5,
  };
}

export interface EngineSetup {
  engine: SyncEngine;
  db: Database;
  sqlite3: Sqlite3Static;
  server: ScriptedServer;
  options: SyncEngineOptions;
  /** Re-opens a new engine over the same database (simulates a restart after a crash). */
  reopen(overrides?: Partial<SyncEngineOptions>): Promise<SyncEngine>;
}

export async function openEngine(
  schemaSql: string,
  tables: SyncedTable[],
  overrides: Partial<SyncEngineOptions> = {},
): Promise<EngineSetup> {
  const { sqlite3, db } = await memoryDb(schemaSql);
  const server = new ScriptedServer();
  const options: SyncEngineOptions = {
    sqlite3,
    db,
    remoteSchema: 'main',
    tables,
    serverUrl: server.baseUrl,
    getToken: async () => 'token-1',
    fetch: server.fetch,
    clock: instantClock(),
    ...overrides,
  };
  const engine = await SyncEngine.open(options);
  return {
    engine,
    db,
    sqlite3,
    server,
    options,
    reopen: (o = {}) => SyncEngine.open({ ...options, ...o }),
  };
}

/** A v1 capabilities body for the given tables. */
export function capabilitiesBody(
  schema: string,
  tables: readonly SyncedTable[],
  features: Record<string, boolean> = {},
): Record<string, unknown> {
  return {
    protocol_version: 'v1',
    schema_version: 1,
    registered_table_specs: tables.map((t) => ({ schema, table: t.table, sync_key_columns: [t.syncKey] })),
    features: { connect_lifecycle: true, ...features },
    bundle_limits: { max_rows_per_push_chunk: 5000, max_bundles_per_pull: 5000 },
  };
}

/** Scripts capabilities + `initialize_empty` and attaches `userId`. */
export async function attachStartedEmpty(s: EngineSetup, userId = 'user-a', features: Record<string, boolean> = {}): Promise<void> {
  s.server.on('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody(s.options.remoteSchema, s.options.tables, features) });
  s.server.on('POST', '/sync/connect', { status: 200, body: { resolution: 'initialize_empty' } });
  const res = await s.engine.attach(userId);
  if (res.status !== 'connected') throw new Error('attach failed');
}

/** Sets the engine's current source id (fixtures name their source). */
export function setSourceId(s: EngineSetup, sourceId: string): void {
  s.db.exec({ sql: 'UPDATE _sync_attachment_state SET current_source_id = ? WHERE singleton_key = 1', bind: [sourceId] });
}
