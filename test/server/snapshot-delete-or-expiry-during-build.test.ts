// A session deleted, or expired and swept, while its piecewise build (server
// `snapshotBuildPieceRows`) still runs: the DELETE cancels the pieces in progress (here one
// waiting on a lock the test holds) instead of waiting for them, drops the table, and the build
// ends quietly (no internal error, its lock and connections freed); reads answer 404 (deleted)
// or 410 (expired) at once instead of waiting for rows.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import {
  PROJECTS,
  buildLockHeld,
  buildWaitsOnLock,
  builtThrough,
  eventually,
  lockTable,
  seedUser,
  startWatchedBuildServer,
} from './support/piecewise-snapshot.ts';
import type { countingCheckouts } from './support/piecewise-snapshot.ts';

let internalErrors: unknown[];
/** The server's database, counting the connections checked out of its pool. */
let pool: ReturnType<typeof countingCheckouts>;
let h: StartedSyncServer;
beforeAll(async () => {
  ({ h, pool, internalErrors } = await startWatchedBuildServer('snapshot_gone_during_build', { maxSnapshotSessionsPerUser: 0 }));
});
afterAll(() => h?.close());

async function headerExists(id: string): Promise<boolean> {
  return (await h.database.query('SELECT 1 FROM sync.snapshot_sessions WHERE snapshot_id = $1', [id])).rows.length > 0;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('a DELETE during the build drops the session and ends the build', async () => {
  const dev = await seedUser(h, 'gone');
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    // Answered while the piece's lock is still held: the piece was cancelled, not waited for.
    expect((await dev.deleteSnapshot(id)).status).toBe(204);
    await eventually(async () => !(await buildLockHeld(h)) && !(await buildWaitsOnLock(h)) && pool.checkedOut() === 0);
    expect(await headerExists(id)).toBe(false);
    expect(await builtThrough(h, id)).toBe(0);
    expect((await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS}`)).status).toBe(404);
    expect(internalErrors).toEqual([]);
  } finally {
    if (!released) await lock.release();
  }
});

it.skipIf(TEST_DB_KIND !== 'postgres')('an expired session answers 410 at once and is swept when its build ends', async () => {
  const dev = new (await import('../harness/sync-client.ts')).RawSyncClient(h.baseUrl, h.tokenFor('gone'), 'device-1');
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    await h.database.query(`UPDATE sync.snapshot_sessions SET expires_at = now() - interval '1 second' WHERE snapshot_id = $1`, [id]);
    const started = Date.now();
    const read = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS}`);
    expect(read.status).toBe(410);
    expect(read.body.error).toBe('snapshot_session_expired');
    expect(Date.now() - started).toBeLessThan(2000);
    await lock.release();
    released = true;
    // The build's own sweep at its end drops the expired session it built.
    await eventually(async () => !(await headerExists(id)) && (await builtThrough(h, id)) === 0);
    await eventually(async () => !(await buildLockHeld(h)));
    expect(internalErrors).toEqual([]);
  } finally {
    if (!released) await lock.release();
  }
});
