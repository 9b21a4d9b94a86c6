/**
 * The two dialects of oversync v1 that peers speak today. One server process serves both; a client
 * speaks the dialect of the server it talks to.
 */

/**
 * How INTEGER/REAL values travel and how `bundle_hash` material is built.
 *
 * - `'go-json-numbers'`: go-oversync at commit 1f1118f (its server library, example server and Go
 *   `oversqlite` client). Integer and real column values are JSON numbers (float64 on the Go side:
 *   exact only up to 2^53); hash material is Go `encoding/json` output with counters as numbers and
 *   `& < >` U+2028 U+2029 escaped (see `go-json-hash.ts`); push sessions carry no
 *   `canonical_request_hash`; a pull past the latest bundle answers 200 with an empty page.
 * - `'jcs-numeric-strings'`: the `jcs_uniform_numeric_strings_v1` contract fixtures (SQLiteNow
 *   OverSqlite Kotlin/Dart clients, and this project's own client and server by default). Integer
 *   and real values are canonical decimal strings (exact int64); hash material is RFC 8785 JCS with
 *   counters as strings (see `hashes.ts`); push sessions carry `canonical_request_hash`; a pull past
 *   the latest bundle answers 409 `checkpoint_ahead`.
 */
export type WireDialect = 'go-json-numbers' | 'jcs-numeric-strings';

/** Every dialect, in a stable order (for validation and docs). */
export const WIRE_DIALECTS: readonly WireDialect[] = ['go-json-numbers', 'jcs-numeric-strings'];

/** True when `value` names a dialect. */
export function isWireDialect(value: unknown): value is WireDialect {
  return value === 'go-json-numbers' || value === 'jcs-numeric-strings';
}
