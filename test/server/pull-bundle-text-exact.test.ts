// Pull bodies: the rows of bundles whose payloads are stored as canonical text are joined into wire
// text by PostgreSQL (committed-rows.ts `readRowPiece`); other bundles (a json column) go row by
// row through Node. Either way the body is exactly JSON.stringify of the response, and every row is
// byte for byte the row `GET /sync/committed-bundles/{seq}/rows` serves (the row-by-row path), for
// awkward keys and text, mixed bundles in one page, and pages cut by max_bundles.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TABLE business.measures (
  _sync_scope_id text NOT NULL, code text NOT NULL, label text, x double precision, n bigint, ok boolean, blob bytea, at timestamptz,
  PRIMARY KEY (_sync_scope_id, code));
CREATE TABLE business.items (
  _sync_scope_id text NOT NULL, id uuid NOT NULL, label text, PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.docs (
  _sync_scope_id text NOT NULL, name text NOT NULL, body jsonb, PRIMARY KEY (_sync_scope_id, name));
`;
const TABLES = [
  { schema: 'business', table: 'measures', syncKey: 'code' },
  { schema: 'business', table: 'items', syncKey: 'id' },
  { schema: 'business', table: 'docs', syncKey: 'name' },
];
const AWKWARD = [
  'plain',
  'quote " and \\ backslash',
  'line\nbreak\ttab\r\b\f',
  'ctrl \u0001\u001f\u007f',
  'é ü 中文',
  'astral 😀',
  'sep \u2028\u2029',
  '</script>&<>',
  '',
];

let h: StartedSyncServer;
let dev: RawSyncClient;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'pull_text', schemaSql: SCHEMA, tables: TABLES });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('uma'), 'device-1');
  await dev.connect(false);
  // Bundle 1: canonical rows with awkward keys and values. Bundle 2: a json column (row by row).
  // Bundle 3: updates and deletes of canonical rows.
  await h.server.writeAs('uma', 'server:seed', async (tx) => {
    for (const [i, t] of AWKWARD.entries()) {
      await tx.query('INSERT INTO business.measures (code, label, x, n, ok, blob, at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        `key ${t}`,
        t,
        i === 3 ? null : i / 3,
        i === 0 ? '9007199254740993' : String(-i),
        i % 3 === 0 ? null : i % 2 === 0,
        Buffer.from([i, 255, 0]),
        '2026-03-24T10:42:11.123456Z',
      ]);
      await tx.query('INSERT INTO business.items (id, label) VALUES ($1, $2)', [
        `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        t,
      ]);
    }
  });
  await h.server.writeAs('uma', 'server:docs', async (tx) => {
    for (const t of AWKWARD)
      await tx.query('INSERT INTO business.docs (name, body) VALUES ($1, $2)', [`doc ${t}`, JSON.stringify({ t, n: [1, 2.5] })]);
  });
  await h.server.writeAs('uma', 'server:edits', async (tx) => {
    await tx.query("UPDATE business.measures SET label = label || ' edited' WHERE code LIKE 'key q%' OR code = 'key '");
    await tx.query("DELETE FROM business.measures WHERE code IN ('key plain', 'key astral 😀')");
  });
});
afterAll(() => h?.close());

async function rawPull(query: string): Promise<string> {
  const res = await fetch(`${h.baseUrl}/sync/pull${query}`, { headers: dev.headers() });
  expect(res.status).toBe(200);
  return res.text();
}

/** The row texts of a JSON array member, as JSON.stringify writes each. */
const rowTexts = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r));

it('pull bodies are JSON.stringify of the response, each row as committed-rows serves it', async () => {
  for (const query of ['?after_bundle_seq=0&max_bundles=10', '?after_bundle_seq=0&max_bundles=1', '?after_bundle_seq=1&max_bundles=2']) {
    const text = await rawPull(query);
    const page = JSON.parse(text) as { bundles: { bundle_seq: number; rows: unknown[] }[] };
    expect(text).toBe(JSON.stringify(page));
    expect(page.bundles.length).toBeGreaterThan(0);
    for (const b of page.bundles) {
      const committed = await dev.committedRows(b.bundle_seq, '?max_rows=1000');
      expect(committed.status).toBe(200);
      expect(rowTexts(b.rows)).toEqual(rowTexts(committed.body.rows));
    }
  }
  const all = JSON.parse(await rawPull('?after_bundle_seq=0&max_bundles=10')) as {
    bundles: { rows: { key: Record<string, string>; op: string }[] }[];
  };
  expect(all.bundles.map((b) => b.rows.length)).toEqual([AWKWARD.length * 2, AWKWARD.length, 4]);
  expect(all.bundles[0]!.rows.filter((r) => r.key.code !== undefined).map((r) => r.key.code)).toEqual(AWKWARD.map((t) => `key ${t}`));
  expect(all.bundles[0]!.rows.filter((r) => r.key.id !== undefined)).toHaveLength(AWKWARD.length);
  expect(
    all.bundles[2]!.rows.filter((r) => r.op === 'DELETE')
      .map((r) => r.key.code)
      .sort(),
  ).toEqual(['key astral 😀', 'key plain']);
});

it('a bundle of thousands of rows (joined in pieces) comes whole, in row order, as committed-rows serves it', async () => {
  const big = new RawSyncClient(h.baseUrl, h.tokenFor('ulla'), 'device-2');
  await big.connect(false);
  const n = 2_600;
  // One bundle whose rows alternate between two tables, with awkward text, then one of edits.
  await h.server.writeAs('ulla', 'server:big', async (tx) => {
    await tx.query(
      `INSERT INTO business.measures (code, label, n)
       SELECT 'k' || lpad(i::text, 5, '0'), $1 || i, i FROM generate_series(0, $2::int - 1) AS i`,
      [AWKWARD[1], n / 2],
    );
    await tx.query(
      `INSERT INTO business.items (id, label)
       SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, $1 || i FROM generate_series(0, $2::int - 1) AS i`,
      [AWKWARD[4], n / 2],
    );
  });
  const text = await (await fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=0&max_bundles=10`, { headers: big.headers() })).text();
  const page = JSON.parse(text) as { bundles: { bundle_seq: number; row_count: number; rows: unknown[] }[] };
  expect(text).toBe(JSON.stringify(page));
  expect(page.bundles).toHaveLength(1);
  const [bundle] = page.bundles;
  expect(bundle!.rows).toHaveLength(n);
  expect(bundle!.row_count).toBe(n);
  const committed: unknown[] = [];
  for (let query = '?max_rows=1000'; ;) {
    const res = await big.committedRows(bundle!.bundle_seq, query);
    expect(res.status).toBe(200);
    const body = res.body as { rows: unknown[]; has_more: boolean; next_row_ordinal: number };
    committed.push(...body.rows);
    if (!body.has_more) break;
    query = `?max_rows=1000&after_row_ordinal=${body.next_row_ordinal}`;
  }
  expect(rowTexts(bundle!.rows)).toEqual(rowTexts(committed));
});
