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

/**
 * Every pending change, in capture order, with its place in that order (`capture_rank`, 1..n)
 * rather than its ordinal: ordinals only order, and one taken but not kept is a gap (a statement
 * rolled back; a key a unit collected twice, which direct capture skips the second time).
 */
export const DIRTY_ROWS =
  'SELECT table_name, key_json, op, base_row_version, payload, row_number() OVER (ORDER BY dirty_ordinal) AS capture_rank ' +
  'FROM _sync_dirty_rows ORDER BY dirty_ordinal';
