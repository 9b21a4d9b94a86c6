// The connection dies while a snapshot session is being built: 503 database_unavailable, no
// session or session table is left behind, and the retried create serves every row.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_snapshot_create');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503, leaves nothing behind, and the retry builds the snapshot', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('gil'), 'gil-phone');
  await dev.connect(false);
  expect((await dev.push(1, tagRows('gil', 12))).status).toBe(200);

  const paused = f.gate.arm(/CREATE UNLOGGED TABLE/);
  const create = dev.createSnapshot();
  const at = await paused;
  await terminateBackend(at.pid);
  at.resume();
  expectDatabaseUnavailable(await create);
  const left = await f.h.database.query<{ sessions: number; tables: number }>(
    `SELECT (SELECT count(*)::int FROM sync.snapshot_sessions) AS sessions,
            (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'sync' AND tablename LIKE 'snapshot_rows_%') AS tables`,
  );
  expect(left.rows[0]).toEqual({ sessions: 0, tables: 0 });

  const created = await dev.createSnapshot();
  expect(created.status).toBe(200);
  const chunk = await dev.snapshotChunk(created.body.snapshot_id, '?after_row_ordinal=0');
  expect(chunk.status).toBe(200);
  expect(chunk.body.rows).toHaveLength(12);
});
