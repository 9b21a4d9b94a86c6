/**
 * Rendering stored rows for `go-json-numbers` peers. Payloads are stored in the strings dialect
 * (integer, real and decimal values as canonical decimal strings); for numbers peers those members
 * are written as bare JSON numbers with exactly the stored digits, and `bundle_hash` is the
 * go-oversync material over the payload as served (protocol/go-json-hash.ts).
 */
import { createHash } from 'node:crypto';
import { goJsonBundleHashMaterial } from '../../protocol/go-json-hash.ts';
import type { BundleRow, JsonValue, WirePayload } from '../../protocol/wire.ts';
import type { StoredRowText } from './bundle-hash.ts';
import { canonicalPrefix } from './canonical-payload.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import { finishPayload, opName, wireKey } from './wire-rows.ts';

/** A JSON number token (what a numeric column's stored text must be to travel bare). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

const numericByTable = new WeakMap<CatalogTable, ReadonlySet<string>>();

/** Columns of `table` that travel as JSON numbers in the numbers dialect (integer, float, decimal). */
function numericColumns(table: CatalogTable): ReadonlySet<string> {
  let s = numericByTable.get(table);
  if (!s) {
    s = new Set(table.columns.filter((c) => c.family === 'integer' || c.family === 'float' || c.family === 'decimal').map((c) => c.name));
    numericByTable.set(table, s);
  }
  return s;
}

function isBareNumber(numeric: ReadonlySet<string>, name: string, v: JsonValue | undefined): v is string {
  return typeof v === 'string' && numeric.has(name) && JSON_NUMBER.test(v);
}

/** JSON text of a finished (strings-dialect) payload with its numeric members as bare numbers. */
export function numbersPayloadText(table: CatalogTable, payload: WirePayload): string {
  const numeric = numericColumns(table);
  let out = '{';
  let first = true;
  for (const name of Object.keys(payload)) {
    const v = payload[name];
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(name) + ':' + (isBareNumber(numeric, name, v) ? v : JSON.stringify(v));
    first = false;
  }
  return out + '}';
}

/** The payload as a numbers peer decodes it (numeric members as float64), for the hash material. */
function numbersPayloadValue(table: CatalogTable, payload: WirePayload): WirePayload {
  const numeric = numericColumns(table);
  const out: WirePayload = {};
  for (const name of Object.keys(payload)) {
    const v = payload[name]!;
    out[name] = isBareNumber(numeric, name, v) ? Number(v) : v;
  }
  return out;
}

/** Parses and finishes a stored payload text (numeric members stay strings: exact). */
export function storedPayload(table: CatalogTable, text: string): WirePayload {
  return finishPayload(table, JSON.parse(text) as Record<string, JsonValue>);
}

const unquoters = new WeakMap<CatalogTable, RegExp | null>();

/**
 * For a table whose stored payloads are canonical text (canonical-payload.ts: compact, no json
 * columns, floats already in wire form), a pattern matching its numeric members `"col":"<number>"`.
 * In compact JSON a `"name":"` sequence only occurs as a member (inside a string every quote is
 * escaped), so unquoting the matches is the same as parsing and re-serializing, without the parse.
 */
function unquoterOf(table: CatalogTable): RegExp | null {
  let re = unquoters.get(table);
  if (re === undefined) {
    const names = [...numericColumns(table)];
    re =
      canonicalPrefix(table) !== null && names.length > 0
        ? new RegExp(`"(${names.join('|')})":"(-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)"`, 'g')
        : null;
    unquoters.set(table, re);
  }
  return re;
}

/** Wire text of a stored bundle row for a numbers peer (same member order as the strings rendering). */
export function numbersBundleRowText(catalog: Catalog, r: StoredRowText, rowVersion: number): string {
  const table = catalog.byId.get(r.table_id)!;
  const head = `{"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)},"key":${JSON.stringify(wireKey(table, r.key_text))},"op":"${opName(r.op_code)}","row_version":${rowVersion}`;
  if (r.op_code === 3 || r.payload === null) return `${head}}`;
  const prefix = canonicalPrefix(table);
  if (prefix !== null && r.payload.startsWith(prefix)) {
    const re = unquoterOf(table);
    return `${head},"payload":${re ? r.payload.replace(re, '"$1":$2') : r.payload}}`;
  }
  return `${head},"payload":${numbersPayloadText(table, storedPayload(table, r.payload))}}`;
}

/**
 * `bundle_hash` (and material byte length) of stored rows as a go-oversync 1f1118f peer computes it
 * from the rows this server serves it.
 */
export function goJsonHashStoredRows(
  catalog: Catalog,
  rows: readonly StoredRowText[],
  bundleSeq: number,
): { bundleHash: string; byteCount: number } {
  const logical: BundleRow[] = rows.map((r) => {
    const table = catalog.byId.get(r.table_id)!;
    const row: BundleRow = {
      schema: table.schema,
      table: table.table,
      key: wireKey(table, r.key_text),
      op: opName(r.op_code),
      row_version: bundleSeq,
    };
    if (r.op_code !== 3 && r.payload !== null) row.payload = numbersPayloadValue(table, storedPayload(table, r.payload));
    return row;
  });
  const text = goJsonBundleHashMaterial(logical);
  return { bundleHash: createHash('sha256').update(text, 'utf8').digest('hex'), byteCount: Buffer.byteLength(text, 'utf8') };
}

/**
 * A finished payload as a JSON value for a numbers peer, for responses serialized with
 * `JSON.stringify` (the `server_row` of a push conflict): numeric members become numbers where a
 * float64 carries them exactly; an integer beyond 2^53 or a longer decimal stays a string rather
 * than be rounded.
 */
export function numbersPayloadJson(table: CatalogTable, payload: WirePayload): WirePayload {
  const numeric = numericColumns(table);
  const out: WirePayload = {};
  for (const name of Object.keys(payload)) {
    const v = payload[name]!;
    if (!isBareNumber(numeric, name, v)) {
      out[name] = v;
      continue;
    }
    const n = Number(v);
    const family = table.columnsByName.get(name)!.family;
    const exact =
      family === 'float' ||
      (family === 'integer' ? Number.isSafeInteger(n) : v.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length <= 15);
    out[name] = exact ? n : v;
  }
  return out;
}
