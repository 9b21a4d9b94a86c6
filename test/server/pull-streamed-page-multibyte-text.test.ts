// A streamed pull page (committed-rows.ts `streamedPage`) is written to the socket as one UTF-8
// buffer per piece, sized from its parts' byte lengths: text of 2-, 3- and 4-byte characters
// (a surrogate pair in JS) in every row, across bundles cut into pieces, arrives byte for byte as
// the UTF-8 of JSON.stringify of the page, every label intact.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.items (
  _sync_scope_id text NOT NULL, id uuid NOT NULL, label text, PRIMARY KEY (_sync_scope_id, id));
`;
const TABLES = [{ schema: 'business', table: 'items', syncKey: 'id' }];
const label = (i: number): string => `é€😀 ${i} ${'ж'.repeat(i % 7)}"\\`;

let h: StartedSyncServer;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_multibyte', schemaSql: SCHEMA, tables: TABLES });
});
afterAll(() => h?.close());

it('a streamed page of multibyte text arrives as the exact UTF-8 of its JSON', async () => {
  const dev = new RawSyncClient(h.baseUrl, h.tokenFor('mona'), 'device-1');
  await dev.connect(false);
  for (const [from, count] of [
    [0, 1700],
    [1700, 900],
  ] as const) {
    await h.server.writeAs('mona', `server:items-${from}`, async (tx) => {
      await tx.query(
        `INSERT INTO business.items (id, label)
         SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, $3 || i || ' ' || repeat('ж', i % 7) || '"\\'
           FROM generate_series($1::int, $2::int) AS i`,
        [from, from + count - 1, 'é€😀 '],
      );
    });
  }
  const res = await fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=10`, { headers: dev.headers() });
  expect(res.status).toBe(200);
  expect(res.headers.get('transfer-encoding')).toBe('chunked');
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const page = JSON.parse(text) as { bundles: { rows: { key: { id: string }; payload: { label: string } }[] }[] };
  expect(bytes.equals(Buffer.from(JSON.stringify(page), 'utf8'))).toBe(true);
  const rows = page.bundles.flatMap((b) => b.rows);
  expect(rows).toHaveLength(2600);
  for (const row of rows) expect(row.payload.label).toBe(label(Number(row.key.id.slice(-12))));
});
