// A commit whose response was lost: the retry goes through create, which answers
// already_committed with the original metadata; no duplicate bundle, and the old push_id is gone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_retry' });
});
afterAll(() => h?.close());

it('re-create after a committed bundle answers already_committed and never duplicates', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('dora'), 'device-1');
  await dev.connect(false);
  const row = {
    schema: 'business',
    table: 'tags',
    key: { name: 'red' },
    op: 'INSERT' as const,
    base_row_version: 0,
    payload: { name: 'red', color: '#f00', weight: '3', meta: { a: [1, 'x'] } },
  };
  const created = await dev.createPush(1, 1, { canonical_request_hash: 'b'.repeat(64) });
  await dev.chunk(created.body.push_id, 0, [row]);
  const committed = await dev.commit(created.body.push_id); // pretend this response never arrived

  const again = await dev.commit(created.body.push_id);
  expect(again.status).toBe(404);
  expect(again.body.error).toBe('push_session_not_found');

  const recreate = await dev.createPush(1, 1, { canonical_request_hash: 'b'.repeat(64) });
  expect(recreate.status).toBe(200);
  expect(recreate.body).toEqual({ status: 'already_committed', ...committed.body });
  expect(recreate.body.push_id).toBeUndefined();

  const bundles = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync.bundle_log`);
  expect(bundles.rows[0]!.n).toBe(1);
  const next = await dev.createPush(2, 1);
  expect(next.body.status).toBe('staging');
  const skip = await dev.createPush(4, 1);
  expect(skip.status).toBe(409);
  expect(skip.body.error).toBe('source_sequence_out_of_order');
});

it('a re-created staging session replaces the old one (old push_id 404) and a re-sent chunk is out of order', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('eve'), 'device-1');
  await dev.connect(false);
  const first = await dev.createPush(1, 2);
  const row = (n: string) => ({
    schema: 'business',
    table: 'tags',
    key: { name: n },
    op: 'INSERT',
    base_row_version: 0,
    payload: { name: n },
  });
  expect((await dev.chunk(first.body.push_id, 0, [row('a')])).status).toBe(200);
  const resent = await dev.chunk(first.body.push_id, 0, [row('a')]);
  expect(resent.status).toBe(409);
  expect(resent.body.error).toBe('push_chunk_out_of_order');
  const second = await dev.createPush(1, 2);
  expect(second.body.push_id).not.toBe(first.body.push_id);
  expect((await dev.chunk(first.body.push_id, 1, [row('b')])).status).toBe(404);
  await dev.chunk(second.body.push_id, 0, [row('a'), row('b')]);
  expect((await dev.commit(second.body.push_id)).body).toMatchObject({ bundle_seq: 1, row_count: 2 });
});
