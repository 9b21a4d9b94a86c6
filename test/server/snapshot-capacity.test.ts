// Snapshot admission: concurrent builds and chunk reads beyond the per-process limits answer
// 503 snapshot_build_capacity / snapshot_chunk_capacity with Retry-After. The first operation is
// held inside PostgreSQL (a lock taken by the test) so the overlap is deterministic.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({
    purpose: 'snapshot_capacity',
    limits: { maxConcurrentSnapshotBuilds: 1, maxConcurrentSnapshotChunkRequests: 1, capacityRetryAfterSeconds: 2 },
  });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('wendy'), 'dev');
  await dev.connect(false);
  await dev.push(1, [{ schema: 'business', table: 'tags', key: { name: 'a' }, op: 'INSERT', base_row_version: 0, payload: { name: 'a' } }]);
});
afterAll(() => h?.close());

/** Resolves once some backend waits on a lock (the request we want to hold). */
async function lockWaiterAppears(admin: pg.Client): Promise<void> {
  for (;;) {
    const r = await admin.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    if (r.rows[0].n > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

it.skipIf(TEST_DB_KIND === 'pglite')('rejects a second concurrent build and chunk read with 503 and Retry-After', async () => {
  const admin = new pg.Client({ connectionString: h.testDatabase.connectionString! });
  await admin.connect();
  try {
    // Hold the user's advisory lock: the first create waits inside its transaction, holding the gate.
    await admin.query(`SELECT pg_advisory_lock(hashtextextended('wendy', 0))`);
    const first = dev.createSnapshot();
    await lockWaiterAppears(admin);
    const second = await dev.createSnapshot();
    expect(second.status).toBe(503);
    expect(second.body.error).toBe('snapshot_build_capacity');
    expect(second.headers.get('retry-after')).toBe('2');
    await admin.query(`SELECT pg_advisory_unlock(hashtextextended('wendy', 0))`);
    const s = await first;
    expect(s.status).toBe(200);

    await admin.query('BEGIN');
    // The session's rows table (one per session): a chunk read waits on it, holding its gate slot.
    await admin.query(`LOCK TABLE sync."snapshot_rows_${s.body.snapshot_id.replace(/-/g, '')}" IN ACCESS EXCLUSIVE MODE`);
    const read = dev.snapshotChunk(s.body.snapshot_id);
    await lockWaiterAppears(admin);
    const busy = await dev.snapshotChunk(s.body.snapshot_id);
    expect(busy.status).toBe(503);
    expect(busy.body.error).toBe('snapshot_chunk_capacity');
    expect(busy.headers.get('retry-after')).toBe('2');
    await admin.query('COMMIT');
    expect((await read).status).toBe(200);
    expect((await dev.snapshotChunk(s.body.snapshot_id)).status).toBe(200);
  } finally {
    await admin.end();
  }
});
