// A chunked push mixing tables, ops and column sets across chunk boundaries is applied in full,
// in staged order (parents before children, partial-column updates touching only their columns).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_mixed_segments' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('mixer'), 'dev');
  await dev.connect(false);
});
afterAll(() => h?.close());

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

it('applies every segment, continuing a segment across a chunk boundary', async () => {
  await dev.push(1, [
    {
      schema: 'business',
      table: 'tags',
      key: { name: 'keep' },
      op: 'INSERT',
      base_row_version: 0,
      payload: { name: 'keep', color: 'c0', weight: '1' },
    },
    { schema: 'business', table: 'tags', key: { name: 'bye' }, op: 'INSERT', base_row_version: 0, payload: { name: 'bye' } },
  ]);
  const rows = [
    {
      schema: 'business',
      table: 'users',
      key: { id: uuid(1) },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: uuid(1), name: 'u1', created_at: '2026-01-01T00:00:00Z' },
    },
    {
      schema: 'business',
      table: 'users',
      key: { id: uuid(2) },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: uuid(2), name: 'u2', created_at: '2026-01-01T00:00:00Z' },
    },
    // chunk boundary (chunk size 2): a new table starts a new segment
    {
      schema: 'business',
      table: 'projects',
      key: { id: uuid(3) },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: uuid(3), owner_id: uuid(1), title: 'p' },
    },
    { schema: 'business', table: 'tags', key: { name: 'new' }, op: 'INSERT', base_row_version: 0, payload: { name: 'new', color: 'n' } },
    // chunk boundary: same table, op and columns as the last segment → that segment is continued
    { schema: 'business', table: 'tags', key: { name: 'new2' }, op: 'INSERT', base_row_version: 0, payload: { color: 'n2', name: 'new2' } },
    { schema: 'business', table: 'tags', key: { name: 'keep' }, op: 'UPDATE', base_row_version: 1, payload: { name: 'keep', color: 'c1' } },
    { schema: 'business', table: 'tags', key: { name: 'bye' }, op: 'DELETE', base_row_version: 1 },
    {
      schema: 'business',
      table: 'users',
      key: { id: uuid(5) },
      op: 'INSERT',
      base_row_version: 0,
      payload: { id: uuid(5), name: 'u5', email: 'x@y', created_at: '2026-01-01T00:00:00Z' },
    },
  ];
  const session = await dev.createPush(2, rows.length);
  for (let i = 0; i < rows.length; i += 2) expect((await dev.chunk(session.body.push_id, i, rows.slice(i, i + 2))).status).toBe(200);
  const shapes = await h.database.query(
    `SELECT start_ordinal::int AS s, end_ordinal::int AS e FROM sync.push_session_segments ORDER BY start_ordinal`,
  );
  expect(shapes.rows).toEqual([
    { s: 0, e: 1 },
    { s: 2, e: 2 },
    { s: 3, e: 4 },
    { s: 5, e: 5 },
    { s: 6, e: 6 },
    { s: 7, e: 7 },
  ]);
  const committed = await dev.commit(session.body.push_id);
  expect(committed.status).toBe(200);
  expect(committed.body.row_count).toBe(8);
  const segs = await h.database.query(`SELECT count(*)::int AS n FROM sync.push_session_segments`);
  expect(segs.rows[0]).toEqual({ n: 0 });
  const tags = await h.database.query<{ name: string; color: string | null; weight: number | null }>(
    `SELECT name, color, weight FROM business.tags ORDER BY name`,
  );
  // The partial UPDATE changed color only; weight kept its value.
  expect(tags.rows).toEqual([
    { name: 'keep', color: 'c1', weight: 1 },
    { name: 'new', color: 'n', weight: null },
    { name: 'new2', color: 'n2', weight: null },
  ]);
  const users = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.users`);
  expect(users.rows[0]!.n).toBe(3);
  const ops = (await dev.committedRows(2)).body.rows.map((r: { table: string; op: string }) => `${r.table}:${r.op}`);
  expect(ops.sort()).toEqual([
    'projects:INSERT',
    'tags:DELETE',
    'tags:INSERT',
    'tags:INSERT',
    'tags:UPDATE',
    'users:INSERT',
    'users:INSERT',
    'users:INSERT',
  ]);
});
