// A one-request push whose response was lost is sent again: the server answers
// `already_committed` with the committed bundle's metadata (as a create does for a committed
// bundle), never a second bundle; so does a three-request create for the same source bundle.
// The same request racing itself commits once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import { sampleUserInsert } from '../harness/sample-schema.ts';

let h: StartedSyncServer;
const HASH = 'e'.repeat(64);
const userRow = (n: number): PushRow => sampleUserInsert(`11111111-1111-4111-8111-${String(n).padStart(12, '0')}`, `u${n}`);

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'one_request_replay' });
});
afterAll(() => h?.close());

async function bundleCount(): Promise<number> {
  return (await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM sync.bundle_log')).rows[0]!.n;
}

it('a re-sent request gets the committed answer as already_committed, not a second bundle', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
  await dev.connect(false);
  const first = await dev.pushInOneRequest(1, [userRow(1), userRow(2)], { canonical_request_hash: HASH });
  expect(first.status).toBe(200);
  const again = await dev.pushInOneRequest(1, [userRow(1), userRow(2)], { canonical_request_hash: HASH });
  expect(again.status).toBe(200);
  expect(again.body).toEqual({ status: 'already_committed', ...first.body });
  // The three-request path's create for the same source bundle gives the same answer.
  const create = await dev.createPush(1, 2, { canonical_request_hash: HASH });
  expect(create.body).toEqual(again.body);
  expect(await bundleCount()).toBe(1);
  const pulled = await dev.pull('?after_bundle_seq=0');
  expect(pulled.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([1]);
});

it('the same request sent twice at once commits once; the other answer is already_committed', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('alice'), 'device-a');
  const rows = [userRow(3)];
  const answers = await Promise.all([
    dev.pushInOneRequest(2, rows, { canonical_request_hash: HASH }),
    dev.pushInOneRequest(2, rows, { canonical_request_hash: HASH }),
  ]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  const committed = answers.find((a) => a.body.status === undefined)!;
  const replayed = answers.find((a) => a.body.status === 'already_committed')!;
  expect(committed.body).toMatchObject({ bundle_seq: 2, source_bundle_id: 2, row_count: 1 });
  expect(replayed.body).toEqual({ status: 'already_committed', ...committed.body });
  expect(await bundleCount()).toBe(2);
});
