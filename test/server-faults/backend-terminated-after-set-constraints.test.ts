// The connection dies while a push commit holds it between statements (after the deferred FK checks
// ran, while Node hashes the bundle; a bundle of over 256 rows checks them there, a smaller one at
// COMMIT): `pg` emits 'error' on a checked-out client with no query in
// flight, which used to kill the process. Now: 503 database_unavailable, the transaction is gone,
// and the retried commit commits the bundle exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_after_set_constraints');
});
afterAll(() => f?.h.close());

it.skipIf(TEST_DB_KIND === 'pglite')('answers 503, keeps running, and the retried commit commits once', async () => {
  const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor('amy'), 'amy-phone');
  await dev.connect(false);
  const rows = tagRows('amy', 300);
  const created = await dev.createPush(1, rows.length);
  expect((await dev.chunk(created.body.push_id, 0, rows)).status).toBe(200);

  const paused = f.gate.arm(/SET CONSTRAINTS ALL IMMEDIATE/, 'after');
  const commit = dev.commit(created.body.push_id);
  const at = await paused;
  await terminateBackend(at.pid);
  at.resume();
  expectDatabaseUnavailable(await commit);

  const none = await f.h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags WHERE _sync_scope_id = 'amy'`);
  expect(none.rows[0]!.n).toBe(0);

  const retried = await dev.commit(created.body.push_id);
  expect(retried.status).toBe(200);
  expect(retried.body).toMatchObject({ bundle_seq: 1, row_count: 300 });
  const counts = await f.h.database.query<{ bundles: number; tags: number }>(
    `SELECT (SELECT count(*)::int FROM sync.bundle_log) AS bundles, (SELECT count(*)::int FROM business.tags WHERE _sync_scope_id = 'amy') AS tags`,
  );
  expect(counts.rows[0]).toEqual({ bundles: 1, tags: 300 });
  // The pool replaced the dead connection: ordinary requests keep working.
  expect((await dev.pull('?after_bundle_seq=0')).status).toBe(200);
});
