// The connection dies just before a chunk's rows are staged: the chunk is answered 503
// database_unavailable, nothing of it is staged, and re-sending the same chunk continues the
// session (same start_row_ordinal), which then commits once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_staging');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503 for the chunk and the re-sent chunk continues the session', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('bea'), 'bea-phone');
  await dev.connect(false);
  const rows = tagRows('bea', 20);
  const created = await dev.createPush(1, rows.length);
  expect((await dev.chunk(created.body.push_id, 0, rows.slice(0, 10))).status).toBe(200);

  const paused = f.gate.arm(/INSERT INTO sync\.push_session_rows/);
  const chunk = dev.chunk(created.body.push_id, 10, rows.slice(10));
  const at = await paused;
  await terminateBackend(at.pid);
  at.resume();
  expectDatabaseUnavailable(await chunk);

  const staged = await f.h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync.push_session_rows`);
  expect(staged.rows[0]!.n).toBe(10);
  expect((await dev.chunk(created.body.push_id, 10, rows.slice(10))).body).toMatchObject({ next_expected_row_ordinal: 20 });
  expect((await dev.commit(created.body.push_id)).body).toMatchObject({ bundle_seq: 1, row_count: 20 });
  const tags = await f.h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags`);
  expect(tags.rows[0]!.n).toBe(20);
});
