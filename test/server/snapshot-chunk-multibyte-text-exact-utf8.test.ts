// A snapshot chunk (snapshot-sessions.ts `stringsSnapshotChunk`) is written to the socket as one
// UTF-8 buffer sized from its parts' byte lengths: text of 2-, 3- and 4-byte characters (a
// surrogate pair in JS) in every row, read in chunks cut by rows and by bytes, arrives byte for
// byte as the UTF-8 of JSON.stringify of each chunk with the matching Content-Length, through the
// Node adapter and through the fetch handle alike, every label intact.
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
const ROWS = 2600;
const label = (i: number): string => `é€😀 ${i} ${'ж'.repeat(i % 7)}"\\`;

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_multibyte', schemaSql: SCHEMA, tables: TABLES });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('nora'), 'device-1');
  await dev.connect(false);
  await h.server.writeAs('nora', 'server:items', async (tx) => {
    await tx.query(
      `INSERT INTO business.items (id, label)
       SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, $2 || i || ' ' || repeat('ж', i % 7) || '"\\'
         FROM generate_series(0, $1::int - 1) AS i`,
      [ROWS, 'é€😀 '],
    );
  });
});
afterAll(() => h?.close());

interface Chunk {
  rows: { key: { id: string }; payload: { label: string } }[];
  next_row_ordinal: number;
  byte_count: number;
  has_more: boolean;
}

/** One chunk's bytes checked as exact UTF-8 of its JSON, with its length header. */
function exactChunk(bytes: Buffer, contentLength: string | null): Chunk {
  expect(Number(contentLength)).toBe(bytes.length);
  const chunk = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Chunk;
  expect(bytes.equals(Buffer.from(JSON.stringify(chunk), 'utf8'))).toBe(true);
  expect(chunk.byte_count).toBe(chunk.rows.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0));
  return chunk;
}

/** Every row of the session, in chunks of `query`'s limits, each read by `get`. */
async function readAll(get: (after: number) => Promise<Response>): Promise<Chunk['rows']> {
  const rows: Chunk['rows'] = [];
  let chunks = 0;
  for (let after = 0; ; chunks++) {
    const res = await get(after);
    expect(res.status).toBe(200);
    const chunk = exactChunk(Buffer.from(await res.arrayBuffer()), res.headers.get('content-length'));
    rows.push(...chunk.rows);
    after = chunk.next_row_ordinal;
    if (!chunk.has_more) break;
  }
  expect(chunks).toBeGreaterThan(1);
  return rows;
}

function expectAllLabels(rows: Chunk['rows']): void {
  expect(rows).toHaveLength(ROWS);
  for (const row of rows) expect(row.payload.label).toBe(label(Number(row.key.id.slice(-12))));
}

it('chunks of multibyte text arrive as the exact UTF-8 of their JSON over HTTP', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  const id = s.body.snapshot_id as string;
  for (const limits of ['max_rows=1000', 'max_bytes=20000']) {
    const rows = await readAll((after) =>
      fetch(`${h.baseUrl}/sync/snapshot-sessions/${id}?after_row_ordinal=${after}&${limits}`, { headers: dev.headers() }),
    );
    expectAllLabels(rows);
  }
});

it('chunks of multibyte text come out of the fetch handle as the same exact UTF-8', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  const id = s.body.snapshot_id as string;
  const rows = await readAll(async (after) => {
    const res = await h.server.handle(
      new Request(`http://local/sync/snapshot-sessions/${id}?after_row_ordinal=${after}&max_rows=999`, {
        headers: { 'Oversync-Source-ID': 'device-1' },
      }),
      { userId: 'nora' },
    );
    // A fetch Response from bytes carries no Content-Length header of its own: check the length read.
    const bytes = Buffer.from(await res.arrayBuffer());
    return new Response(bytes, { status: res.status, headers: { 'content-length': String(bytes.length) } });
  });
  expectAllLabels(rows);
});
