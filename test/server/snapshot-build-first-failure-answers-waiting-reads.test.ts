// A piecewise build (server `snapshotBuildPieceRows`) stops at the first piece that fails, not
// once every piece in progress has ended: here the tasks piece fails (a row the server itself
// wrote, larger than max_bytes_per_snapshot_row) while the tags piece before it waits on a lock
// the test holds. The failure is recorded at once, chunk reads already waiting for the tags rows
// answer 500 snapshot_session_create_failed (in the building process, woken, and in another
// process, at its next look), the tags piece's statement is cancelled (it no longer waits), and
// the build lets go of everything: its connections, its lock, no internal error.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncServer } from '../../server/index.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import {
  PROJECTS,
  TAGS,
  buildLockHeld,
  builtThrough,
  eventually,
  lockTable,
  piecesWaitingOnLock,
  secondInstance,
  seedUser,
  startWatchedBuildServer,
} from './support/piecewise-snapshot.ts';
import type { countingCheckouts } from './support/piecewise-snapshot.ts';

let internalErrors: unknown[];
/** The building server's database, counting the connections checked out of its pool. */
let pool: ReturnType<typeof countingCheckouts>;
let h: StartedSyncServer;
let other: SyncServer;
beforeAll(async () => {
  ({ h, pool, internalErrors } = await startWatchedBuildServer('snapshot_build_first_failure', { maxBytesPerSnapshotRow: 4000 }));
  other = await secondInstance(h, { maxBytesPerSnapshotRow: 4000 });
});
afterAll(async () => {
  await other?.close();
  await h?.close();
});

/** Whether a chunk read has looked for rows not built yet (the last statement of a connection). */
async function chunkReadLooked(): Promise<boolean> {
  const r = await h.database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_xact_lock_shared%'`,
  );
  return r.rows[0]!.n > 0;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('answers waiting reads at the first failure and cancels the other piece', async () => {
  const dev = await seedUser(h, 'first');
  await h.server.writeAs('first', 'server:big', async (tx) => {
    await tx.query(
      `INSERT INTO business.tasks (id, project_id, title) SELECT gen_random_uuid(), id, repeat('x', 6000) FROM business.projects LIMIT 1`,
    );
  });
  // Pieces: projects 101–150, then tags (held by its lock), then tasks (held until released, then failing).
  const tags = await lockTable(h, 'business.tags');
  const tasks = await lockTable(h, 'business.tasks');
  const locks = [tags, tasks];
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    const id = created.body.snapshot_id as string;
    await eventually(async () => (await piecesWaitingOnLock(h)) === 2);
    expect(await builtThrough(h, id)).toBe(PROJECTS);

    const path = `/sync/snapshot-sessions/${id}?after_row_ordinal=${PROJECTS}&max_rows=${TAGS}`;
    const here = dev.request('GET', path);
    await eventually(chunkReadLooked);
    const elsewhere = other.handle(new Request(`http://x${path}`, { headers: { 'Oversync-Source-ID': 'device-1' } }), {
      userId: 'first',
    });

    await tasks.release();
    locks.pop();
    const answered = await here;
    expect(answered.status).toBe(500);
    expect(answered.body.error).toBe('snapshot_session_create_failed');
    expect(answered.body.message).toContain('max_bytes_per_snapshot_row 4000');
    const fromOther = await elsewhere;
    expect(fromOther.status).toBe(500);
    expect(((await fromOther.json()) as { error: string }).error).toBe('snapshot_session_create_failed');

    // Still holding the tags lock: the tags piece no longer waits on it, the build let go of all.
    await eventually(async () => (await piecesWaitingOnLock(h)) === 0 && !(await buildLockHeld(h)) && pool.checkedOut() === 0);
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    expect(internalErrors).toEqual([]);
    expect((await dev.deleteSnapshot(id)).status).toBe(204);
  } finally {
    for (const lock of locks) await lock.release();
  }
});
