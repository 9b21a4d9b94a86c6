// A go-oversync 1f1118f device that rotates its source id (snapshot with source_replacement, e.g.
// after history_pruned) keeps its dialect: the replacement source reads numbers before it ever
// pushes, and a contracts device's replacement keeps reading strings.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushRequestHash } from '../../protocol/hashes.ts';
import type { PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'dialect_rotation', wireDialect: 'auto' });
});
afterAll(() => h?.close());

const tag = (name: string): PushRow => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op: 'INSERT',
  base_row_version: 0,
  payload: { name, weight: '5' },
});

async function rotateAndRead(c: RawSyncClient, next: string): Promise<string> {
  const s = await c.createSnapshot({
    source_replacement: { previous_source_id: c.sourceId, new_source_id: next, reason: 'history_pruned' },
  });
  expect(s.status).toBe(200);
  const res = await fetch(`${h.baseUrl}/sync/snapshot-sessions/${s.body.snapshot_id}`, { headers: c.withSource(next).headers() });
  return res.text();
}

it('the replacement of a numbers source reads numbers before its first push', async () => {
  const go = new RawSyncClient(h.baseUrl, h.tokenFor('rot-go'), 'go-old');
  await go.connect(false);
  expect((await go.push(1, [tag('a')])).status).toBe(200);
  const text = await rotateAndRead(go, 'go-new');
  expect(text).toContain('"weight":5');
  expect((await go.withSource('go-new').pull('?after_bundle_seq=9')).body).toEqual({ stable_bundle_seq: 1, bundles: [], has_more: false });
});

it('the replacement of a strings source reads strings', async () => {
  const ts = new RawSyncClient(h.baseUrl, h.tokenFor('rot-ts'), 'ts-old');
  await ts.connect(false);
  const rows = [tag('a')];
  expect((await ts.push(1, rows, 1000, { canonical_request_hash: await pushRequestHash(rows) })).status).toBe(200);
  const text = await rotateAndRead(ts, 'ts-new');
  expect(text).toContain('"weight":"5"');
  expect((await ts.withSource('ts-new').pull('?after_bundle_seq=9')).status).toBe(409);
});
