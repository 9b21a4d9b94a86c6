// An insert-only bundle whose keys mostly are new but one of which was deleted before (its row
// version is a tombstone) commits as one bundle: every key ends live at the new bundle_seq, the
// tombstone included, and the bundle reads back whole. Also: a fresh insert-only bundle and a
// bundle that revives only tombstones.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_insert_tombstone' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('tomb'), 'device-tomb');
  await dev.connect(false);
});
afterAll(() => h?.close());

const tag = (name: string, base: number, op: PushRow['op'] = 'INSERT'): PushRow => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op,
  base_row_version: base,
  ...(op === 'DELETE' ? {} : { payload: { name, color: 'red', weight: '1', meta: null } }),
});

async function rowState(): Promise<Record<string, string>> {
  const r = await h.database.query<{ key_text: string; bundle_seq: string; deleted: boolean }>(
    `SELECT key_text, bundle_seq::text AS bundle_seq, deleted FROM sync.row_state ORDER BY key_text`,
  );
  return Object.fromEntries(r.rows.map((x) => [x.key_text, `${x.bundle_seq}${x.deleted ? ' deleted' : ''}`]));
}

async function expectReadsBack(seq: number, n: number): Promise<void> {
  const page = await dev.committedRows(seq, '?max_rows=5000');
  expect(page.body.rows).toHaveLength(n);
  expect(await bundleHash(page.body.rows)).toBe(page.body.bundle_hash);
}

it('inserts new keys and revives a tombstone in one bundle', async () => {
  const first = await dev.push(1, [tag('a', 0), tag('b', 0)]);
  expect(first.body.bundle_seq).toBe(1);
  expect((await dev.push(2, [tag('a', 1, 'DELETE')])).body.bundle_seq).toBe(2);
  expect(await rowState()).toEqual({ a: '2 deleted', b: '1' });

  const mixed = await dev.push(3, [tag('c', 0), tag('a', 2), tag('d', 0)]);
  expect(mixed.status).toBe(200);
  expect(mixed.body).toMatchObject({ bundle_seq: 3, row_count: 3 });
  expect(await rowState()).toEqual({ a: '3', b: '1', c: '3', d: '3' });
  await expectReadsBack(3, 3);
  const live = await h.database.query<{ name: string }>(`SELECT name FROM business.tags ORDER BY name`);
  expect(live.rows.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
});

it('a bundle that only revives tombstones, and then one with only new keys', async () => {
  expect((await dev.push(4, [tag('c', 3, 'DELETE'), tag('d', 3, 'DELETE')])).body.bundle_seq).toBe(4);
  const revived = await dev.push(5, [tag('c', 4), tag('d', 4)]);
  expect(revived.body).toMatchObject({ bundle_seq: 5, row_count: 2 });
  const fresh = await dev.push(6, [tag('e', 0), tag('f', 0)]);
  expect(fresh.body).toMatchObject({ bundle_seq: 6, row_count: 2 });
  expect(await rowState()).toEqual({ a: '3', b: '1', c: '5', d: '5', e: '6', f: '6' });
  await expectReadsBack(5, 2);
  await expectReadsBack(6, 2);
  // The user's sequence stayed gapless through the retried statement.
  const seq = await h.database.query<{ next: string }>(`SELECT next_bundle_seq::text AS next FROM sync.user_state WHERE user_id = 'tomb'`);
  expect(seq.rows[0]!.next).toBe('7');
});
