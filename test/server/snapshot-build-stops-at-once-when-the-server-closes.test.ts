// A server closing while a piecewise snapshot build (server `snapshotBuildPieceRows`) still runs
// stops the build at once: the piece in progress (here one waiting on a lock the test holds, as
// it would behind a long migration) is cancelled, not waited for, so `close()` returns while the
// lock is still held; the session records why (its chunk reads, on another instance, answer
// `snapshot_session_create_failed` and the client creates a new session), and the build leaves
// no backend, lock or pooled connection behind.
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
  secondInstance,
  seedUser,
  startWatchedBuildServer,
} from './support/piecewise-snapshot.ts';
import type { countingCheckouts } from './support/piecewise-snapshot.ts';

let internalErrors: unknown[];
/** The server's database, counting the connections checked out of its pool. */
let pool: ReturnType<typeof countingCheckouts>;
let h: StartedSyncServer;
beforeAll(async () => {
  ({ h, pool, internalErrors } = await startWatchedBuildServer('snapshot_build_server_close'));
});
afterAll(() => h?.close());

it.skipIf(TEST_DB_KIND !== 'postgres')('cancels the piece in progress and records why', async () => {
  const dev = await seedUser(h, 'closing');
  const lock = await lockTable(h, 'business.tags');
  let id: string;
  try {
    const created = await dev.createSnapshot();
    expect(created.status).toBe(200);
    id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    // With the lock still held: a close that waited for the piece would never return.
    await h.server.close();
    expect(await buildWaitsOnLock(h)).toBe(false);
    expect(await buildLockHeld(h)).toBe(false);
    expect(pool.checkedOut()).toBe(0);
    const header = await h.database.query<{ build_error: string | null }>(
      'SELECT build_error FROM sync.snapshot_sessions WHERE snapshot_id = $1',
      [id],
    );
    expect(header.rows[0]!.build_error).toMatch(/shutting down/);
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    expect(internalErrors).toEqual([]);
  } finally {
    await lock.release();
  }
  // Another instance on the same database (the process that stays up; started once the lock is
  // gone, since a server's start-up reads the business tables) answers the session's reads with the failure.
  const other = await secondInstance(h);
  try {
    const res = await other.handle(
      new Request(`http://x/sync/snapshot-sessions/${id}?after_row_ordinal=${PROJECTS}`, {
        headers: { 'Oversync-Source-ID': 'device-1' },
      }),
      { userId: 'closing' },
    );
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('snapshot_session_create_failed');
    expect(body.message).toMatch(/shutting down; create a new snapshot session/);
  } finally {
    await other.close();
  }
});
