/**
 * Signing out with changes the server does not have yet: `detach` refuses and keeps them; with
 * `force` it signs out, discards them (and says how many), and the server never sees them: the
 * same user signing in again gets the server's rows only. A `force` that is not a boolean (or a
 * bare `detach(true)`) is refused with `invalid_argument` and changes nothing. Real SQLite, real server on PostgreSQL,
 * through the worker's request path (the browser facade passes its options as they are:
 * e2e/sync-sign-out-discarding-unsynced-changes.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { SyncStatus } from '../../worker/engine/types.ts';

const SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS signout;
CREATE TABLE signout.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));`;
const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT)'] };

let server: StartedSyncServer;
beforeAll(async () => {
  server = await startSyncServer({
    schemaSql: SERVER_SQL,
    tables: [{ schema: 'signout', table: 'items', syncKey: 'id' }],
    purpose: 'client-signout',
  });
});
afterAll(async () => {
  await server?.close();
});

async function device(): Promise<WorkerService> {
  const service = new WorkerService();
  const opened = await service.open(
    {
      name: 'signout',
      schema,
      storage: 'memory',
      sync: { serverUrl: server.baseUrl, remoteSchema: 'signout', tables: [{ table: 'items', syncKey: 'id' }], conflicts: 'server-wins' },
    },
    { onCommit: () => {}, onSyncEvent: () => {}, getToken: async () => server.tokenFor('alice') },
  );
  expect(opened).toMatchObject({ ok: true });
  return service;
}

async function ids(service: WorkerService): Promise<unknown[]> {
  const rows = await service.query('SELECT id FROM items ORDER BY id');
  return rows.ok ? rows.value.rows.map((r) => r.id) : [];
}

async function status(service: WorkerService): Promise<SyncStatus> {
  const s = await service.sync('status', []);
  if (!s.ok) throw new Error(s.error.message);
  return s.value as SyncStatus;
}

describe('sign out with unsynced changes', () => {
  it('is refused, then forced: the changes are discarded and never reach the server', async () => {
    const a = await device();
    expect(await a.sync('attach', ['alice'])).toMatchObject({ ok: true, value: { status: 'connected' } });
    await a.write([{ statements: [{ sql: "INSERT INTO items VALUES ('kept', 'on the server')" }] }]);
    expect(await a.sync('sync', [])).toMatchObject({ ok: true });
    await a.write([{ statements: [{ sql: "INSERT INTO items VALUES ('draft', 'only here')" }] }]);
    await a.write([{ statements: [{ sql: "UPDATE items SET body = 'edited here' WHERE id = 'kept'" }] }]);

    // Not forced: refused, nothing changes.
    expect(await a.sync('detach', [{}])).toEqual({ ok: true, value: { outcome: 'blocked_unsynced_data', pendingCount: 2 } });
    expect(await status(a)).toMatchObject({ userId: 'alice', pendingCount: 2 });

    // A force that is not a boolean, or no options object: a typed error, still signed in with both changes.
    const bad = await a.sync('detach', [{ force: 'yes' }]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(!bad.ok && bad.error.message).toMatch(/force.*boolean/);
    expect(await a.sync('detach', [true])).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await status(a)).toMatchObject({ userId: 'alice', pendingCount: 2 });
    expect(await ids(a)).toEqual(['draft', 'kept']);

    // Forced: signed out, both changes discarded, the synced rows gone from the device.
    expect(await a.sync('detach', [{ force: true }])).toEqual({ ok: true, value: { outcome: 'detached', discardedChanges: 2 } });
    expect(await status(a)).toMatchObject({ userId: null, pendingCount: 0 });
    expect(await ids(a)).toEqual([]);

    // The server never had them: signing in again brings its rows, as it has them.
    expect(await a.sync('attach', ['alice'])).toMatchObject({ ok: true, value: { status: 'connected' } });
    const rows = await a.query('SELECT id, body FROM items ORDER BY id');
    expect(rows.ok && rows.value.rows).toEqual([{ id: 'kept', body: 'on the server' }]);
    await a.close();
  });
});
