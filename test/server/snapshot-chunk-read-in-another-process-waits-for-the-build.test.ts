// A chunk read served by another process of a multi-process server (here a second server
// instance on the same database: it hears none of the building instance's wake-ups) waits for
// the rows a piecewise build has not committed yet, by looking again, and then serves the same
// chunk the building instance serves.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncServer } from '../../server/index.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import {
  PIECE_ROWS,
  PROJECTS,
  TAGS,
  buildWaitsOnLock,
  eventually,
  lockTable,
  secondInstance,
  seedUser,
} from './support/piecewise-snapshot.ts';

let h: StartedSyncServer;
let other: SyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_chunk_other_process', limits: { snapshotBuildPieceRows: PIECE_ROWS } });
  other = await secondInstance(h);
});
afterAll(async () => {
  await other?.close();
  await h?.close();
});

it.skipIf(TEST_DB_KIND !== 'postgres')('waits in the other process too, then serves the same chunk', async () => {
  const dev = await seedUser(h, 'spread');
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    const path = `/sync/snapshot-sessions/${id}?after_row_ordinal=${PROJECTS}&max_rows=${TAGS}`;
    let settled = false;
    const elsewhere = other
      .handle(new Request(`http://x${path}`, { headers: { 'Oversync-Source-ID': 'device-1' } }), { userId: 'spread' })
      .finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(settled).toBe(false);
    await lock.release();
    released = true;
    const res = await elsewhere;
    expect(res.status).toBe(200);
    const text = await res.text();
    const here = await dev.request('GET', path);
    expect(here.status).toBe(200);
    expect(JSON.parse(text)).toEqual(here.body);
    expect(here.body.rows).toHaveLength(TAGS);
  } finally {
    if (!released) await lock.release();
  }
});
