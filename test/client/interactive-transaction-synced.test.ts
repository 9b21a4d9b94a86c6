/**
 * Changes made in an interactive transaction are captured like any other write and reach the
 * server on the next sync (another device receives them); a rolled-back transaction captures
 * nothing; and a sync asked for while a transaction is open waits for it and pushes its rows.
 * Real SQLite, real server on real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { openDatabaseOverService } from './database-over-service.ts';

const SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS txsync;
CREATE TABLE txsync.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));`;
const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT)'] };

let server: StartedSyncServer;
beforeAll(async () => {
  server = await startSyncServer({
    schemaSql: SERVER_SQL,
    tables: [{ schema: 'txsync', table: 'items', syncKey: 'id' }],
    purpose: 'client-tx-sync',
  });
});
afterAll(async () => {
  await server?.close();
});

async function device(name: string) {
  const opened = await openDatabaseOverService(name, schema, {
    sync: { serverUrl: server.baseUrl, remoteSchema: 'txsync', tables: [{ table: 'items', syncKey: 'id' }], conflicts: 'server-wins' },
    getToken: async () => server.tokenFor('alice'),
  });
  // Attached on the service: the facade's attach also remembers the user in IndexedDB, which Node lacks.
  expect(await opened.service.sync('attach', ['alice'])).toMatchObject({ ok: true, value: { status: 'connected' } });
  return opened.db;
}

describe('interactive transactions and sync', () => {
  it('a commit is captured and synced, a rollback captures nothing, and a sync waits for an open transaction', async () => {
    const a = await device('device-a');
    const b = await device('device-b');

    await a.transaction(async (tx) => {
      await tx.exec("INSERT INTO items VALUES ('one', 'first')");
      await tx.exec("INSERT INTO items VALUES ('two', 'second')");
      await tx.exec("UPDATE items SET body = 'first, edited' WHERE id = 'one'");
    });
    await a.sync.refreshStatus();
    expect(a.sync.status.get()?.pendingCount).toBe(2);
    expect((await a.sync.sync()).push).toMatchObject({ outcome: 'committed', rowCount: 2 });
    await b.sync.sync();
    expect(await b.query('SELECT id, body FROM items ORDER BY id')).toEqual([
      { id: 'one', body: 'first, edited' },
      { id: 'two', body: 'second' },
    ]);

    await expect(
      a.transaction(async (tx) => {
        await tx.exec("INSERT INTO items VALUES ('three', 'rolled back')");
        await tx.exec("DELETE FROM items WHERE id = 'two'");
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await a.sync.refreshStatus();
    expect(a.sync.status.get()?.pendingCount).toBe(0);
    expect(await a.query('SELECT count(*) AS n FROM _sync_dirty_rows')).toEqual([{ n: 0 }]);
    expect((await a.sync.sync()).push).toMatchObject({ outcome: 'no_change' });

    // A sync asked for meanwhile starts only after the commit, and so pushes the transaction's row.
    let syncing: Promise<unknown> | undefined;
    let synced = false;
    await a.transaction(async (tx) => {
      await tx.exec("INSERT INTO items VALUES ('four', 'while syncing')");
      syncing = a.sync.sync().then((result) => {
        synced = true;
        return result;
      });
      for (let i = 0; i < 5; i++) await tx.query('SELECT count(*) FROM items');
      expect(synced).toBe(false);
    });
    expect(await syncing).toMatchObject({ push: { outcome: 'committed', rowCount: 1 } });
    await b.sync.sync();
    expect(await b.query("SELECT body FROM items WHERE id = 'four'")).toEqual([{ body: 'while syncing' }]);
    await a.close();
    await b.close();
  });
});
