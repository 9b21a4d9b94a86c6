/**
 * The set-based snapshot apply decodes staged values in SQL (CAST, unhex, JSON text); every value
 * family must end up stored exactly as `wireToSqlite` decodes it (type and value):
 * int64 extremes, floats whose shortest form looks like an integer or needs an exponent,
 * subnormals, booleans in both encodings, decimals kept as text, text with escapes and non-ASCII,
 * UUIDs as text and as 16-byte BLOB keys/FKs, base64 BLOBs (empty too), nested JSON, NULLs.
 * Rows of two tables are interleaved across several chunks. row_state gets each key and version.
 * Keys are hex of 16 bytes, so ordering by the BLOB key matches ordering the wire rows by key hex.
 */
import { expect, it } from 'vitest';
import { wireToSqlite } from '../../protocol/index.ts';
import type { JsonValue } from '../../protocol/index.ts';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const SCHEMA = `
CREATE TABLE parents (id BLOB PRIMARY KEY NOT NULL, label TEXT);
CREATE TABLE vals (
  id BLOB PRIMARY KEY NOT NULL,
  parent_id BLOB REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED,
  i INTEGER, f REAL, b INTEGER, d TEXT, t TEXT, ts TEXT, u TEXT, bl BLOB, j TEXT
);`;
const TABLES = [
  { table: 'parents', syncKey: 'id' },
  {
    table: 'vals',
    syncKey: 'id',
    columns: { b: 'boolean' as const, d: 'decimal' as const, ts: 'timestamp' as const, u: 'uuid' as const, j: 'json' as const },
  },
];
// Families as the engine derives them (BLOB key / BLOB FK = UUID stored as 16 bytes).
const FAMILIES = {
  parents: [
    ['id', 'uuid', true],
    ['label', 'text', false],
  ],
  vals: [
    ['id', 'uuid', true],
    ['parent_id', 'uuid', true],
    ['i', 'integer', false],
    ['f', 'float', false],
    ['b', 'boolean', false],
    ['d', 'decimal', false],
    ['t', 'text', false],
    ['ts', 'timestamp', false],
    ['u', 'uuid', false],
    ['bl', 'blob', false],
    ['j', 'json', false],
  ],
} as const;

const uuid = (n: number) => `5a1e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const P1 = uuid(1);
const P2 = uuid(2);
const valRows: Record<string, JsonValue>[] = [
  {
    id: uuid(11),
    parent_id: P1,
    i: '9223372036854775807',
    f: '0.1',
    b: true,
    d: '12345678901234567890.123456789',
    t: 'quote " backslash \\ newline \n tab \t é 😀 \u0001',
    ts: '2026-11-25T08:00:00.123Z',
    u: uuid(99),
    bl: 'AAECAwQF/w==',
    j: { a: [1, 2.5, 'x'], b: null, c: { d: true }, e: 'é' },
  },
  {
    id: uuid(12),
    parent_id: P2,
    i: '-9223372036854775808',
    f: '5e-324',
    b: false,
    d: '-0.5',
    t: '',
    ts: '',
    u: null,
    bl: '',
    j: 'just a string',
  },
  {
    id: uuid(13),
    parent_id: P1,
    i: '9007199254740993',
    f: '1.7976931348623157e+308',
    b: '1',
    d: '0',
    t: '[1,2]',
    ts: 'x',
    u: uuid(98),
    bl: '/w==',
    j: 42,
  },
  { id: uuid(14), parent_id: null, i: '0', f: '56955077168786320', b: '0', d: '1e5', t: 'null', ts: 't', u: uuid(97), bl: 'AA==', j: [] },
  { id: uuid(15), parent_id: P2, i: '-1', f: '1e+21', b: null, d: null, t: null, ts: null, u: null, bl: null, j: null },
  {
    id: uuid(16),
    parent_id: P1,
    i: '123456789012345678',
    f: '-1.23e-18',
    b: true,
    d: '3.14',
    t: 'a',
    ts: 'b',
    u: uuid(96),
    bl: 'AAAA',
    j: false,
  },
  {
    id: uuid(17),
    parent_id: P1,
    i: null,
    f: '2.2250738585072014e-308',
    b: false,
    d: '-7',
    t: 'z',
    ts: 'y',
    u: uuid(95),
    bl: 'AAE=',
    j: 0.5,
  },
];
const snapshotRows = [
  { schema: 'main', table: 'parents', key: { id: P1 }, row_version: 3, payload: { id: P1, label: 'one' } },
  ...valRows.slice(0, 3).map((p, n) => ({ schema: 'main', table: 'vals', key: { id: p.id }, row_version: 100 + n, payload: p })),
  { schema: 'main', table: 'parents', key: { id: P2 }, row_version: 4, payload: { id: P2, label: null } },
  ...valRows.slice(3).map((p, n) => ({ schema: 'main', table: 'vals', key: { id: p.id }, row_version: 103 + n, payload: p })),
];

it('stores every family exactly as wireToSqlite decodes it', async () => {
  const s = await openEngine(SCHEMA, TABLES, { snapshotChunkRows: 3 });
  await attachStartedEmpty(s);
  const total = snapshotRows.length;
  s.server.always('DELETE', /^\/sync\/snapshot-sessions\//, { status: 204 });
  s.server.on('POST', '/sync/snapshot-sessions', {
    status: 200,
    body: { snapshot_id: 'v1', snapshot_bundle_seq: 9, row_count: total, byte_count: 1, expires_at: '2099-01-01T00:00:00Z' },
  });
  s.server.always('GET', '/sync/snapshot-sessions/v1', (req) => {
    const after = Number(req.query.after_row_ordinal);
    const part = snapshotRows.slice(after, after + Number(req.query.max_rows));
    return {
      status: 200,
      body: {
        snapshot_id: 'v1',
        snapshot_bundle_seq: 9,
        rows: part,
        next_row_ordinal: after + part.length,
        byte_count: 1,
        has_more: after + part.length < total,
      },
    };
  });
  await expect(s.engine.hydrate()).resolves.toMatchObject({ outcome: 'applied_snapshot', checkpoint: 9, rowsApplied: total });
  expect(s.server.requestsTo('GET', '/sync/snapshot-sessions/v1').length).toBe(3);

  // Reference: wireToSqlite's value for each column, compared with what SQLite stored (type and
  // exact value). Not a row-by-row bind: sqlite-wasm binds integer-valued doubles through int64,
  // which wraps at 2^63 (1e21 would be stored as 3.875820019684212736e18).
  const sqlType = (v: unknown) => (v === null ? 'null' : v instanceof Uint8Array ? 'blob' : typeof v === 'string' ? 'text' : 'num');
  const norm = (v: unknown) =>
    v instanceof Uint8Array ? [...v].map((x) => x.toString(16).padStart(2, '0')).join('') : typeof v === 'bigint' ? v.toString() : v;
  for (const [table, cols] of Object.entries(FAMILIES)) {
    const wire = snapshotRows.filter((x) => x.table === table);
    const stored = s.db.exec({
      sql: `SELECT ${cols.map((c) => `typeof(${c[0]}), ${c[0]}`).join(', ')} FROM ${table} ORDER BY id`,
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    expect(stored.length).toBe(wire.length);
    const expected = wire
      .map((r) =>
        cols.map(([name, family, asBlob]) => wireToSqlite(family, (r.payload as Record<string, JsonValue>)[name] ?? null, name, asBlob)),
      )
      .sort((a, b) => norm(a[0]!)!.toString().localeCompare(norm(b[0]!)!.toString()));
    stored.forEach((row, ri) => {
      cols.forEach(([name, family], ci) => {
        const want = expected[ri]![ci];
        const [type, got] = [row[ci * 2], row[ci * 2 + 1]];
        const where = `${table}.${name} row ${ri}`;
        if (sqlType(want) === 'num') {
          expect(type, where).toBe(family === 'float' ? 'real' : 'integer');
          if (family === 'float') expect(Object.is(got, want), `${where}: ${String(got)} vs ${String(want)}`).toBe(true);
          else expect(BigInt(got as number | bigint), where).toBe(BigInt(want as number | bigint));
        } else {
          expect(type, where).toBe(sqlType(want));
          expect(norm(got), where).toEqual(norm(want));
        }
      });
    });
  }
  // Spot checks that the comparison really sees types and exact values.
  expect(
    rows(
      s.db,
      `SELECT typeof(i) AS ti, CAST(i AS TEXT) AS i, typeof(f) AS tf, typeof(bl) AS tb, length(id) AS kl FROM vals WHERE id = unhex('${uuid(12).replace(/-/g, '')}')`,
    ),
  ).toEqual([{ ti: 'integer', i: '-9223372036854775808', tf: 'real', tb: 'blob', kl: 16 }]);
  expect(rows(s.db, `SELECT typeof(f) AS tf, f FROM vals WHERE id = unhex('${uuid(14).replace(/-/g, '')}')`)).toEqual([
    { tf: 'real', f: 56955077168786320 },
  ]);
  expect(rows(s.db, `SELECT f FROM vals WHERE id = unhex('${uuid(15).replace(/-/g, '')}')`)).toEqual([{ f: 1e21 }]);

  const states = rows(s.db, 'SELECT table_name, key_json, row_version, deleted FROM _sync_row_state ORDER BY row_version');
  expect(states).toEqual(
    snapshotRows
      .map((r) => ({
        table_name: r.table,
        key_json: JSON.stringify({ id: String(r.key.id).replace(/-/g, '') }),
        row_version: r.row_version,
        deleted: 0,
      }))
      .sort((a, b) => a.row_version - b.row_version),
  );
  expect(rows(s.db, 'SELECT COUNT(*) AS n FROM _sync_snapshot_stage')).toEqual([{ n: 0 }]);
});
