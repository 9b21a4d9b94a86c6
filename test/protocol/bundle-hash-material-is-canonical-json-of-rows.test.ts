// `bundleHashMaterial` splices each row's members as text; it must be byte-identical to the JCS
// canonical JSON of the row objects the protocol describes (members sorted, every value through
// `canonicalJson`), for awkward values too: unicode and escapes, integer-like and unsorted member
// names in nested json, deletes with a payload, missing payloads, envelope values that are not
// strings (a misbehaving server), and a value `canonicalJson` refuses.
import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../protocol/canonical-json.ts';
import { bundleHashMaterial } from '../../protocol/hashes.ts';
import type { BundleRow, JsonValue } from '../../protocol/wire.ts';

function asObjects(rows: readonly BundleRow[]): string {
  return canonicalJson(
    rows.map((row, i) => ({
      key: row.key,
      op: row.op,
      payload: row.op === 'DELETE' ? null : (row.payload ?? null),
      row_ordinal: String(i),
      row_version: String(row.row_version),
      schema: row.schema,
      table: row.table,
    })) as JsonValue,
  );
}

const rows: BundleRow[] = [
  { schema: 'main', table: 'docs', key: { id: 'a' }, op: 'INSERT', row_version: 7, payload: { id: 'a', title: 'plain' } },
  {
    schema: 'main',
    table: 'docs',
    key: { id: 'quote " \\ \u0001 ü 😀 \ud800' },
    op: 'UPDATE',
    row_version: 7,
    payload: { z: '1', a: null, meta: { '10': 1, '2': [true, { b: 1, a: -0 }], é: 'x' } as never },
  },
  { schema: 'main', table: 'docs', key: { id: 'gone' }, op: 'DELETE', row_version: 7, payload: { id: 'gone' } },
  { schema: 'main', table: 'docs', key: { id: 'no payload' }, op: 'INSERT', row_version: 7 },
  { schema: 5, table: ['t'], key: { id: 'odd' }, op: 'MERGE', row_version: 8.5, payload: {} } as unknown as BundleRow,
];

describe('bundle hash material', () => {
  it('is the canonical JSON of the row objects', () => {
    expect(bundleHashMaterial(rows)).toBe(asObjects(rows));
    expect(bundleHashMaterial([])).toBe('[]');
  });

  it('refuses what canonical JSON refuses', () => {
    const bad = [{ ...rows[0]!, payload: { n: Number.NaN } }] as BundleRow[];
    expect(() => asObjects(bad)).toThrow(CanonicalJsonError);
    expect(() => bundleHashMaterial(bad)).toThrow(CanonicalJsonError);
  });
});
