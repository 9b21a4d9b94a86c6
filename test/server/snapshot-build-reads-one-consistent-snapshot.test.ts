// Every piece of a piecewise build (server `snapshotBuildPieceRows`) reads the snapshot its
// create read: rows another device commits while the build still runs (updates, new rows and
// deletes of rows not built yet) are not in the session, and its snapshot_bundle_seq is the one
// the create answered; the next session has them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import {
  PIECE_ROWS,
  PROJECTS,
  TOTAL,
  buildWaitsOnLock,
  builtThrough,
  eventually,
  lockTable,
  readAllChunks,
  seedUser,
} from './support/piecewise-snapshot.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_one_snapshot', limits: { snapshotBuildPieceRows: PIECE_ROWS } });
});
afterAll(() => h?.close());

interface Row {
  table: string;
  key: Record<string, string>;
  row_version: number;
  payload: Record<string, unknown>;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('leaves out what another device commits during the build', async () => {
  const dev = await seedUser(h, 'steady');
  const before = (await readAllChunks(dev, (await dev.createSnapshot()).body.snapshot_id, 5000)) as { rows: Row[]; seq: number };
  // Not the projects' owner (a random user): deleting it would cascade to every project and task.
  const owner = before.rows.find((r) => r.table === 'projects')!.payload.owner_id;
  const users = before.rows.filter((r) => r.table === 'users' && r.key.id !== owner);
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    expect(created.body.snapshot_bundle_seq).toBe(before.seq);
    await eventually(() => buildWaitsOnLock(h));
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    // The users come after the locked tags: not built yet when the other device commits.
    const other = new RawSyncClient(h.baseUrl, h.tokenFor('steady'), 'device-2');
    expect((await other.connect(true)).status).toBe(200);
    const changes: PushRow[] = [
      ...users.slice(0, 5).map((u) => ({
        schema: 'business',
        table: 'users',
        key: u.key,
        op: 'UPDATE' as const,
        base_row_version: u.row_version,
        payload: { ...(u.payload as Record<string, string | null>), name: 'renamed during the build' },
      })),
      { schema: 'business', table: 'users', key: users[5]!.key, op: 'DELETE', base_row_version: users[5]!.row_version },
      {
        schema: 'business',
        table: 'users',
        key: { id: '00000000-0000-4000-8000-000000000001' },
        op: 'INSERT',
        base_row_version: 0,
        payload: { id: '00000000-0000-4000-8000-000000000001', name: 'new', email: null, created_at: '2026-03-24T18:42:11Z' },
      },
    ];
    const pushed = await other.push(1, changes);
    expect(pushed.status).toBe(200);
    expect(pushed.body.bundle_seq).toBeGreaterThan(before.seq);
    await lock.release();
    released = true;
    const during = (await readAllChunks(dev, id, 37)) as { rows: Row[]; seq: number };
    expect(during.seq).toBe(before.seq);
    expect(during.rows).toHaveLength(TOTAL);
    expect(during.rows).toEqual(before.rows);
    const after = (await readAllChunks(dev, (await dev.createSnapshot()).body.snapshot_id, 5000)) as { rows: Row[]; seq: number };
    expect(after.seq).toBe(pushed.body.bundle_seq);
    expect(after.rows.filter((r) => r.table === 'users' && r.payload.name === 'renamed during the build')).toHaveLength(5);
    expect(after.rows).toHaveLength(TOTAL);
  } finally {
    if (!released) await lock.release();
  }
});
