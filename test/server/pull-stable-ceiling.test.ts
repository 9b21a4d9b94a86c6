// Pull returns complete bundles in bundle_seq order up to a frozen ceiling, pages by
// max_bundles, rejects a checkpoint ahead of history (409 checkpoint_ahead) and bad parameters.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const tag = (name: string) => ({ schema: 'business', table: 'tags', key: { name }, op: 'INSERT', base_row_version: 0, payload: { name } });

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_ceiling' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('olga'), 'device-1');
  await dev.connect(false);
  for (let i = 1; i <= 12; i++) expect((await dev.push(i, [tag(`t${i}`), tag(`u${i}`)])).body.bundle_seq).toBe(i);
});
afterAll(() => h?.close());

it('pages 12 bundles in numeric order under a frozen ceiling while new bundles commit', async () => {
  const first = await dev.pull('?after_bundle_seq=0&max_bundles=5');
  expect(first.body.stable_bundle_seq).toBe(12);
  expect(first.body.has_more).toBe(true);
  expect(first.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([1, 2, 3, 4, 5]);
  expect(first.body.bundles.every((b: { rows: unknown[]; row_count: number }) => b.rows.length === 2 && b.row_count === 2)).toBe(true);
  // A new bundle commits mid-pull; the frozen ceiling keeps the session stable.
  await dev.push(13, [tag('late')]);
  const seen: number[] = [...first.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)];
  let after = 5;
  for (;;) {
    const page = await dev.pull(`?after_bundle_seq=${after}&max_bundles=5&target_bundle_seq=12`);
    expect(page.body.stable_bundle_seq).toBe(12);
    seen.push(...page.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq));
    after = seen[seen.length - 1]!;
    if (!page.body.has_more) break;
  }
  expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  const fresh = await dev.pull('?after_bundle_seq=12');
  expect(fresh.body).toMatchObject({ stable_bundle_seq: 13, has_more: false });
  expect(fresh.body.bundles.map((b: { bundle_seq: number }) => b.bundle_seq)).toEqual([13]);
  expect((await dev.pull('?after_bundle_seq=13')).body).toEqual({ stable_bundle_seq: 13, bundles: [], has_more: false });
});

it("answers checkpoint_ahead for a checkpoint beyond the user's history", async () => {
  const r = await dev.pull('?after_bundle_seq=99');
  expect(r.status).toBe(409);
  expect(r.body).toEqual({
    error: 'checkpoint_ahead',
    message: 'requested checkpoint 99 is ahead of current committed bundle sequence 13',
  });
});

it.each(['?max_bundles=0', '?max_bundles=5001', '?after_bundle_seq=-1', '?after_bundle_seq=abc', '?target_bundle_seq=1.5'])(
  'rejects %s with 400 invalid_request',
  async (q) => {
    const r = await dev.pull(q);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_request');
  },
);

it('rejects bad committed-rows parameters and unknown bundles', async () => {
  for (const [seq, query] of [
    ['0', ''],
    ['x', ''],
    ['1', '?max_rows=0'],
    ['1', '?after_row_ordinal=-2'],
  ] as const) {
    const r = await dev.committedRows(seq, query);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('committed_bundle_chunk_invalid');
  }
  const missing = await dev.committedRows(999);
  expect(missing.status).toBe(404);
  expect(missing.body.error).toBe('committed_bundle_not_found');
});
