/**
 * `bundle_hash` material as go-oversync 1f1118f builds it (the `go-json-numbers` dialect): the
 * committed rows become objects `{row_ordinal, schema, table, key, op, row_version, payload}` that
 * Go's `encoding/json` marshals, decodes into `any` and marshals again. So:
 * - counters and payload numbers are float64 (an integer beyond 2^53 rounds as float64 does) and
 *   print as Go does: `'f'` form for 1e-6 <= |x| < 1e21, exponent form (`1e+21`, `1e-7`) outside,
 *   and `-0` keeps its sign;
 * - strings are escaped as Go does with HTML escaping on: `<` `>` `&` U+2028 U+2029 as `\u003c`
 *   `\u003e` `\u0026` `\u2028` `\u2029`, `\b \f \n \r \t` short, other controls `\u00XX`; a lone
 *   UTF-16 surrogate (Go decoded it from `\udXXX`) becomes U+FFFD;
 * - object members are sorted by the UTF-8 bytes of their names; no whitespace.
 * Test vectors: `test/protocol/go-json-hash-vectors.json`, produced by Go itself.
 */
import { CanonicalJsonError } from './canonical-json.ts';
import { sha256Hex } from './hashes.ts';
import type { BundleRow, JsonValue } from './wire.ts';

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `JSON.stringify` escapes as Go does (quote, backslash, `\b \f \n \r \t` short, other controls
 * `\u00xx` in lowercase hex) but for Go's HTML escapes, added here, and lone surrogates, which Go
 * decoded as U+FFFD.
 */
function escapeString(s: string): string {
  return JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`non-finite number ${n}`);
  if (Object.is(n, -0)) return '-0';
  // ECMAScript's shortest round-trip form uses the same digits and the same fixed/exponent
  // thresholds (1e-6, 1e21) as Go's encoding/json; only -0 differs (handled above).
  return String(n);
}

/** Code-point order equals UTF-8 byte order (UTF-16 code-unit order differs above U+E000). */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    // A surrogate (a code point >= U+10000) sorts after every BMP code unit that is not one.
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}

/** Serializes `value` the way go-oversync canonicalizes JSON (Go `encoding/json`, sorted keys). */
export function goCanonicalJson(value: JsonValue): string {
  switch (typeof value) {
    case 'string':
      return escapeString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return formatNumber(value);
    case 'object': {
      if (value === null) return 'null';
      // A number kept as text by the exact parser (`ExactJsonNumber`): the float64 Go would parse.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return goCanonicalJson((value as unknown as { toJSON(): JsonValue }).toJSON());
      if (Array.isArray(value)) return `[${value.map(goCanonicalJson).join(',')}]`;
      const members: [string, JsonValue][] = [];
      for (const k of Object.keys(value)) {
        const v = value[k];
        if (v === undefined) throw new CanonicalJsonError(`member "${k}" is undefined`);
        // Names sort as Go sees them: lone surrogates already replaced.
        members.push([k.replace(LONE_SURROGATE, '\ufffd'), v]);
      }
      members.sort((a, b) => compareUtf8(a[0], b[0]));
      let out = '{';
      for (let i = 0; i < members.length; i++) {
        if (i > 0) out += ',';
        out += escapeString(members[i]![0]) + ':' + goCanonicalJson(members[i]![1]);
      }
      return out + '}';
    }
    default:
      throw new CanonicalJsonError(`unsupported value of type ${typeof value}`);
  }
}

/**
 * Text hashed into `bundle_hash` by go-oversync 1f1118f for the committed rows of one bundle, in
 * bundle order (row_ordinal = index). Payload numbers are JS numbers: parse served payload text
 * with `JSON.parse`, which rounds to float64 exactly as Go's decoder does.
 */
export function goJsonBundleHashMaterial(rows: readonly BundleRow[]): string {
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const payload: JsonValue = row.op === 'DELETE' ? null : (row.payload ?? null);
    if (i > 0) out += ',';
    // Members in UTF-8 order: key, op, payload, row_ordinal, row_version, schema, table.
    out +=
      '{"key":' +
      goCanonicalJson(row.key) +
      ',"op":' +
      escapeString(row.op) +
      ',"payload":' +
      goCanonicalJson(payload) +
      ',"row_ordinal":' +
      formatNumber(i) +
      ',"row_version":' +
      formatNumber(row.row_version) +
      ',"schema":' +
      escapeString(row.schema) +
      ',"table":' +
      escapeString(row.table) +
      '}';
  }
  return out + ']';
}

/** `bundle_hash` of committed rows in the `go-json-numbers` dialect (SHA-256, lowercase hex). */
export function goJsonBundleHash(rows: readonly BundleRow[]): Promise<string> {
  return sha256Hex(goJsonBundleHashMaterial(rows));
}
