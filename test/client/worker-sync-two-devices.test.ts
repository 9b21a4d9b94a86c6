/**
 * The worker runtime with sync configured: two WorkerServices (two devices of one user, in-memory
 * SQLite) write through the group commit, sync through a real server on real PostgreSQL, and
 * converge. Commit notices go out for rows applied by sync too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { CommitNotice } from '../../worker/database/table-access.ts';
import type { SyncStatus } from '../../worker/engine/types.ts';

const SERVER_SQL = `CREATE SCHEMA IF NOT EXISTS e2e;
CREATE TABLE e2e.items (_sync_scope_id text NOT NULL, id text NOT NULL, body text, n bigint, PRIMARY KEY (_sync_scope_id, id));`;
const schema = { version: 1, migrations: ['CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, body TEXT, n INTEGER)'] };

let server: StartedSyncServer;
beforeAll(async () => {
  server = await startSyncServer({
    schemaSql: SERVER_SQL,
    tables: [{ schema: 'e2e', table: 'items', syncKey: 'id' }],
    purpose: 'client-worker',
  });
});
afterAll(async () => {
  await server?.close();
});

async function device(name: string, notices: CommitNotice[], statuses: SyncStatus[]): Promise<WorkerService> {
  const service = new WorkerService();
  const opened = await service.open(
    {
      name,
      schema,
      storage: 'memory',
      sync: { serverUrl: server.baseUrl, remoteSchema: 'e2e', tables: [{ table: 'items', syncKey: 'id' }], conflicts: 'server-wins' },
    },
    {
      onCommit: (n) => notices.push(n),
      onSyncEvent: (e) => {
        if (e.type === 'status') statuses.push(e.status);
      },
      getToken: async () => server.tokenFor('alice'),
    },
  );
  expect(opened).toMatchObject({ ok: true });
  return service;
}

describe('worker runtime with sync', () => {
  it('two devices converge through the server, and sync applies are announced', async () => {
    const noticesA: CommitNotice[] = [];
    const noticesB: CommitNotice[] = [];
    const statuses: SyncStatus[] = [];
    const a = await device('a', noticesA, statuses);
    const b = await device('b', noticesB, []);
    expect(await a.sync('attach', ['alice'])).toMatchObject({ ok: true, value: { status: 'connected' } });
    expect(await b.sync('attach', ['alice'])).toMatchObject({ ok: true, value: { status: 'connected' } });

    const writes = await a.write(
      Array.from({ length: 20 }, (_, i) => ({
        statements: [{ sql: 'INSERT INTO items (id, body, n) VALUES (?, ?, ?)', params: [`a${i}`, `from a ${i}`, 2n ** 60n + BigInt(i)] }],
      })),
    );
    expect(writes.every((w) => w.ok)).toBe(true);
    const pending = await a.sync('status', []);
    expect(pending.ok && (pending.value as SyncStatus).pendingCount).toBe(20);
    expect(await a.sync('sync', [])).toMatchObject({ ok: true });

    const before = noticesB.length;
    expect(await b.sync('sync', [])).toMatchObject({ ok: true });
    await Promise.resolve();
    expect(noticesB.slice(before).some((n) => n.tables.includes('items'))).toBe(true);
    const rows = await b.query('SELECT id, n FROM items ORDER BY id');
    expect(rows.ok && rows.value.rows).toHaveLength(20);
    expect(rows.ok && rows.value.rows.find((r) => r.id === 'a3')?.n).toBe(2n ** 60n + 3n);
    expect(statuses.length).toBeGreaterThan(0);

    // The single-step operations: push only, pull only, and a rebuild from a snapshot.
    await b.write([{ statements: [{ sql: "UPDATE items SET body = 'b edit' WHERE id = 'a0'" }] }]);
    expect(await b.sync('pushPending', [])).toMatchObject({ ok: true, value: { outcome: 'committed', rowCount: 1 } });
    expect(await a.sync('pullToStable', [])).toMatchObject({ ok: true, value: { outcome: 'applied_incremental' } });
    const edited = await a.query("SELECT body FROM items WHERE id = 'a0'");
    expect(edited.ok && edited.value.rows[0]!.body).toBe('b edit');
    expect(await b.sync('hydrate', [])).toMatchObject({ ok: true, value: { outcome: 'applied_snapshot', rowsApplied: 20 } });
    const afterHydrate = await b.query('SELECT count(*) AS c FROM items');
    expect(afterHydrate.ok && afterHydrate.value.rows[0]!.c).toBe(20);
    await a.close();
    await b.close();
  });

  it('a sync call without a sync configuration is a typed error', async () => {
    const service = new WorkerService();
    await service.open({ name: 'plain', schema, storage: 'memory' }, { onCommit: () => {} });
    const out = await service.sync('sync', []);
    expect(!out.ok && out.error.code).toBe('sync_not_configured');
    await service.close();
  });
});
