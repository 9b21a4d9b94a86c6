/**
 * A LocalDatabase (memory) with a sync engine over its connection that never syncs, and group
 * commits flushed when the test says (units queued together form one group).
 */
import { LocalDatabase } from '../../../worker/database/local-database.ts';
import type { AppSchema, SqlStatement } from '../../../worker/database/types.ts';
import type { WriteOutcome } from '../../../worker/database/group-commit.ts';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { SyncedTable } from '../../../worker/engine/index.ts';

export interface SyncedDatabase {
  readonly db: LocalDatabase;
  readonly engine: SyncEngine;
  /** Queues units (one group) and commits them; resolves with each unit's outcome. */
  writeGroup(units: readonly (readonly SqlStatement[])[]): Promise<WriteOutcome[]>;
  close(): Promise<void>;
}

export async function openSyncedDatabase(migrations: string[], tables: SyncedTable[]): Promise<SyncedDatabase> {
  const flushes: Array<() => void> = [];
  const schema: AppSchema = { version: migrations.length, migrations };
  const db = await LocalDatabase.open({
    name: 'synced',
    schema,
    storage: 'memory',
    scheduleFlush: (flush) => flushes.push(flush),
  });
  const engine = await SyncEngine.open({
    sqlite3: db.sqlite3,
    db: db.connection,
    remoteSchema: 'main',
    tables,
    serverUrl: 'http://127.0.0.1:9',
    getToken: async () => null,
    autoSync: false,
  });
  return {
    db,
    engine,
    async writeGroup(units) {
      const outcomes = units.map((statements) => db.write({ statements: [...statements] }));
      for (const flush of flushes.splice(0)) flush();
      return Promise.all(outcomes);
    },
    async close() {
      await engine.close();
      db.close();
    },
  };
}

/** Every pending change, in capture order. */
export const DIRTY_ROWS =
  'SELECT table_name, key_json, op, base_row_version, payload, dirty_ordinal FROM _sync_dirty_rows ORDER BY dirty_ordinal';
