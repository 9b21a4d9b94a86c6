/**
 * `bundle_hash` for the server's hot path. The canonical material of
 * `protocol/hashes.ts#bundleHashMaterial` is produced by the engine's native `JSON.stringify`
 * over objects whose members are created in canonical (sorted) order, which emits exactly the
 * canonical bytes. Objects with integer-like member names (which JavaScript enumerates first,
 * numerically) cannot be ordered that way; bundles containing one use the protocol module's
 * serializer. Equivalence is a test (`test/server/bundle-hash-equivalence.test.ts`).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical-json.ts';
import { bundleHashMaterial } from '../../protocol/hashes.ts';
import type { BundleRow, JsonValue } from '../../protocol/wire.ts';
import { canonicalPrefix } from './canonical-payload.ts';
import type { Catalog } from './catalog.ts';
import { finishPayload } from './wire-rows.ts';

const INTEGER_LIKE = /^(0|[1-9]\d*)$/;

/** Thrown internally when a value cannot be canonically ordered by member creation order. */
class NeedsSlowPath extends Error {}

function sortedClone(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortedClone);
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(v).sort()) {
    if (INTEGER_LIKE.test(k)) throw new NeedsSlowPath();
    out[k] = sortedClone(v[k]!);
  }
  return out;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sorted member order of payload shapes, for the rows of one bundle: they usually share one shape,
 * so the previous row's member names are compared first (cheap, interned strings) before building
 * the shape's map key. Throws `NeedsSlowPath` for integer-like member names (JS would reorder them).
 */
function memberOrders(): (p: Record<string, JsonValue>) => Record<string, JsonValue> {
  const orders = new Map<string, string[]>();
  let lastKeys: string[] = [];
  let lastOrder: string[] = [];
  return (p) => {
    const keys = Object.keys(p);
    let order: string[] | undefined;
    if (sameNames(keys, lastKeys)) order = lastOrder;
    else {
      const id = keys.join('\u0000');
      order = orders.get(id);
      if (!order) {
        order = [...keys].sort();
        if (order.some((k) => INTEGER_LIKE.test(k))) throw new NeedsSlowPath();
        orders.set(id, order);
      }
      lastKeys = keys;
      lastOrder = order;
    }
    const out: Record<string, JsonValue> = {};
    for (const k of order) {
      const v = p[k]!;
      out[k] = v !== null && typeof v === 'object' ? sortedClone(v) : v;
    }
    return out;
  };
}

function material(rows: readonly BundleRow[]): string {
  const sorted = memberOrders();
  const items = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const payload = row.op !== 'DELETE' && row.payload ? sorted(row.payload) : null;
    const keyNames = Object.keys(row.key);
    if (keyNames.length !== 1 || INTEGER_LIKE.test(keyNames[0]!)) throw new NeedsSlowPath();
    items[i] = {
      key: row.key,
      op: row.op,
      payload,
      row_ordinal: String(i),
      row_version: String(row.row_version),
      schema: row.schema,
      table: row.table,
    };
  }
  return JSON.stringify(items);
}

/** SHA-256 (hex) and UTF-8 byte length of the canonical bundle material of `rows`. */
export function hashBundleRows(rows: readonly BundleRow[]): { bundleHash: string; byteCount: number } {
  let text: string;
  try {
    text = material(rows);
  } catch (err) {
    if (!(err instanceof NeedsSlowPath)) throw err;
    text = bundleHashMaterial(rows);
  }
  return { bundleHash: createHash('sha256').update(text, 'utf8').digest('hex'), byteCount: Buffer.byteLength(text, 'utf8') };
}

/** Canonical JSON text of `value` (same bytes as `protocol/canonical-json.ts`), natively serialized when possible. */
export function fastCanonicalJson(value: JsonValue): string {
  try {
    return JSON.stringify(sortedClone(value));
  } catch (err) {
    if (!(err instanceof NeedsSlowPath)) throw err;
    return canonicalJson(value);
  }
}

/**
 * Canonical text of parsed payloads, for rows of one bundle: the member order of the previous
 * payload's shape is reused (as in `material`), nested values are sorted clones.
 */
function payloadTexts(): (p: Record<string, JsonValue>) => string {
  const sorted = memberOrders();
  return (p) => {
    try {
      return JSON.stringify(sorted(p));
    } catch (err) {
      if (!(err instanceof NeedsSlowPath)) throw err;
      return canonicalJson(p);
    }
  };
}

/** A stored bundle row with its payload as stored JSON text (null for DELETE). */
export interface StoredRowText {
  table_id: number;
  key_text: string;
  op_code: number;
  payload: string | null;
}

const OP_NAME: readonly BundleRow['op'][] = ['INSERT', 'INSERT', 'UPDATE', 'DELETE'];

function isCanonicalText(catalog: Catalog, tableId: number, payload: string): boolean {
  const prefix = canonicalPrefix(catalog.byId.get(tableId)!);
  return prefix !== null && payload.startsWith(prefix);
}

const OP_MEMBER = ['', '},"op":"INSERT","payload":', '},"op":"UPDATE","payload":', '},"op":"DELETE","payload":'];

/**
 * `hashBundleRows` of stored rows, from their stored payload text: a canonical payload (see
 * canonical-payload.ts) is spliced into the material as it is; any other payload is parsed,
 * finished and serialized canonically. Each item is written in canonical member order (key, op,
 * payload, row_ordinal, row_version, schema, table), exactly as `bundleHashMaterial` orders it.
 */
export function hashStoredRows(
  catalog: Catalog,
  rows: readonly StoredRowText[],
  bundleSeq: number,
): { bundleHash: string; byteCount: number } {
  // Without a single canonical payload (json-column tables only, or rows of an older server
  // version), one serialization of the parsed rows is cheaper than one per row.
  if (!rows.some((r) => r.op_code !== 3 && r.payload !== null && isCanonicalText(catalog, r.table_id, r.payload))) {
    return hashBundleRows(
      rows.map((row) => {
        const table = catalog.byId.get(row.table_id)!;
        const out: BundleRow = {
          schema: table.schema,
          table: table.table,
          key: { [table.keyColumn]: row.key_text },
          op: OP_NAME[row.op_code]!,
          row_version: bundleSeq,
        };
        if (row.op_code !== 3 && row.payload !== null)
          out.payload = finishPayload(table, JSON.parse(row.payload) as Record<string, JsonValue>);
        return out;
      }),
    );
  }
  const heads = new Map<number, { head: string; tail: string; prefix: string | null }>();
  const parsedPayloadText = payloadTexts();
  // The material is hashed in batches of items: no multi-megabyte string is built (a third of
  // the time of hashing one joined string, mostly garbage collection).
  const hash = createHash('sha256');
  let byteCount = 0;
  let batch: string[] = [];
  const flush = (last: string): void => {
    batch.push(last);
    const text = batch.join('');
    hash.update(text, 'utf8');
    byteCount += Buffer.byteLength(text, 'utf8');
    batch = [];
  };
  const version = `","row_version":"${bundleSeq}"`;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let t = heads.get(row.table_id);
    if (!t) {
      const table = catalog.byId.get(row.table_id)!;
      t = {
        head: `{"key":{${JSON.stringify(table.keyColumn)}:`,
        tail: `,"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)}}`,
        prefix: canonicalPrefix(table),
      };
      heads.set(row.table_id, t);
    }
    let payload: string;
    if (row.op_code === 3 || row.payload === null) payload = 'null';
    else if (t.prefix !== null && row.payload.startsWith(t.prefix)) payload = row.payload;
    else payload = parsedPayloadText(finishPayload(catalog.byId.get(row.table_id)!, JSON.parse(row.payload) as Record<string, JsonValue>));
    const item = `${i === 0 ? '[' : ','}${t.head}${JSON.stringify(row.key_text)}${OP_MEMBER[row.op_code]}${payload},"row_ordinal":"${i}${version}${t.tail}`;
    if (batch.length === 255) flush(item);
    else batch.push(item);
  }
  flush(rows.length === 0 ? '[]' : ']');
  return { bundleHash: hash.digest('hex'), byteCount };
}
