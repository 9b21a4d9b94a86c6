/**
 * `bundle_hash` for the server's hot path: streams the exact bytes of
 * `protocol/hashes.ts#bundleHashMaterial` into SHA-256 without building the whole document,
 * sorting each distinct payload key set once instead of once per row. Equivalence with the
 * protocol module is a test (`test/server/bundle-hash-equivalence.test.ts`).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical-json.ts';
import type { BundleRow, JsonValue } from '../../protocol/wire.ts';

function canonicalValue(v: JsonValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return canonicalJson(v);
}

/** SHA-256 (hex) and UTF-8 byte length of the canonical bundle material of `rows`. */
export function hashBundleRows(rows: readonly BundleRow[]): { bundleHash: string; byteCount: number } {
  const hash = createHash('sha256');
  let byteCount = 0;
  let buffer = '[';
  const sortedKeys = new Map<string, string[]>();
  const flush = () => {
    hash.update(buffer, 'utf8');
    byteCount += Buffer.byteLength(buffer, 'utf8');
    buffer = '';
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let payload = 'null';
    if (row.op !== 'DELETE' && row.payload) {
      const p = row.payload;
      const keys = Object.keys(p);
      const id = keys.join('\u0000');
      let order = sortedKeys.get(id);
      if (!order) sortedKeys.set(id, (order = [...keys].sort()));
      payload = '{';
      for (let k = 0; k < order.length; k++) {
        const name = order[k]!;
        payload += (k ? ',' : '') + JSON.stringify(name) + ':' + canonicalValue(p[name]!);
      }
      payload += '}';
    }
    buffer +=
      (i ? ',' : '') +
      '{"key":' + canonicalJson(row.key) +
      ',"op":' + JSON.stringify(row.op) +
      ',"payload":' + payload +
      ',"row_ordinal":"' + i +
      '","row_version":"' + row.row_version +
      '","schema":' + JSON.stringify(row.schema) +
      ',"table":' + JSON.stringify(row.table) + '}';
    if (buffer.length > 65536) flush();
  }
  buffer += ']';
  flush();
  return { bundleHash: hash.digest('hex'), byteCount };
}
