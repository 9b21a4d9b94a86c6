// Chunk validation judges every row on its own, however many rows of the same table and shape
// precede it: a bad row after good ones gets exactly the message it gets alone (with its index),
// and a long chunk whose rows vary in spelling (schema and table in other cases, lowercase op, uppercase column
// names, key left out of the payload, a different column set) stages and commits each row as
// if it were alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

let h: StartedSyncServer;
let dev: RawSyncClient;
let sbid = 0;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'push_chunk_validation_long' });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('val'), 'device-v');
  await dev.connect(false);
});
afterAll(() => h?.close());

const good = (name: string): Record<string, unknown> => ({
  schema: 'business',
  table: 'tags',
  key: { name },
  op: 'INSERT',
  base_row_version: 0,
  payload: { name, color: 'blue', weight: '3', meta: null },
});
const U = 'aaaaaaaa-0000-4000-8000-00000000000a';

const bad: Array<[string, (r: Record<string, unknown>) => Record<string, unknown>]> = [
  ['unknown column', (r) => ({ ...r, payload: { ...(r.payload as object), bogus: 'x' } })],
  ['hidden scope column', (r) => ({ ...r, payload: { ...(r.payload as object), _sync_scope_id: 'x' } })],
  ['number for integer column', (r) => ({ ...r, payload: { ...(r.payload as object), weight: 5 } })],
  ['int4 out of range', (r) => ({ ...r, payload: { ...(r.payload as object), weight: '2147483648' } })],
  ['number for text column', (r) => ({ ...r, payload: { ...(r.payload as object), color: 7 } })],
  ['key/payload mismatch', (r) => ({ ...r, payload: { ...(r.payload as object), name: 'other' } })],
  [
    'same names, bad value',
    (r) => ({ ...r, payload: { name: (r.key as { name: string }).name, color: 'blue', weight: '3.5', meta: null } }),
  ],
  ['bad op', (r) => ({ ...r, op: 'UPSERT' })],
  ['unknown table', (r) => ({ ...r, table: 'nope' })],
  ['payload on DELETE', (r) => ({ ...r, op: 'DELETE' })],
  ['duplicate key', () => good('g0')],
  ['uppercase duplicate of a column', (r) => ({ ...r, payload: { ...(r.payload as object), COLOR: 'red' } })],
  [
    'non-canonical uuid key',
    () => ({ schema: 'business', table: 'users', key: { id: U.toUpperCase() }, op: 'DELETE', base_row_version: 0 }),
  ],
];

async function chunkError(rows: unknown[]): Promise<string> {
  const s = await dev.createPush(sbid + 1, rows.length);
  const r = await dev.chunk(s.body.push_id, 0, rows);
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('push_chunk_invalid');
  const staged = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync.push_session_rows WHERE push_id = $1`, [
    s.body.push_id,
  ]);
  expect(staged.rows[0]!.n).toBe(0);
  await dev.deletePush(s.body.push_id);
  return r.body.message as string;
}

it.each(bad)('%s after 50 good rows: the message it gets alone, at its index', async (_name, spoil) => {
  const lead = Array.from({ length: 50 }, (_, i) => good(`g${i}`));
  const late = await chunkError([...lead, spoil(good('x'))]);
  // A duplicate is only a duplicate after its twin.
  if (_name === 'duplicate key') return expect(late).toBe('rows[50]: duplicate row for business.tags key "g0" in one chunk');
  const alone = await chunkError([spoil(good('x'))]);
  expect(alone.startsWith('rows[0]: ')).toBe(true);
  expect(late).toBe(alone.replace('rows[0]: ', 'rows[50]: '));
});

it('a long chunk of varied spellings stages and commits every row as written alone', async () => {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    const name = `v${i}`;
    const variant = i % 5;
    if (variant === 0) rows.push(good(name));
    if (variant === 1)
      rows.push({
        schema: ' BUSINESS ',
        table: 'TAGS',
        key: { name },
        op: ' insert ',
        base_row_version: 0,
        payload: { name, color: null, weight: String(i), meta: { i } },
      });
    if (variant === 2)
      rows.push({
        schema: 'Business',
        table: 'tags',
        key: { name },
        op: 'INSERT',
        base_row_version: 0,
        payload: { NAME: name, Color: 'red', weight: '1', meta: null },
      });
    if (variant === 3)
      rows.push({
        schema: 'business',
        table: 'tags',
        key: { name },
        op: 'INSERT',
        base_row_version: 0,
        payload: { color: 'green', weight: '2' },
      });
    if (variant === 4)
      rows.push({
        schema: 'business',
        table: 'tags',
        key: { name },
        op: 'INSERT',
        base_row_version: 0,
        payload: { weight: '4', name, meta: [1, 2] },
      });
  }
  rows.push({
    schema: 'business',
    table: 'users',
    key: { id: U },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: U, name: 'Val', created_at: '2026-01-01T00:00:00Z' },
  });
  const committed = await dev.push(++sbid, rows, 1000);
  expect(committed.status).toBe(200);
  const page = await dev.committedRows(committed.body.bundle_seq, '?max_rows=5000');
  const byName = new Map(
    page.body.rows.map((r: { key: Record<string, string>; payload: Record<string, unknown> }) => [r.key.name ?? r.key.id, r.payload]),
  );
  expect(byName.get('v0')).toEqual({ name: 'v0', color: 'blue', weight: '3', meta: null });
  expect(byName.get('v1')).toEqual({ name: 'v1', color: null, weight: '1', meta: { i: 1 } });
  expect(byName.get('v2')).toEqual({ name: 'v2', color: 'red', weight: '1', meta: null });
  expect(byName.get('v3')).toEqual({ name: 'v3', color: 'green', weight: '2', meta: null });
  expect(byName.get('v4')).toEqual({ name: 'v4', color: null, weight: '4', meta: [1, 2] });
  expect(byName.get(U)).toMatchObject({ id: U, name: 'Val' });
  // Each column set applied as its own statement: the rows that left columns out kept their defaults.
  const segments = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags WHERE color IS NULL`);
  expect(segments.rows[0]!.n).toBe(16);
});
