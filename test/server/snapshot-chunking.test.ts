// Frozen snapshot sessions: row and byte bounded chunks with 1-based ordinals, exact byte_count,
// key-byte order, frozen content and sequence, expiry, ownership and deletion.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalJson, utf8ByteLength } from '../../protocol/canonical-json.ts';
import type { JsonValue, PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
const names = Array.from({ length: 25 }, (_, i) => `tag-${String.fromCharCode(97 + (i % 26))}${i}`);

beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_chunking' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('kim'), 'device-1');
  await dev.connect(false);
  const rows: PushRow[] = names.map((name, i) => ({
    schema: 'business',
    table: 'tags',
    key: { name },
    op: 'INSERT',
    base_row_version: 0,
    payload: { name, color: i % 2 ? 'blue' : null, weight: String(i), meta: { i, nested: [true, null] } },
  }));
  expect((await dev.push(1, rows)).body.bundle_seq).toBe(1);
  // A second bundle touching one row: its row_version becomes 2; a deleted row is absent.
  await dev.push(2, [
    {
      schema: 'business',
      table: 'tags',
      key: { name: names[0]! },
      op: 'UPDATE',
      base_row_version: 1,
      payload: { name: names[0]!, color: 'red', weight: '100', meta: null },
    },
    { schema: 'business', table: 'tags', key: { name: names[1]! }, op: 'DELETE', base_row_version: 1 },
  ]);
});
afterAll(() => h?.close());

const rowBytes = (row: unknown) => utf8ByteLength(canonicalJson(row as JsonValue));

it('creates a frozen session and pages it by rows with exact byte counts', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  expect(s.body).toMatchObject({ snapshot_bundle_seq: 2, row_count: 24 });
  expect(Date.parse(s.body.expires_at)).toBeGreaterThan(Date.now());
  const all: any[] = [];
  let after = 0;
  let pages = 0;
  for (;;) {
    const c = await dev.snapshotChunk(s.body.snapshot_id, `?after_row_ordinal=${after}&max_rows=10`);
    expect(c.status).toBe(200);
    expect(c.body.snapshot_id).toBe(s.body.snapshot_id);
    expect(c.body.snapshot_bundle_seq).toBe(2);
    expect(c.body.next_row_ordinal).toBe(after + c.body.rows.length);
    expect(c.body.byte_count).toBe(c.body.rows.reduce((n: number, r: unknown) => n + rowBytes(r), 0));
    all.push(...c.body.rows);
    after = c.body.next_row_ordinal;
    pages++;
    if (!c.body.has_more) break;
  }
  expect(pages).toBe(3);
  expect(all).toHaveLength(24);
  expect(s.body.byte_count).toBe(all.reduce((n, r) => n + rowBytes(r), 0));
  const keys = all.map((r) => r.key.name);
  expect(keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const first = all.find((r) => r.key.name === names[0]);
  expect(first).toEqual({
    schema: 'business',
    table: 'tags',
    key: { name: names[0] },
    row_version: 2,
    payload: { name: names[0], color: 'red', weight: '100', meta: null },
  });
  expect(all.find((r) => r.key.name === names[1])).toBeUndefined();
  expect(all.find((r) => r.key.name === names[2]).payload).toEqual({
    name: names[2],
    color: null,
    weight: '2',
    meta: { i: 2, nested: [true, null] },
  });
  // Past the end: empty page echoing the ordinal.
  const end = await dev.snapshotChunk(s.body.snapshot_id, '?after_row_ordinal=24');
  expect(end.body).toMatchObject({ rows: [], next_row_ordinal: 24, byte_count: 0, has_more: false });
});

it('bounds chunks by max_bytes, always returning at least one row', async () => {
  const s = await dev.createSnapshot();
  const one = await dev.snapshotChunk(s.body.snapshot_id, '?max_bytes=1');
  expect(one.body.rows).toHaveLength(1);
  expect(one.body.has_more).toBe(true);
  const probe = await dev.snapshotChunk(s.body.snapshot_id, '?after_row_ordinal=1&max_rows=3');
  const [a, b, c] = probe.body.rows.map(rowBytes);
  const exact = await dev.snapshotChunk(s.body.snapshot_id, `?after_row_ordinal=1&max_bytes=${a + b}`);
  expect(exact.body.rows).toEqual(probe.body.rows.slice(0, 2));
  expect(exact.body).toMatchObject({ byte_count: a + b, next_row_ordinal: 3, has_more: true });
  const short = await dev.snapshotChunk(s.body.snapshot_id, `?after_row_ordinal=1&max_bytes=${a + b + c - 1}`);
  expect(short.body.rows).toHaveLength(2);
});

it('stays frozen after later writes and pruning', async () => {
  const s = await dev.createSnapshot();
  await dev.push(3, [
    { schema: 'business', table: 'tags', key: { name: 'late' }, op: 'INSERT', base_row_version: 0, payload: { name: 'late' } },
  ]);
  await h.server.pruneHistory('kim', 3);
  const c = await dev.snapshotChunk(s.body.snapshot_id, '?max_rows=5000');
  expect(c.body.snapshot_bundle_seq).toBe(2);
  expect(c.body.rows).toHaveLength(24);
  const fresh = await dev.createSnapshot();
  expect(fresh.body).toMatchObject({ snapshot_bundle_seq: 3, row_count: 25 });
});

it('rejects bad chunk parameters, foreign users, unknown and expired sessions; delete is idempotent-ish', async () => {
  const s = await dev.createSnapshot();
  for (const q of ['?max_rows=0', '?max_rows=-1', '?after_row_ordinal=x', '?max_bytes=0']) {
    const r = await dev.snapshotChunk(s.body.snapshot_id, q);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('snapshot_chunk_invalid');
  }
  const other = new RawSyncClient(h.baseUrl, h.tokenFor('lena'), 'device-9');
  const forbidden = await other.snapshotChunk(s.body.snapshot_id);
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.error).toBe('snapshot_session_forbidden');
  expect((await other.deleteSnapshot(s.body.snapshot_id)).status).toBe(403);
  expect((await dev.snapshotChunk('not-a-uuid')).body.error).toBe('snapshot_session_not_found');
  expect((await dev.snapshotChunk('77777777-7777-4777-8777-777777777777')).status).toBe(404);
  await h.database.query(`UPDATE sync.snapshot_sessions SET expires_at = now() - interval '1 second' WHERE snapshot_id = $1`, [
    s.body.snapshot_id,
  ]);
  const expired = await dev.snapshotChunk(s.body.snapshot_id);
  expect(expired.status).toBe(410);
  expect(expired.body.error).toBe('snapshot_session_expired');
  expect((await dev.deleteSnapshot(s.body.snapshot_id)).status).toBe(204);
  expect((await dev.deleteSnapshot(s.body.snapshot_id)).status).toBe(404);
});

it('rejects unknown body fields and malformed JSON on create', async () => {
  const unknown = await dev.createSnapshot({ surprise: true });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error).toBe('snapshot_session_invalid');
  expect((await dev.request('POST', '/sync/snapshot-sessions', undefined, '{')).body.error).toBe('snapshot_session_invalid');
  expect((await dev.createSnapshot({})).status).toBe(200);
});
