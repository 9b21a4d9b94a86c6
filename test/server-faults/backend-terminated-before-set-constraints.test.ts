// The connection dies as a push commit starts applying (before SET CONSTRAINTS ALL DEFERRED, the
// session row locked): 503 database_unavailable, the session is intact and the retry commits once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_before_constraints');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503 and the retried commit commits once', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('cid'), 'cid-phone');
  await dev.connect(false);
  const rows = tagRows('cid', 5);
  const created = await dev.createPush(1, rows.length);
  await dev.chunk(created.body.push_id, 0, rows);

  const paused = f.gate.arm(/SET CONSTRAINTS ALL DEFERRED/);
  const commit = dev.commit(created.body.push_id);
  const at = await paused;
  await terminateBackend(at.pid);
  at.resume();
  expectDatabaseUnavailable(await commit);

  expect((await dev.commit(created.body.push_id)).body).toMatchObject({ bundle_seq: 1, row_count: 5 });
  const counts = await f.h.database.query<{ bundles: number; tags: number }>(
    `SELECT (SELECT count(*)::int FROM sync.bundle_log) AS bundles, (SELECT count(*)::int FROM business.tags) AS tags`,
  );
  expect(counts.rows[0]).toEqual({ bundles: 1, tags: 5 });
});
