/**
 * The one-table sync server the worker-runtime tests share: `e2e.items (id, body)` on a real
 * PostgreSQL database of its own, and the app schema that mirrors it on the device.
 */
import { afterAll, beforeAll } from 'vitest';
import { startSyncServer } from '../../harness/sync-server.ts';
import type { StartedSyncServer } from '../../harness/sync-server.ts';
import type { WorkerSyncOptions } from '../../../worker/database/worker-service.ts';

const SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS e2e;
CREATE TABLE e2e.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));`;

/** The device's schema: `items (id, body)`. */
export const itemsSchema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT)'] };

/** Starts the server before the file's tests and stops it after; `server()` is it meanwhile. */
export function itemsServerForThisFile(purpose: string): {
  server(): StartedSyncServer;
  syncOptions(extra?: Partial<WorkerSyncOptions>): WorkerSyncOptions;
} {
  let started: StartedSyncServer | undefined;
  beforeAll(async () => {
    started = await startSyncServer({ schemaSql: SERVER_SQL, tables: [{ schema: 'e2e', table: 'items', syncKey: 'id' }], purpose });
  });
  afterAll(async () => {
    await started?.close();
  });
  const server = (): StartedSyncServer => {
    if (started === undefined) throw new Error('the items server starts in beforeAll');
    return started;
  };
  return {
    server,
    syncOptions: (extra = {}) => ({
      serverUrl: server().baseUrl,
      remoteSchema: 'e2e',
      tables: [{ table: 'items', syncKey: 'id' }],
      conflicts: 'server-wins',
      ...extra,
    }),
  };
}
