// Snapshot chunks of hundreds of rows over two tables: every chunk body is exactly JSON.stringify
// of its response, rows come in ordinal order without gaps or repeats whatever the cursor (also
// one no earlier chunk ended at), row limit and byte cut, and paging through with any limits
// yields the same rows as paging one row at a time.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalJson, utf8ByteLength } from '../../protocol/canonical-json.ts';
import type { JsonValue } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.alpha (_sync_scope_id text NOT NULL, id text NOT NULL, body text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.beta (_sync_scope_id text NOT NULL, id text NOT NULL, n bigint, PRIMARY KEY (_sync_scope_id, id));
`;
const TABLES = [
  { schema: 'business', table: 'alpha', syncKey: 'id' },
  { schema: 'business', table: 'beta', syncKey: 'id' },
];
const ALPHA = 203;
const BETA = 141;

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_cursor_cut', schemaSql: SCHEMA, tables: TABLES });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('pia'), 'device-1');
  await dev.connect(false);
  await h.server.writeAs('pia', 'server:seed', async (tx) => {
    // Bodies of varying length and awkward text, so byte cuts fall between rows of any size.
    await tx.query(
      `INSERT INTO business.alpha (id, body) SELECT 'a' || lpad(g::text, 4, '0'), repeat('x" é 😀\\n', g % 17) || g FROM generate_series(1, $1) g`,
      [ALPHA],
    );
    await tx.query(`INSERT INTO business.beta (id, n) SELECT 'b' || lpad(g::text, 4, '0'), g * 1000003 FROM generate_series(1, $1) g`, [
      BETA,
    ]);
  });
});
afterAll(() => h?.close());

async function rawChunk(id: string, after: number, maxRows: number, maxBytes: number): Promise<string> {
  const res = await fetch(
    `${h.baseUrl}/sync/snapshot-sessions/${id}?after_row_ordinal=${after}&max_rows=${maxRows}&max_bytes=${maxBytes}`,
    {
      headers: { Authorization: `Bearer ${h.tokenFor('pia')}`, 'Oversync-Source-ID': 'device-1' },
    },
  );
  expect(res.status).toBe(200);
  return res.text();
}

const rowBytes = (row: unknown) => utf8ByteLength(canonicalJson(row as JsonValue));

/** Every row of the session paged with these limits, each chunk checked on its own. */
async function readAll(id: string, first: number, maxRows: number, maxBytes: number): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (let after = first; ;) {
    const body = await rawChunk(id, after, maxRows, maxBytes);
    const c = JSON.parse(body);
    expect(body).toBe(JSON.stringify(c));
    expect(c.rows.length).toBeGreaterThan(0);
    expect(c.rows.length).toBeLessThanOrEqual(maxRows);
    expect(c.next_row_ordinal).toBe(after + c.rows.length);
    expect(c.byte_count).toBe(c.rows.reduce((n: number, r: unknown) => n + rowBytes(r), 0));
    // Cut by bytes only where the next row would pass the limit (a first row always goes).
    if (c.rows.length > 1) expect(c.byte_count).toBeLessThanOrEqual(maxBytes);
    rows.push(...c.rows);
    after = c.next_row_ordinal;
    if (!c.has_more) return rows;
  }
}

it('serves the same rows in order, exactly, for any cursor, row limit and byte cut', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  expect(s.body.row_count).toBe(ALPHA + BETA);
  const id: string = s.body.snapshot_id;
  const oneByOne = await readAll(id, 0, 1, 16 * 1024 * 1024);
  expect(oneByOne).toHaveLength(ALPHA + BETA);
  expect(oneByOne.reduce((n: number, r) => n + rowBytes(r), 0)).toBe(s.body.byte_count);
  // Snapshot order: tables in catalog order, keys in byte order.
  const ids = oneByOne.map((r) => (r as { key: { id: string } }).key.id);
  expect(ids).toEqual([...ids].sort());
  expect(ids[0]).toBe('a0001');
  expect(ids[ALPHA]).toBe('b0001');

  for (const [first, maxRows, maxBytes] of [
    [0, 5000, 16 * 1024 * 1024], // the whole snapshot in one chunk
    [0, 64, 16 * 1024 * 1024],
    [0, 65, 16 * 1024 * 1024], // chunks straddling the two tables
    [37, 200, 16 * 1024 * 1024], // a cursor no chunk ended at
    [0, 5000, 9000], // cut by bytes
    [100, 130, 2500],
  ] as const) {
    const rows = await readAll(id, first, maxRows, maxBytes);
    expect(rows).toEqual(oneByOne.slice(first));
  }

  // Past the end: an empty chunk with no more rows.
  const end = JSON.parse(await rawChunk(id, ALPHA + BETA, 100, 1024));
  expect(end).toMatchObject({ rows: [], next_row_ordinal: ALPHA + BETA, byte_count: 0, has_more: false });
});
