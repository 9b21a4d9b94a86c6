// Retention: after the retained floor moves (automatically by policy, or by pruneHistory),
// pull and committed-row fetch at or below it answer 409 history_pruned, a pruned
// source_bundle_id can never be committed twice, and snapshots still work.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
const tag = (name: string) => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } });

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'history_pruned', retention: { retainedBundlesPerUser: 3, pruneBatchSize: 1 } });
});
afterAll(() => h?.close());

it('pruneHistory raises the floor; reads below it are history_pruned; status counts them', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('paul'), 'device-1');
  await dev.connect(false);
  for (let i = 1; i <= 3; i++) await dev.push(i, [tag(`p${i}`)]);
  await h.server.pruneHistory('paul', 2);
  const rows = await dev.committedRows(2);
  expect(rows.status).toBe(409);
  expect(rows.body.error).toBe('history_pruned');
  expect((await dev.committedRows(3)).status).toBe(200);
  const pull = await dev.pull('?after_bundle_seq=1');
  expect(pull.status).toBe(409);
  expect(pull.body).toEqual({ error: 'history_pruned', message: 'after_bundle_seq 1 is below retained floor 2' });
  expect((await dev.pull('?after_bundle_seq=0')).body.error).toBe('history_pruned');
  const ok = await dev.pull('?after_bundle_seq=2');
  expect(ok.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([3]);
  // The pruned tuple is recognized and never re-committed; the live one is replayable.
  expect((await dev.createPush(2, 1)).body.error).toBe('history_pruned');
  expect((await dev.createPush(3, 1)).body.status).toBe('already_committed');
  const snap = await dev.createSnapshot();
  expect(snap.body).toMatchObject({ snapshot_bundle_seq: 3, row_count: 3 });
  const status = await (await fetch(`${h.baseUrl}/syncx/status`)).json();
  expect(status.history_pruned_error_count).toBeGreaterThanOrEqual(4);
  await expect(h.server.pruneHistory('paul', 99)).rejects.toMatchObject({ code: 'invalid_request' });
});

it('the retention policy moves the floor by at most one batch per commit', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('quinn'), 'device-1');
  await dev.connect(false);
  for (let i = 1; i <= 6; i++) await dev.push(i, [tag(`q${i}`)]);
  const state = await h.database.query<{ floor: string; bundles: number }>(
    `SELECT u.retained_bundle_floor::text AS floor, (SELECT count(*)::int FROM sync.bundle_log b WHERE b.user_pk = u.user_pk) AS bundles
       FROM sync.user_state u WHERE u.user_id = 'quinn'`,
  );
  expect(state.rows[0]).toEqual({ floor: '3', bundles: 3 });
  expect((await dev.committedRows(3)).body.error).toBe('history_pruned');
  expect((await dev.committedRows(4)).status).toBe(200);
});
