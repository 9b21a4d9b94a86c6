// A chunk request for rows a piecewise build (server `snapshotBuildPieceRows`) has not committed
// yet waits for them and then serves the full chunk, never a short or empty one; rows already
// built are served meanwhile. The build is held at a table boundary by a real lock on the next
// table's rows.
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  seedUser,
} from './support/piecewise-snapshot.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_chunk_waits', limits: { snapshotBuildPieceRows: PIECE_ROWS } });
});
afterAll(() => h?.close());

it.skipIf(TEST_DB_KIND !== 'postgres')('waits for the piece, then serves the whole chunk', async () => {
  const dev = await seedUser(h, 'waiter');
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    expect(created.body.row_count).toBe(TOTAL);
    // The projects are built (first piece before the answer, the rest right after); tags wait on the lock.
    await eventually(() => buildWaitsOnLock(h));
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    const early = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS - 20}&max_rows=20`);
    expect(early.status).toBe(200);
    expect(early.body.rows).toHaveLength(20);
    // Rows 141–190 span built projects and unbuilt tags: the request waits for all of them.
    let settled = false;
    const waiting = dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS - 10}&max_rows=50`).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(settled).toBe(false);
    await lock.release();
    released = true;
    const chunk = await waiting;
    expect(chunk.status).toBe(200);
    expect(chunk.body.rows).toHaveLength(50);
    expect(chunk.body.next_row_ordinal).toBe(PROJECTS + 40);
    expect(chunk.body.has_more).toBe(true);
    expect(chunk.body.rows.map((r: { table: string }) => r.table)).toEqual([
      ...Array<string>(10).fill('projects'),
      ...Array<string>(40).fill('tags'),
    ]);
  } finally {
    if (!released) await lock.release();
  }
});
