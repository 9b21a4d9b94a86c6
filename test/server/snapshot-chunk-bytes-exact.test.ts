// Snapshot chunk bytes: rows built as wire text in SQL (and, for values SQL cannot render as
// Node does, in Node) give chunk bodies that are exactly JSON.stringify of the response, for every
// value family and awkward text.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalJson, utf8ByteLength } from '../../protocol/canonical-json.ts';
import type { JsonValue } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.notes (
  _sync_scope_id text NOT NULL, id uuid NOT NULL, title text, n bigint, amount numeric(20,6), ok boolean,
  blob bytea, at timestamptz, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.measures (
  _sync_scope_id text NOT NULL, code text NOT NULL, x double precision, y real, PRIMARY KEY (_sync_scope_id, code));
CREATE TABLE business.docs (
  _sync_scope_id text NOT NULL, name text NOT NULL, body jsonb, raw json, PRIMARY KEY (_sync_scope_id, name));
`;
const TABLES = [
  { schema: 'business', table: 'notes', syncKey: 'id' },
  { schema: 'business', table: 'measures', syncKey: 'code' },
  { schema: 'business', table: 'docs', syncKey: 'name' },
];
const AWKWARD = [
  'plain',
  'quote " and \\ backslash',
  'line\nbreak\ttab',
  'ctrl \u0001\u001f',
  'é ü 中文',
  'astral 😀',
  'sep \u2028\u2029',
  '</script>',
  '',
];

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'snapshot_bytes', schemaSql: SCHEMA, tables: TABLES });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('ivy'), 'device-1');
  await dev.connect(false);
  await h.server.writeAs('ivy', 'server:seed', async (tx) => {
    for (const [i, t] of AWKWARD.entries()) {
      await tx.query(`INSERT INTO business.notes (id, title, n, amount, ok, blob, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        randomUUID(),
        t,
        i === 0 ? '9007199254740993' : String(-i),
        i % 2 ? '12.5' : '-0.000001',
        i % 3 === 0 ? null : i % 2 === 0,
        Buffer.from([i, 255, 0, 10]),
        '2026-03-24T10:42:11.123456Z',
      ]);
    }
    // Floats PostgreSQL writes in exponent form or as -0 are rendered in Node; the others in SQL.
    const floats: [string, number | null, number | null][] = [
      ['a', 0.1, 1.5],
      ['b', 1e21, 3.4e38],
      ['c', -0, -0],
      ['d', 5e-324, 1e-7],
      ['e', 123456789.125, null],
      ['f', 1e15, 0.25],
      ['g', null, null],
    ];
    for (const [code, x, y] of floats) await tx.query(`INSERT INTO business.measures (code, x, y) VALUES ($1, $2, $3)`, [code, x, y]);
    for (const [i, t] of AWKWARD.entries()) {
      await tx.query(`INSERT INTO business.docs (name, body, raw) VALUES ($1, $2, $3)`, [
        `doc ${t}`,
        JSON.stringify({ t, nested: [1, 2.5, { z: null, a: true }], n: 1e21 }),
        i % 2 ? `{ "spaced" :  [1,  2], "t": ${JSON.stringify(t)} }` : null,
      ]);
    }
  });
});
afterAll(() => h?.close());

async function rawChunk(id: string, query: string): Promise<string> {
  const res = await fetch(`${h.baseUrl}/sync/snapshot-sessions/${id}${query}`, {
    headers: { Authorization: `Bearer ${h.tokenFor('ivy')}`, 'Oversync-Source-ID': 'device-1' },
  });
  expect(res.status).toBe(200);
  return res.text();
}

/** Every chunk body of a session, paged with the given limits. */
async function readAll(id: string, maxRows: number, maxBytes: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let after = 0; ;) {
    const text = await rawChunk(id, `?after_row_ordinal=${after}&max_rows=${maxRows}&max_bytes=${maxBytes}`);
    bodies.push(text);
    const c = JSON.parse(text);
    after = c.next_row_ordinal;
    if (!c.has_more) return bodies;
  }
}

const rowBytes = (row: unknown) => utf8ByteLength(canonicalJson(row as JsonValue));

it('serves chunk bodies that are exactly JSON.stringify of the response, with exact byte counts', async () => {
  const s = await dev.createSnapshot();
  expect(s.status).toBe(200);
  expect(s.body.row_count).toBe(AWKWARD.length * 2 + 7);
  let total = 0;
  const rows: any[] = [];
  for (const [maxRows, maxBytes] of [
    [5000, 16 * 1024 * 1024],
    [3, 4 * 1024 * 1024],
    [50, 300],
  ]) {
    rows.length = 0;
    for (const body of await readAll(s.body.snapshot_id, maxRows!, maxBytes!)) {
      const c = JSON.parse(body);
      expect(body).toBe(JSON.stringify(c));
      expect(c.byte_count).toBe(c.rows.reduce((n: number, r: unknown) => n + rowBytes(r), 0));
      rows.push(...c.rows);
    }
    total = rows.reduce((n, r) => n + rowBytes(r), 0);
    expect(rows).toHaveLength(s.body.row_count);
    expect(total).toBe(s.body.byte_count);
  }
  const measures = Object.fromEntries(rows.filter((r) => r.table === 'measures').map((r) => [r.key.code, r.payload]));
  expect(measures).toEqual({
    a: { code: 'a', x: '0.1', y: '1.5' },
    b: { code: 'b', x: '1e+21', y: '3.3999999521443642e+38' },
    c: { code: 'c', x: '0', y: '0' },
    d: { code: 'd', x: '5e-324', y: '1.0000000116860974e-7' },
    e: { code: 'e', x: '123456789.125', y: null },
    f: { code: 'f', x: '1000000000000000', y: '0.25' },
    g: { code: 'g', x: null, y: null },
  });
  const notes = rows.filter((r) => r.table === 'notes');
  expect(notes.map((r) => r.payload.title).sort()).toEqual([...AWKWARD].sort());
  const first = notes.find((r) => r.payload.title === 'plain');
  expect(first.payload).toEqual({
    id: first.key.id,
    title: 'plain',
    n: '9007199254740993',
    amount: '-0.000001',
    ok: null,
    blob: 'AP8ACg==',
    at: '2026-03-24T10:42:11.123456+00:00',
  });
  const doc = rows.find((r) => r.table === 'docs' && r.key.name === 'doc line\nbreak\ttab');
  expect(doc.payload).toEqual({
    name: 'doc line\nbreak\ttab',
    body: { t: 'line\nbreak\ttab', nested: [1, 2.5, { z: null, a: true }], n: 1e21 },
    raw: null,
  });
  const quoted = rows.find((r) => r.table === 'docs' && r.key.name === `doc ${AWKWARD[1]}`);
  expect(quoted.payload.raw).toEqual({ spaced: [1, 2], t: AWKWARD[1] });
});
