// A pull reads its page without a transaction first (the scope and the page's bundles in one
// statement, then their rows; committed bundles never change); when retention prunes part of that
// page between the two, the page is read again in one snapshot: the answer is what a snapshot at
// some instant gives (409 history_pruned here), never bundles without their rows. The prune runs
// while the pull is paused after its first statement (StageGate, real PostgreSQL).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StageGate } from '../harness/stage-gate.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

const gate = new StageGate();
// PGlite is one connection: the prune cannot run while the paused pull holds it.
const onPostgres = it.skipIf(TEST_DB_KIND === 'pglite');
let h: StartedSyncServer;
const tag = (name: string) => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } });

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_while_pruned', wrapDatabase: (db) => gate.wrap(db) });
});
afterAll(() => h?.close());

async function userWithThreeBundles(user: string): Promise<RawSyncClient> {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor(user), 'device-1');
  await dev.connect(false);
  for (let i = 1; i <= 3; i++) expect((await dev.push(i, [tag(`${user}-${i}`)])).status).toBe(200);
  return dev;
}

/** Pulls from `after`, pruning `user` to `floor` while the pull is paused after the statement matching `at`. */
async function pullPrunedAt(dev: RawSyncClient, user: string, after: number, at: RegExp, floor: number) {
  const paused = gate.arm(at, 'after');
  const pull = dev.pull(`?after_bundle_seq=${after}`);
  const stage = await paused;
  await h.server.pruneHistory(user, floor);
  stage.resume();
  return pull;
}

onPostgres('rows pruned after the bundles were read: 409 history_pruned, not bundles without their rows', async () => {
  const dev = await userWithThreeBundles('ann');
  const res = await pullPrunedAt(dev, 'ann', 0, /source_wire_dialect/, 2);
  expect(res.status).toBe(409);
  expect(res.body).toEqual({ error: 'history_pruned', message: 'after_bundle_seq 0 is below retained floor 2' });
});

onPostgres('a prune below the page leaves the page as it was', async () => {
  const dev = await userWithThreeBundles('cay');
  const res = await pullPrunedAt(dev, 'cay', 2, /source_wire_dialect/, 2);
  expect(res.status).toBe(200);
  expect(res.body.stable_bundle_seq).toBe(3);
  expect(res.body.bundles.map((b: { bundle_seq: number; rows: unknown[] }) => [b.bundle_seq, b.rows.length])).toEqual([[3, 1]]);
});
