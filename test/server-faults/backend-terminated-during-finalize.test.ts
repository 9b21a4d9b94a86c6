// The connection dies while a push commit finalizes its bundle (writing the bundle log) or right
// before COMMIT: 503 database_unavailable, no bundle and no business row exist, and the retried
// commit commits exactly one bundle. (A connection lost during COMMIT itself is covered by the
// protocol: the retried commit answers push_session_not_found and the re-created session
// already_committed; see test/server/push-retry-after-lost-response.test.ts.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectDatabaseUnavailable, startFaultServer, tagRows } from '../harness/fault-scenario.ts';
import type { FaultServer } from '../harness/fault-scenario.ts';
import { terminateBackend } from '../harness/stage-gate.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

let f: FaultServer;
beforeAll(async () => {
  if (TEST_DB_KIND === 'postgres') f = await startFaultServer('fault_finalize');
});
afterAll(() => f?.h.close());

for (const [stage, pattern] of [
  ['the bundle log insert', /INSERT INTO sync\.bundle_log/],
  ['COMMIT', /^COMMIT$/],
] as const) {
  it.skipIf(TEST_DB_KIND === 'pglite')(`answers 503 when the connection dies before ${stage}; the retry commits once`, async () => {
    const user = stage === 'COMMIT' ? 'dan-commit' : 'dan-log';
    const dev = new RawSyncClient(f.h.baseUrl, f.h.tokenFor(user), 'dan-phone');
    await dev.connect(false);
    const rows = tagRows(user, 8);
    const created = await dev.createPush(1, rows.length);
    await dev.chunk(created.body.push_id, 0, rows);

    const paused = f.gate.arm(pattern);
    const commit = dev.commit(created.body.push_id);
    const at = await paused;
    await terminateBackend(at.pid);
    at.resume();
    expectDatabaseUnavailable(await commit);
    const before = await f.h.database.query<{ bundles: number; tags: number }>(
      `SELECT (SELECT count(*)::int FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1) AS bundles,
              (SELECT count(*)::int FROM business.tags WHERE _sync_scope_id = $1) AS tags`,
      [user],
    );
    expect(before.rows[0]).toEqual({ bundles: 0, tags: 0 });

    expect((await dev.commit(created.body.push_id)).body).toMatchObject({ bundle_seq: 1, row_count: 8 });
    const after = await f.h.database.query<{ bundles: number; tags: number }>(
      `SELECT (SELECT count(*)::int FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1) AS bundles,
              (SELECT count(*)::int FROM business.tags WHERE _sync_scope_id = $1) AS tags`,
      [user],
    );
    expect(after.rows[0]).toEqual({ bundles: 1, tags: 8 });
  });
}
