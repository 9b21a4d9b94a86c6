// Source replacement during a snapshot create: the previous source is retired and the new one
// reserved in the same transaction; repeating the same replacement is idempotent; a different
// replacement answers source_retired (structured); a used new id answers source_replacement_invalid.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_rotation' });
});
afterAll(() => h?.close());

const tag = (name: string) => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op: 'INSERT' as const,
  base_row_version: 0,
  payload: { name },
});
const replace = (prev: string, next: string, reason = 'source_sequence_out_of_order') => ({
  source_replacement: { previous_source_id: prev, new_source_id: next, reason },
});

it('retires the previous source and hands over to the new one', async () => {
  const old = new RawSyncClient(h.baseUrl, h.tokenFor('mia'), 'old-source');
  await old.connect(false);
  expect((await old.push(1, [tag('a')])).status).toBe(200);
  const pending = await old.createPush(2, 1);

  const s = await old.createSnapshot(replace('old-source', 'new-source'));
  expect(s.status).toBe(200);
  expect(s.body.snapshot_bundle_seq).toBe(1);
  // Idempotent repeat of the same replacement.
  expect((await old.createSnapshot(replace('old-source', 'new-source'))).status).toBe(200);

  const retired = await old.createPush(2, 1);
  expect(retired.status).toBe(409);
  expect(retired.body).toMatchObject({ error: 'source_retired', source_id: 'old-source', replaced_by_source_id: 'new-source' });
  // An outstanding session of the retired source cannot commit either.
  await old.chunk(pending.body.push_id, 0, [tag('b')]);
  expect((await old.commit(pending.body.push_id)).body.error).toBe('source_retired');

  const diverged = await old.createSnapshot(replace('old-source', 'third-source'));
  expect(diverged.status).toBe(409);
  expect(diverged.body).toMatchObject({ error: 'source_retired', replaced_by_source_id: 'new-source' });

  const fresh = old.withSource('new-source');
  const pushed = await fresh.push(1, [tag('b')]);
  expect(pushed.body).toMatchObject({ source_id: 'new-source', source_bundle_id: 1, bundle_seq: 2 });
  // The new source is active now: repeating the replacement is still accepted.
  expect((await old.createSnapshot(replace('old-source', 'new-source'))).status).toBe(200);
});

it('rejects a replacement onto an existing source and malformed replacements', async () => {
  const a = new RawSyncClient(h.baseUrl, h.tokenFor('noah'), 'src-a');
  await a.connect(false);
  await a.push(1, [tag('x')]);
  await a.withSource('src-b').push(1, [tag('y')]);
  const used = await a.createSnapshot(replace('src-a', 'src-b'));
  expect(used.status).toBe(409);
  expect(used.body.error).toBe('source_replacement_invalid');
  for (const body of [
    replace('someone-else', 'src-z'),
    replace('src-a', 'src-a'),
    replace('src-a', ''),
    replace('src-a', 'src-z', 'because'),
    { source_replacement: { previous_source_id: 'src-a', new_source_id: 'src-z', reason: 'history_pruned', extra: 1 } },
  ]) {
    const r = await a.createSnapshot(body);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('snapshot_session_invalid');
  }
  // Nothing was retired by the rejected attempts.
  expect((await a.push(2, [tag('z')])).status).toBe(200);
});
