/**
 * A bundle long enough for the set-based apply's multi-row statements stores every value family exactly as
 * `wireToSqlite` decodes it (type and value): int64 extremes, floats beyond int64 and subnormals,
 * booleans in both encodings, decimals as text, text with escapes, UUIDs as text and as 16-byte
 * BLOB keys/FKs, base64 BLOBs (empty too), nested JSON, NULLs; BLOB keys are deleted set-based too.
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
  i INTEGER, f REAL, b INTEGER, d TEXT, t TEXT, u TEXT, bl BLOB, j TEXT
);`;
const TABLES = [
  { table: 'parents', syncKey: 'id' },
  { table: 'vals', syncKey: 'id', columns: { b: 'boolean' as const, d: 'decimal' as const, u: 'uuid' as const, j: 'json' as const } },
];
const COLS = [
  ['id', 'uuid', true],
  ['parent_id', 'uuid', true],
  ['i', 'integer', false],
  ['f', 'float', false],
  ['b', 'boolean', false],
  ['d', 'decimal', false],
  ['t', 'text', false],
  ['u', 'uuid', false],
  ['bl', 'blob', false],
  ['j', 'json', false],
] as const;

const uuid = (n: number) => `5a1e0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const P = uuid(1);
const samples: Record<string, JsonValue>[] = [
  {
    parent_id: P,
    i: '9223372036854775807',
    f: '0.1',
    b: true,
    d: '12345678901234567890.123456789',
    t: 'quote " backslash \\ newline \n é 😀 \u0001',
    u: uuid(99),
    bl: 'AAECAwQF/w==',
    j: { a: [1, 2.5, 'x'], b: null },
  },
  { parent_id: null, i: '-9223372036854775808', f: '5e-324', b: false, d: '-0.5', t: '', u: null, bl: '', j: 'just a string' },
  { parent_id: P, i: '9007199254740993', f: '1.7976931348623157e+308', b: '1', d: '0', t: '[1,2]', u: uuid(98), bl: '/w==', j: 42 },
  { parent_id: P, i: '0', f: '1e+21', b: '0', d: '1e5', t: 'null', u: uuid(97), bl: 'AA==', j: [] },
  { parent_id: P, i: '-1', f: '-9300000000000000000', b: null, d: null, t: null, u: null, bl: null, j: null },
  { parent_id: null, i: '123456789012345678', f: '56955077168786320', b: true, d: '3.14', t: 'a', u: uuid(96), bl: 'AAAA', j: false },
];
// Enough rows for several multi-row statements of the apply (51 rows of 10 values each): the first
// ones hold non-ASCII text (UTF-8 longer than the string), the third only ASCII, then the tail of 7 rows (4, 2, 1).
const valRows = Array.from({ length: 160 }, (_, n) => ({
  ...samples[n < 80 ? n % samples.length : 1 + (n % (samples.length - 1))]!,
  id: uuid(100 + n),
}));

it('stores every family exactly as wireToSqlite decodes it, and deletes BLOB keys', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const deleted = valRows
    .slice(0, 10)
    .map((p, n) => ({ schema: 'main', table: 'vals', key: { id: p.id }, op: 'DELETE', row_version: 500 + n, payload: null }));
  const bundle = [
    { schema: 'main', table: 'parents', key: { id: P }, op: 'INSERT', row_version: 1, payload: { id: P, label: 'p' } },
    ...valRows.map((p, n) => ({ schema: 'main', table: 'vals', key: { id: p.id }, op: 'INSERT', row_version: 10 + n, payload: p })),
    ...deleted,
  ];
  s.server.on('GET', '/sync/pull', {
    status: 200,
    body: { stable_bundle_seq: 1, has_more: false, bundles: [{ bundle_seq: 1, source_id: 'x', source_bundle_id: 1, rows: bundle }] },
  });
  await expect(s.engine.pullToStable()).resolves.toMatchObject({ checkpoint: 1 });

  const kept = valRows.slice(10);
  const stored = s.db.exec({
    sql: `SELECT ${COLS.map(([c]) => `typeof(${c}), ${c}`).join(', ')} FROM vals ORDER BY id`,
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  expect(stored.length).toBe(kept.length);
  const sqlType = (v: unknown) => (v === null ? 'null' : v instanceof Uint8Array ? 'blob' : typeof v === 'string' ? 'text' : 'num');
  const norm = (v: unknown) =>
    v instanceof Uint8Array ? [...v].map((x) => x.toString(16).padStart(2, '0')).join('') : typeof v === 'bigint' ? v.toString() : v;
  kept.forEach((p, ri) => {
    COLS.forEach(([name, family, asBlob], ci) => {
      const want = wireToSqlite(family, (p as Record<string, JsonValue>)[name] ?? null, name, asBlob);
      const [type, got] = [stored[ri]![ci * 2], stored[ri]![ci * 2 + 1]];
      const where = `vals.${name} row ${ri}`;
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
  expect(rows(s.db, 'SELECT COUNT(*) AS n, SUM(deleted) AS d FROM _sync_row_state WHERE table_name = ?', ['vals'])).toEqual([
    { n: 160, d: 10 },
  ]);
});
