/**
 * The two hashes of the protocol, both SHA-256 (lowercase hex) over canonical JSON:
 * - `canonical_request_hash`: what the client intends to push (sent on push-session create and
 *   echoed back, so a retried create can prove it is the same bundle);
 * - `bundle_hash`: what the server committed (the client recomputes it before replay).
 *
 * Counters inside the hashed material are decimal strings (`"row_ordinal":"0"`), per the
 * `jcs_uniform_numeric_strings_v1` contract.
 */
import { canonicalJson } from './canonical-json.ts';
import { bytesToHex } from './values.ts';
import type { BundleRow, JsonValue, PushRow } from './wire.ts';

/** Canonical text hashed into `canonical_request_hash` for push rows starting at ordinal 0. */
export function pushRequestHashMaterial(rows: readonly PushRow[]): string {
  const items: JsonValue[] = rows.map((row, i) => ({
    base_row_version: String(row.base_row_version),
    key: row.key,
    op: row.op,
    payload: row.op === 'DELETE' ? null : (row.payload ?? null),
    row_ordinal: String(i),
    schema: row.schema,
    table: row.table,
  }));
  return canonicalJson(items);
}

/** Canonical text hashed into `bundle_hash` for the committed rows of one bundle, in bundle order. */
export function bundleHashMaterial(rows: readonly BundleRow[]): string {
  // Each row is the canonical JSON of {key, op, payload, row_ordinal, row_version, schema, table},
  // spliced member by member in that (sorted) order: the same text as `canonicalJson` of the
  // objects, without building them and sorting their members again (a client verifying a
  // downloaded bundle of 100,000 rows hashes it this way).
  const items = rows.map(
    (row, i) =>
      `{"key":${canonicalJson(row.key)},"op":${canonicalJson(row.op)},"payload":${canonicalJson(row.op === 'DELETE' ? null : (row.payload ?? null))},` +
      `"row_ordinal":"${i}","row_version":${canonicalJson(String(row.row_version))},"schema":${canonicalJson(row.schema)},"table":${canonicalJson(row.table)}}`,
  );
  return `[${items.join(',')}]`;
}

/** SHA-256 of the UTF-8 bytes of `text`, as lowercase hex. Uses Web Crypto (browser and Node). */
export async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/** `canonical_request_hash` of push rows. */
export function pushRequestHash(rows: readonly PushRow[]): Promise<string> {
  return sha256Hex(pushRequestHashMaterial(rows));
}

/** `bundle_hash` of committed rows. */
export function bundleHash(rows: readonly BundleRow[]): Promise<string> {
  return sha256Hex(bundleHashMaterial(rows));
}
