// The bundle hash the server computes from stored payload text (canonical text spliced, other
// text parsed; hashed in batches) equals the protocol module's bundleHashMaterial hash of the same
// rows as a client receives them, for bundles of every size around the batch boundaries, with
// canonical, legacy (spaced, table-ordered) and json-column payloads mixed, and deletes.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { utf8ByteLength } from '../../protocol/canonical-json.ts';
import { bundleHashMaterial } from '../../protocol/hashes.ts';
import type { BundleRow, JsonValue } from '../../protocol/wire.ts';
import { hashStoredRows } from '../../server/runtime/bundle-hash.ts';
import type { StoredRowText } from '../../server/runtime/bundle-hash.ts';
import type { Catalog, CatalogColumn, CatalogTable } from '../../server/runtime/catalog.ts';

function table(tableId: number, name: string, keyColumn: string, cols: [string, string, CatalogColumn['family']][]): CatalogTable {
  const columns = cols.map(([n, baseType, family]) => ({ name: n, sqlType: baseType, baseType, family }));
  return {
    tableId,
    schema: 'business',
    table: name,
    qualifiedName: `business.${name}`,
    sqlName: `"business"."${name}"`,
    keyColumn,
    keyKind: 'text',
    columns,
    columnsByName: new Map(columns.map((c) => [c.name, c])),
    floatColumns: columns.filter((c) => c.family === 'float').map((c) => c.name),
  };
}
const plain = table(1, 'plain', 'id', [
  ['id', 'text', 'text'],
  ['b', 'bool', 'boolean'],
  ['f', 'float8', 'float'],
  ['n', 'int8', 'integer'],
  ['t', 'text', 'text'],
]);
const withJson = table(2, 'docs', 'k', [
  ['k', 'text', 'text'],
  ['doc', 'jsonb', 'json'],
]);
const catalog: Catalog = {
  tables: [plain, withJson],
  byId: new Map([
    [1, plain],
    [2, withJson],
  ]),
  byName: new Map([
    ['business.plain', plain],
    ['business.docs', withJson],
  ]),
};

const STRINGS = ['', 'plain', 'quote " back \\ slash', 'tab\tnew\nline', '\u0001ctrl', '<>&', '\u2028', 'emoji 😀', 'é'];

function rowsOf(n: number, seed: number): { stored: StoredRowText[]; received: BundleRow[] } {
  const stored: StoredRowText[] = [];
  const received: BundleRow[] = [];
  for (let i = 0; i < n; i++) {
    const kind = (i * 7 + seed) % 5;
    const s = STRINGS[(i + seed) % STRINGS.length]!;
    if (kind === 4) {
      stored.push({ table_id: 1, key_text: `del${i}${s}`, op_code: 3, payload: null });
      received.push({ schema: 'business', table: 'plain', key: { id: `del${i}${s}` }, op: 'DELETE', row_version: 9 });
      continue;
    }
    if (kind === 3) {
      const doc: JsonValue = { z: [s, 1.5, null], a: { '10': true, '9': s } };
      stored.push({
        table_id: 2,
        key_text: `doc${i}`,
        op_code: 2,
        payload: `{"doc":${JSON.stringify(doc).replace(/,/g, ', ')},"k":${JSON.stringify(`doc${i}`)}}`,
      });
      received.push({
        schema: 'business',
        table: 'docs',
        key: { k: `doc${i}` },
        op: 'UPDATE',
        row_version: 9,
        payload: { doc, k: `doc${i}` },
      });
      continue;
    }
    const payload = { b: i % 2 === 0, f: String(i / 8), id: `r${i}${s}`, n: String(i * 1000003), t: s };
    // Canonical text (as captured now), or the previous capture's spaced, table-ordered text.
    const text =
      kind === 2
        ? `{"id" : ${JSON.stringify(payload.id)}, "b" : ${payload.b}, "f" : "${payload.f}", "n" : "${payload.n}", "t" : ${JSON.stringify(s)}}`
        : JSON.stringify(payload);
    stored.push({ table_id: 1, key_text: payload.id, op_code: 1, payload: text });
    received.push({ schema: 'business', table: 'plain', key: { id: payload.id }, op: 'INSERT', row_version: 9, payload });
  }
  return { stored, received };
}

it('equals the protocol hash for bundles of 1 to 1,000 rows of mixed payload kinds', () => {
  for (const n of [1, 2, 5, 255, 256, 257, 511, 512, 513, 1000]) {
    for (const seed of [0, 1, 2, 3]) {
      const { stored, received } = rowsOf(n, seed);
      const material = bundleHashMaterial(received);
      expect({ n, seed, ...hashStoredRows(catalog, stored, 9) }).toEqual({
        n,
        seed,
        bundleHash: createHash('sha256').update(material).digest('hex'),
        byteCount: utf8ByteLength(material),
      });
    }
  }
});
