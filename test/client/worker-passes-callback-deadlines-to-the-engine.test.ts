/**
 * The callback deadlines an app sets in `sync` (`getTokenTimeoutMs`, `conflictResolverTimeoutMs`)
 * cross to the worker and bind its engine: a `getToken` that never answers fails the call, typed,
 * after the app's deadline (real server on real PostgreSQL; the engine's own test covers both
 * deadlines: test/engine-integration/app-callbacks-that-never-answer.test.ts), and a deadline
 * setTimeout cannot keep is refused when the worker opens.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { WorkerSyncOptions } from '../../worker/database/worker-service.ts';

const SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS e2e;
CREATE TABLE e2e.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));`;
const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT)'] };

let server: StartedSyncServer;
beforeAll(async () => {
  server = await startSyncServer({
    schemaSql: SERVER_SQL,
    tables: [{ schema: 'e2e', table: 'items', syncKey: 'id' }],
    purpose: 'client-deadlines',
  });
});
afterAll(async () => {
  await server?.close();
});

function syncOptions(extra: Partial<WorkerSyncOptions>): WorkerSyncOptions {
  return {
    serverUrl: server.baseUrl,
    remoteSchema: 'e2e',
    tables: [{ table: 'items', syncKey: 'id' }],
    conflicts: 'server-wins',
    ...extra,
  };
}

it('a getToken that never answers fails attach after the deadline the app set', async () => {
  const service = new WorkerService();
  const opened = await service.open(
    { name: 'deadline', schema, storage: 'memory', sync: syncOptions({ getTokenTimeoutMs: 120 }) },
    { onCommit: () => {}, getToken: () => new Promise<string>(() => {}) },
  );
  expect(opened).toMatchObject({ ok: true });

  const attached = await service.sync('attach', ['alice']);

  expect(attached).toMatchObject({ ok: false, error: { message: expect.stringContaining('did not answer within 120 ms') } });
  expect(await service.sync('status', [])).toMatchObject({ ok: true, value: { userId: null, lastError: { code: 'token_unavailable' } } });
});

it('a deadline setTimeout cannot keep is refused when the worker opens', async () => {
  const service = new WorkerService();
  const opened = await service.open(
    { name: 'bad-deadline', schema, storage: 'memory', sync: syncOptions({ conflictResolverTimeoutMs: 0 }) },
    { onCommit: () => {}, getToken: async () => server.tokenFor('alice') },
  );
  expect(opened).toMatchObject({ ok: false, error: { message: expect.stringContaining('conflictResolverTimeoutMs must be an integer') } });
});
