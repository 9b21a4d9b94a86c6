// Rows served to go-json-numbers peers from canonical stored payload text are unquoted in place
// (numeric members `"n":"42"` -> `"n":42`) instead of parsed and re-serialized: for random
// payloads, with text values that contain member-like fragments, quotes, backslashes and
// non-ASCII, the in-place text equals the parse-and-serialize text byte for byte. Randomized: the
// seed is printed.
import { expect, it } from 'vitest';
import type { StoredRowText } from '../../server/runtime/bundle-hash.ts';
import type { Catalog, CatalogColumn, CatalogTable } from '../../server/runtime/catalog.ts';
import { numbersBundleRowText, numbersPayloadText, storedPayload } from '../../server/runtime/numbers-dialect.ts';
import { opName, wireKey } from '../../server/runtime/wire-rows.ts';

function table(tableId: number, name: string, cols: [string, string, CatalogColumn['family']][]): CatalogTable {
  const columns = cols.map(([n, baseType, family]) => ({ name: n, sqlType: baseType, baseType, family }));
  return {
    tableId,
    schema: 'business',
    table: name,
    qualifiedName: `business.${name}`,
    sqlName: `"business"."${name}"`,
    keyColumn: 'id',
    keyKind: 'text',
    columns,
    columnsByName: new Map(columns.map((c) => [c.name, c])),
    floatColumns: columns.filter((c) => c.family === 'float').map((c) => c.name),
  };
}
// Columns in canonical (sorted) order, as the capture stores them.
const t = table(1, 'things', [
  ['a', 'text', 'text'],
  ['d', 'numeric', 'decimal'],
  ['f', 'float8', 'float'],
  ['id', 'text', 'text'],
  ['n', 'int8', 'integer'],
  ['n2', 'int4', 'integer'],
  ['z', 'bool', 'boolean'],
]);
const catalog: Catalog = { tables: [t], byId: new Map([[1, t]]), byName: new Map([['business.things', t]]) };

const TRICKY = ['"n":"5"', '\\"n\\":\\"5\\"', 'x\\', '"', '\\', '","n":"7', 'é 😀 \u2028', '<&>', '', 'n', '"n2":"-1"'];
const NUMBERS = ['0', '-1', '42', '9007199254740993', '-9223372036854775808', '12.30', '1e+21', '1.5e-7', '0.1'];
// Stored float text is already the wire form (canonical-payload.ts).
const FLOATS = ['0', '-1', '42', '9007199254740992', '1e+21', '1.5e-7', '0.1', '-2.5e-300'];

it('unquotes numeric members in place exactly as parsing and re-serializing does', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`[numbers-row-text-equivalence] seed ${seed}`);
  let state = seed;
  const rnd = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  for (let i = 0; i < 2000; i++) {
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const num = () => (rnd(5) === 0 ? null : pick(NUMBERS));
    const payload = {
      a: rnd(4) === 0 ? null : pick(TRICKY) + pick(TRICKY),
      d: num(),
      f: rnd(5) === 0 ? null : pick(FLOATS),
      id: `k${i}${pick(TRICKY)}`,
      n: rnd(5) === 0 ? null : pick(NUMBERS.filter((v) => /^-?\d+$/.test(v))),
      n2: rnd(5) === 0 ? null : String(rnd(1000) - 500),
      z: rnd(3) === 0 ? null : rnd(2) === 0,
    };
    const text = JSON.stringify(payload);
    const row: StoredRowText = { table_id: 1, key_text: payload.id, op_code: 1 + rnd(2), payload: text };
    const served = numbersBundleRowText(catalog, row, 9);
    const expected =
      `{"schema":"business","table":"things","key":${JSON.stringify(wireKey(t, row.key_text))},"op":"${opName(row.op_code)}","row_version":9,` +
      `"payload":${numbersPayloadText(t, storedPayload(t, text))}}`;
    expect(served, `seed ${seed} row ${i}: ${text}`).toBe(expected);
    const parsed = JSON.parse(served).payload;
    expect(parsed.a).toBe(payload.a);
    expect(parsed.n).toBe(payload.n === null ? null : Number(payload.n));
  }
});
