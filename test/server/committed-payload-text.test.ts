// Committed payloads are stored as canonical JSON text and travel as that text: the bundle hash
// the server computes from the stored text, the committed-rows and pull responses it splices from
// it, and the protocol module's hash of what a client receives all agree — for awkward strings,
// floats PostgreSQL writes differently from ECMAScript (exponents, -0, denormals), every value
// family, json columns (parsed path), and rows stored by an older server version.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleHash, bundleHashMaterial } from '../../protocol/hashes.ts';
import { canonicalFloatString } from '../../protocol/values.ts';
import type { BundleRow, PushRow } from '../../protocol/wire.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';

const SCHEMA = `
CREATE SCHEMA business;
CREATE TYPE business.mood AS ENUM ('ok', 'sad "quoted"');
CREATE TABLE business.values_plain (
  _sync_scope_id text NOT NULL, id text NOT NULL,
  t text, vc varchar(40), ch char(3), i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
  dec numeric(30,9), b boolean, u uuid, bin bytea, ts timestamptz, tsl timestamp, d date, tm time,
  PRIMARY KEY (_sync_scope_id, id));
CREATE TABLE business.values_json (
  _sync_scope_id text NOT NULL, id text NOT NULL, doc jsonb, raw json, mood business.mood,
  PRIMARY KEY (_sync_scope_id, id));
`;
const TABLES = [
  { schema: 'business', table: 'values_json', syncKey: 'id' },
  { schema: 'business', table: 'values_plain', syncKey: 'id' },
];

const AWKWARD = [
  '',
  'plain',
  'quote " back \\ slash',
  'tab\tnew\nline\r',
  '\u0001\u001f\u007f ctrl',
  '<>&',
  '\u2028\u2029',
  'emoji 😀',
  'é',
  '\uffff',
  '"',
  '\\u0041',
];
const FLOATS = [
  0,
  0.1,
  1.5,
  -2.25,
  1e15,
  1e16,
  1e20,
  1e21,
  1.5e300,
  -1e-7,
  1e-5,
  0.000015,
  1e-6,
  1.234e-6,
  5e-324,
  1.7976931348623157e308,
  123456789012345680000,
  2 ** 53 + 2,
  1 / 3,
];

let h: StartedSyncServer;
let dev: RawSyncClient;
let sourceBundleId = 0;
beforeAll(async () => {
  h = await startSyncServer({ purpose: 'committed_payload_text', schemaSql: SCHEMA, tables: TABLES });
  dev = new RawSyncClient(h.baseUrl, h.tokenFor('payload-user'), 'device-payload');
  await dev.connect(false);
});
afterAll(() => h?.close());

/** Every page of a committed bundle: rows as parsed, and each response body's raw text. */
async function fetchCommitted(seq: number, pageRows: number): Promise<{ rows: BundleRow[]; texts: string[] }> {
  const rows: BundleRow[] = [];
  const texts: string[] = [];
  let after: number | null = null;
  for (;;) {
    const res = await fetch(
      `${h.baseUrl}/sync/committed-bundles/${seq}/rows?max_rows=${pageRows}${after === null ? '' : `&after_row_ordinal=${after}`}`,
      {
        headers: { Authorization: `Bearer ${h.tokenFor('payload-user')}`, 'Oversync-Source-ID': 'device-payload' },
      },
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    texts.push(text);
    const page = JSON.parse(text);
    rows.push(...page.rows);
    after = page.next_row_ordinal;
    if (!page.has_more) return { rows, texts };
  }
}

/** The client's check: the rows it receives hash to bundle_hash; byte_count is the material's size. */
async function expectConsistent(seq: number, rowCount: number): Promise<BundleRow[]> {
  const { rows, texts } = await fetchCommitted(seq, 7);
  expect(rows).toHaveLength(rowCount);
  const log = await h.database.query<{ bundle_hash: string; byte_count: string }>(
    `SELECT bundle_hash, byte_count::text AS byte_count FROM sync.bundle_log WHERE bundle_seq = $1`,
    [seq],
  );
  expect(await bundleHash(rows)).toBe(log.rows[0]!.bundle_hash);
  expect(Number(log.rows[0]!.byte_count)).toBe(Buffer.byteLength(bundleHashMaterial(rows), 'utf8'));
  // Spliced bodies are exactly what JSON.stringify writes for the parsed response.
  for (const text of texts) expect(text).toBe(JSON.stringify(JSON.parse(text)));
  const pulled = await fetch(`${h.baseUrl}/sync/pull?after_bundle_seq=${seq - 1}&target_bundle_seq=${seq}`, {
    headers: { Authorization: `Bearer ${h.tokenFor('payload-user')}`, 'Oversync-Source-ID': 'device-payload' },
  });
  const pullText = await pulled.text();
  expect(pullText).toBe(JSON.stringify(JSON.parse(pullText)));
  expect(JSON.parse(pullText).bundles[0].rows).toEqual(rows);
  return rows;
}

function push(rows: PushRow[]) {
  return dev.push(++sourceBundleId, rows, 1000);
}

it('pushed values of every family: stored text is canonical, hash and responses agree', async () => {
  const rows: PushRow[] = AWKWARD.map((s, i) => ({
    schema: 'business',
    table: 'values_plain',
    key: { id: `k${i}${s}` },
    op: 'INSERT',
    base_row_version: 0,
    payload: {
      id: `k${i}${s}`,
      t: s,
      vc: s.slice(0, 40),
      ch: 'ab',
      i2: String(-i),
      i4: String(i * 1000),
      i8: '9007199254740993',
      f4: '0.5',
      f8: canonicalFloatString(FLOATS[i % FLOATS.length]!),
      dec: '12.5',
      b: i % 2 ? '1' : '0',
      u: 'aaaaaaaa-0000-4000-8000-00000000000' + (i % 10),
      bin: i % 3 ? 'AP8Q' : null,
      ts: '2026-03-24T10:42:11.123456Z',
      tsl: '2026-03-24T10:42:11',
      d: '2026-03-24',
      tm: '10:42:11',
    },
  }));
  const committed = await push(rows);
  expect(committed.status).toBe(200);
  const got = await expectConsistent(committed.body.bundle_seq, rows.length);
  // Canonical member order, compact: each stored payload is its own canonical serialization.
  const stored = await h.database.query<{ p: string }>(
    `SELECT payload::text AS p FROM sync.bundle_rows WHERE bundle_seq = $1 ORDER BY row_ordinal`,
    [committed.body.bundle_seq],
  );
  for (const [i, r] of stored.rows.entries()) {
    const parsed = JSON.parse(r.p);
    expect(Object.keys(parsed)).toEqual(Object.keys(parsed).sort());
    expect(r.p).toBe(JSON.stringify(parsed));
    expect(got[i]!.payload).toEqual(parsed);
  }
});

it('floats PostgreSQL writes in exponent form (or as -0) travel in ECMAScript form, whatever extra_float_digits is', async () => {
  for (const digits of [1, 0, -3]) {
    // (With 15 digits, PostgreSQL writes DBL_MAX as 1.79769313486232e+308, beyond DBL_MAX: not a value that can travel.)
    const values = [...FLOATS, -0, -1e21, -5e-324].filter((v) => digits > 0 || Math.abs(v) !== Number.MAX_VALUE);
    const { bundle } = await h.server.writeAs('payload-user', 'server:floats', async (tx) => {
      await tx.query(`SELECT set_config('extra_float_digits', $1, true)`, [String(digits)]);
      for (const [i, v] of values.entries()) {
        await tx.query(`INSERT INTO business.values_plain (id, f8, f4) VALUES ($1, $2::float8, $3::real)`, [
          `float-${digits}-${i}`,
          String(v),
          String(Number.isFinite(Math.fround(v)) ? Math.fround(v) : 0),
        ]);
      }
    });
    const rows = await expectConsistent(bundle.bundle_seq, values.length);
    // What the wire carried before: Node re-rendering PostgreSQL's text of the same values.
    const text = await h.database.withConnection(async (s) => {
      await s.query(`SELECT set_config('extra_float_digits', $1, false)`, [String(digits)]);
      const r = await s.query<{ t: string; t4: string }>(
        `SELECT x::float8::text AS t, y::real::float8::text AS t4 FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY u(x, y, o) ORDER BY o`,
        [values.map(String), values.map((v) => String(Number.isFinite(Math.fround(v)) ? Math.fround(v) : 0))],
      );
      await s.query('RESET extra_float_digits');
      return r.rows;
    });
    for (const [i, r] of rows.entries()) {
      expect({ i, f8: r.payload!.f8 }).toEqual({ i, f8: canonicalFloatString(Number(text[i]!.t)) });
      expect({ i, f4: r.payload!.f4 }).toEqual({ i, f4: canonicalFloatString(Number(text[i]!.t4)) });
    }
  }
});

it('non-finite floats cannot be committed', async () => {
  for (const v of ['NaN', 'Infinity', '-Infinity']) {
    await expect(
      h.server.writeAs('payload-user', 'server:nonfinite', (tx) =>
        tx.query(`INSERT INTO business.values_plain (id, f8) VALUES ($1, $2::float8)`, [`nf-${v}`, v]),
      ),
    ).rejects.toThrow(/non_finite/);
  }
});

it('json columns and enums take the parsed path; hash and responses still agree', async () => {
  const rows: PushRow[] = AWKWARD.map((s, i) => ({
    schema: 'business',
    table: 'values_json',
    key: { id: `j${i}` },
    op: 'INSERT',
    base_row_version: 0,
    payload: {
      id: `j${i}`,
      doc: { z: 1, a: [s, { '10': 1, '9': 2 }], n: 1.5e21 },
      raw: { b: 2, a: s },
      mood: i % 2 ? 'ok' : 'sad "quoted"',
    },
  }));
  // One bundle mixing a json table and a plain table, updates and deletes.
  rows.push({
    schema: 'business',
    table: 'values_plain',
    key: { id: 'k1plain' },
    op: 'UPDATE',
    base_row_version: 1,
    payload: { id: 'k1plain', t: 'updated' },
  });
  rows.push({ schema: 'business', table: 'values_plain', key: { id: 'k2quote " back \\ slash' }, op: 'DELETE', base_row_version: 1 });
  const committed = await push(rows);
  expect(committed.status).toBe(200);
  const got = await expectConsistent(committed.body.bundle_seq, rows.length);
  expect(got[0]!.payload!.doc).toEqual({ z: 1, a: ['', { '10': 1, '9': 2 }], n: 1.5e21 });
  expect(got.at(-1)).toEqual({
    schema: 'business',
    table: 'values_plain',
    key: { id: 'k2quote " back \\ slash' },
    op: 'DELETE',
    row_version: committed.body.bundle_seq,
  });
});

it('a bundle of json-column rows only (no canonical payload at all) hashes and reads back alike', async () => {
  const rows: PushRow[] = AWKWARD.map((s, i) => ({
    schema: 'business',
    table: 'values_json',
    key: { id: `only${i}` },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: `only${i}`, doc: { [s]: [i, { b: s, a: null }] }, raw: [s], mood: 'ok' },
  }));
  const committed = await push(rows);
  expect(committed.status).toBe(200);
  await expectConsistent(committed.body.bundle_seq, rows.length);
});

it('rows stored by an older server version (json_build_object text) are served and hash as before', async () => {
  const rows: PushRow[] = [0, 1, 2].map((i) => ({
    schema: 'business',
    table: 'values_plain',
    key: { id: `old${i}` },
    op: 'INSERT',
    base_row_version: 0,
    payload: { id: `old${i}`, t: AWKWARD[i + 2]!, f8: '1e+21', b: '1' },
  }));
  const committed = await push(rows);
  const seq = committed.body.bundle_seq;
  const before = await fetchCommitted(seq, 100);
  // Rewrite the stored payloads the way the previous capture triggers wrote them (spaced, table order, PostgreSQL float text).
  await h.database.query(
    `UPDATE sync.bundle_rows r SET payload = json_build_object('id', v.id, 't', v.t, 'vc', v.vc, 'ch', v.ch, 'i2', v.i2::text, 'i4', v.i4::text, 'i8', v.i8::text,
       'f4', v.f4::float8::text, 'f8', v.f8::float8::text, 'dec', v.dec::text, 'b', v.b, 'u', v.u::text, 'bin', translate(encode(v.bin, 'base64'), E'\\n', ''),
       'ts', v.ts, 'tsl', v.tsl, 'd', v.d, 'tm', v.tm)
      FROM business.values_plain v WHERE r.bundle_seq = $1 AND v.id = r.key_text`,
    [seq],
  );
  expect(
    (await h.database.query<{ p: string }>(`SELECT payload::text AS p FROM sync.bundle_rows WHERE bundle_seq = $1 LIMIT 1`, [seq])).rows[0]!
      .p,
  ).toContain('"f8" : "1e+21"');
  const after = await fetchCommitted(seq, 100);
  expect(after.rows).toEqual(before.rows);
  expect(await bundleHash(after.rows)).toBe(committed.body.bundle_hash);
  expect(createHash('sha256').update(bundleHashMaterial(after.rows)).digest('hex')).toBe(committed.body.bundle_hash);
});
