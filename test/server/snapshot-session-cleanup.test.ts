// Snapshot session cleanup: each session's rows live in a table of their own, dropped by DELETE,
// by the expiry sweep of the next create, and (left without a header, as after a crash empties
// the UNLOGGED header table) by that sweep too; a failed build leaves nothing behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  // One user opens 18+ sessions here to exercise the sweep: no per-user session cap.
  h = await startSyncServer({ purpose: 'snapshot_cleanup', limits: { maxSnapshotSessionsPerUser: 0 } });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('omar'), 'device-1');
  await dev.connect(false);
  const rows: PushRow[] = Array.from({ length: 12 }, (_, i) => ({
    schema: 'business',
    table: 'tags',
    key: { name: `t${i}` },
    op: 'INSERT',
    base_row_version: 0,
    payload: { name: `t${i}`, color: null, weight: String(i), meta: null },
  }));
  expect((await dev.push(1, rows)).status).toBe(200);
});
afterAll(() => h?.close());

const tableOf = (id: string) => `snapshot_rows_${id.replace(/-/g, '')}`;

async function sessionTables(): Promise<string[]> {
  const r = await h.database.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = 'sync'::regnamespace AND relkind = 'r' AND relname LIKE 'snapshot\\_rows\\_%' ORDER BY relname`,
  );
  return r.rows.map((x) => x.relname);
}

it('drops the session table on delete', async () => {
  const s = await dev.createSnapshot();
  expect(await sessionTables()).toContain(tableOf(s.body.snapshot_id));
  expect((await dev.deleteSnapshot(s.body.snapshot_id)).status).toBe(204);
  expect(await sessionTables()).not.toContain(tableOf(s.body.snapshot_id));
  expect((await dev.snapshotChunk(s.body.snapshot_id)).status).toBe(404);
});

it('drops expired sessions and orphaned session tables when the next session is built', async () => {
  const expired = await dev.createSnapshot();
  const live = await dev.createSnapshot();
  const orphan = await dev.createSnapshot();
  await h.database.query(`UPDATE sync.snapshot_sessions SET expires_at = now() - interval '1 second' WHERE snapshot_id = $1`, [
    expired.body.snapshot_id,
  ]);
  await h.database.query(`DELETE FROM sync.snapshot_sessions WHERE snapshot_id = $1`, [orphan.body.snapshot_id]);
  const next = await dev.createSnapshot();
  expect(next.status).toBe(200);
  const tables = await sessionTables();
  expect(tables).not.toContain(tableOf(expired.body.snapshot_id));
  expect(tables).not.toContain(tableOf(orphan.body.snapshot_id));
  expect(tables).toEqual([tableOf(live.body.snapshot_id), tableOf(next.body.snapshot_id)].sort());
  expect((await dev.snapshotChunk(expired.body.snapshot_id)).status).toBe(404);
  expect((await dev.snapshotChunk(live.body.snapshot_id, '?max_rows=5000')).body.rows).toHaveLength(12);
});

it('drops at most 16 expired sessions per build, the rest on the next builds', async () => {
  // Sessions of earlier tests expire now and are swept by the builds below.
  await h.database.query(`UPDATE sync.snapshot_sessions SET expires_at = now() - interval '1 second'`);
  const ids: string[] = [];
  for (let i = 0; i < 18; i++) ids.push((await dev.createSnapshot()).body.snapshot_id);
  await h.database.query(`UPDATE sync.snapshot_sessions SET expires_at = now() - interval '1 second'`);
  const first = (await dev.createSnapshot()).body.snapshot_id;
  expect(await sessionTables()).toHaveLength(18 - 16 + 1);
  const second = (await dev.createSnapshot()).body.snapshot_id;
  expect(await sessionTables()).toEqual([tableOf(first), tableOf(second)].sort());
});

it('leaves no table behind when a build fails', async () => {
  const before = await sessionTables();
  const capped = await startSyncServer({ purpose: 'snapshot_cleanup_capped', limits: { maxRowsPerSnapshotSession: 5 } });
  try {
    const d = new RawSyncClient(capped.baseUrl, capped.tokenFor('omar'), 'device-1');
    await d.connect(false);
    await d.push(
      1,
      Array.from({ length: 6 }, (_, i) => ({
        schema: 'business',
        table: 'tags',
        key: { name: `x${i}` },
        op: 'INSERT',
        base_row_version: 0,
        payload: { name: `x${i}` },
      })),
    );
    const r = await d.createSnapshot();
    expect(r.status).toBe(500);
    const left = await capped.database.query(
      `SELECT relname FROM pg_class WHERE relnamespace = 'sync'::regnamespace AND relname LIKE 'snapshot\\_rows\\_%'`,
    );
    expect(left.rows).toEqual([]);
    expect((await capped.database.query('SELECT 1 FROM sync.snapshot_sessions')).rows).toEqual([]);
  } finally {
    await capped.close();
  }
  expect(await sessionTables()).toEqual(before);
});
