// A piecewise build (server `snapshotBuildPieceRows`) whose process is gone leaves a session
// whose rows stop short of its row_count, without a recorded error and with the build's lock
// free: a chunk read of the missing rows answers 500 snapshot_session_create_failed instead of
// waiting or serving a short chunk. A build whose database connections are killed records the
// failure itself, with the same answer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';
import {
  PIECE_ROWS,
  PROJECTS,
  buildWaitsOnLock,
  builtThrough,
  eventually,
  lockTable,
  readAllChunks,
  seedUser,
} from './support/piecewise-snapshot.ts';

const internalErrors: unknown[] = [];
let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'snapshot_build_gone',
    limits: { snapshotBuildPieceRows: PIECE_ROWS },
    onInternalError: (err) => internalErrors.push(err),
  });
});
afterAll(() => h?.close());

it.skipIf(TEST_DB_KIND !== 'postgres')('fails the read of rows no live build will write', async () => {
  const dev = await seedUser(h, 'orphan');
  const created = await dev.createSnapshot();
  const id = created.body.snapshot_id as string;
  await readAllChunks(dev, id);
  // What a process dying after its first pieces leaves: the later pieces never committed.
  await h.database.query(`DELETE FROM sync.snapshot_rows_${id.replace(/-/g, '')} WHERE row_ordinal > $1`, [PROJECTS]);
  const built = await dev.snapshotChunk(id, `?after_row_ordinal=0&max_rows=${PROJECTS}`);
  expect(built.status).toBe(200);
  const started = Date.now();
  const missing = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS - 5}&max_rows=10`);
  expect(missing.status).toBe(500);
  expect(missing.body.error).toBe('snapshot_session_create_failed');
  expect(Date.now() - started).toBeLessThan(2000);
});

/** The recorded build error of session `id`, or null. */
async function buildError(id: string): Promise<string | null> {
  const r = await h.database.query<{ e: string | null }>('SELECT build_error AS e FROM sync.snapshot_sessions WHERE snapshot_id = $1', [
    id,
  ]);
  return r.rows[0]?.e ?? null;
}

/** Connections of the test database left in a failed transaction (they would fail every statement). */
async function abortedConnections(): Promise<number> {
  const r = await h.database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'`,
  );
  return r.rows[0]!.n;
}

it.skipIf(TEST_DB_KIND !== 'postgres')('records the failure of a build whose connections were killed', async () => {
  const dev = await seedUser(h, 'killed');
  const lock = await lockTable(h, 'business.tags');
  try {
    const created = await dev.createSnapshot();
    const id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    // The projects piece may still be in progress when the tags piece already waits.
    await eventually(async () => (await builtThrough(h, id)) === PROJECTS);
    await h.database.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (query LIKE 'INSERT INTO sync.%snapshot_rows_%' OR query LIKE 'SELECT pg_export_snapshot()%')`,
    );
    let read: { status: number; body: { error?: string } } | undefined;
    await eventually(async () => {
      read = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS}`);
      return read.status !== 200;
    });
    expect(read!.status).toBe(500);
    expect(read!.body.error).toBe('snapshot_session_create_failed');
    expect(await builtThrough(h, id)).toBe(PROJECTS);
    // Recorded at the first failure, while a piece could still wait on the tags lock.
    await eventually(async () => (await buildError(id)) !== null);
    // Logged once the record is written (a deleted session's failure is not): not before.
    await eventually(async () => internalErrors.length > 0);
  } finally {
    await lock.release();
  }
});

it.skipIf(TEST_DB_KIND !== 'postgres')('records the failure of a build whose snapshot holder was killed', async () => {
  const dev = await seedUser(h, 'holderless');
  const lock = await lockTable(h, 'business.tags');
  let released = false;
  try {
    const created = await dev.createSnapshot();
    const id = created.body.snapshot_id as string;
    await eventually(() => buildWaitsOnLock(h));
    // Only the holder: the pieces in progress imported its snapshot already and go on; the next
    // piece's import fails, and its connection must not go back to the pool in that failed transaction.
    await h.database.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_export_snapshot()%'`,
    );
    await lock.release();
    released = true;
    await eventually(async () => (await buildError(id)) !== null);
    const read = await dev.snapshotChunk(id, `?after_row_ordinal=${PROJECTS}`);
    expect(read.status).toBe(500);
    expect(read.body.error).toBe('snapshot_session_create_failed');
    expect(await abortedConnections()).toBe(0);
  } finally {
    if (!released) await lock.release();
  }
});
