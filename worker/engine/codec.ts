/**
 * Conversions between the three forms a row takes in the engine:
 * - local payload JSON (what the capture triggers write, see `capture.ts`),
 * - wire payload (v1 encoding from `protocol/values.ts`),
 * - SQLite bind values for writing the row into its table.
 * Plus key conversions (`key_json` ⇄ wire key ⇄ SQLite key value). Every failure is a typed
 * `SyncError` naming the table and column, raised before anything is written.
 */
import {
  bytesToBase64,
  bytesToHex,
  bytesToUuid,
  canonicalFloatString,
  ExactJsonNumber,
  hexToBytes,
  invalidDecimalCategory,
  isCanonicalUuid,
  uuidToBytes,
  WireValueError,
  wireToSqlite,
} from '../../protocol/index.ts';
import type { JsonValue, SqliteValue, WireKey, WirePayload } from '../../protocol/index.ts';
import type { EngineContext } from './context.ts';
import { acceptsJsonNumbers, learnDialectFromValue, serverDialect } from './dialect.ts';
import { SyncError } from './errors.ts';
import type { ColumnModel, TableModel } from './table-config.ts';

function hexBytes(hex: string, where: string): Uint8Array {
  const bytes = hexToBytes(hex);
  if (bytes === null) throw new SyncError('wire_value_invalid', `${where}: invalid hex "${hex}"`);
  return bytes;
}

function valueError(t: TableModel, c: ColumnModel, value: unknown, why: string): SyncError {
  return new SyncError('wire_value_invalid', `${t.table}.${c.wireName}: ${JSON.stringify(value)} ${why} (family ${c.family})`);
}

const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;

/** Encodes one local-payload value (trigger format) for the wire. */
export function localValueToWire(t: TableModel, c: ColumnModel, v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  // A number kept as text by the exact parser (a server row handed back, e.g. by a conflict).
  if (v instanceof ExactJsonNumber) {
    const big = v.toBigInt();
    v = c.family === 'integer' && big !== null ? big.toString() : c.family === 'decimal' ? v.text : v.toNumber();
  }
  switch (c.family) {
    case 'integer':
      // The pattern admits only canonical decimal text except "-0" (no BigInt round trip needed).
      if (typeof v === 'string' && INTEGER_TEXT.test(v)) return v === '-0' ? '0' : v;
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
      throw valueError(t, c, v, 'is not an integer');
    case 'boolean':
      if (v === '0' || v === '1' || v === 0 || v === 1) return String(v);
      throw valueError(t, c, v, 'is not a 0/1 boolean');
    case 'float':
      if (typeof v === 'number') return canonicalFloatString(v);
      if (typeof v === 'string' && INTEGER_TEXT.test(v)) return canonicalFloatString(Number(v));
      throw valueError(t, c, v, 'is not a finite REAL');
    case 'decimal': {
      const s = typeof v === 'number' ? canonicalFloatString(v) : String(v);
      if (invalidDecimalCategory(s)) throw valueError(t, c, v, 'is not a decimal string');
      return s;
    }
    case 'blob':
      if (typeof v !== 'string') throw valueError(t, c, v, 'is not a BLOB');
      return bytesToBase64(hexBytes(v, `${t.table}.${c.wireName}`));
    case 'uuid':
      if (c.uuidAsBlob) {
        if (typeof v !== 'string' || v.length !== 32) throw valueError(t, c, v, 'is not a 16-byte UUID BLOB');
        return bytesToUuid(hexBytes(v, `${t.table}.${c.wireName}`));
      }
      if (typeof v === 'string' && isCanonicalUuid(v.toLowerCase())) return v.toLowerCase();
      throw valueError(t, c, v, 'is not a UUID');
    case 'json':
      if (typeof v !== 'string') return v as JsonValue;
      try {
        return JSON.parse(v) as JsonValue;
      } catch {
        throw valueError(t, c, v, 'is not valid JSON text');
      }
    case 'text':
    case 'timestamp':
      if (typeof v === 'string') return v;
      if (typeof v === 'number') return String(v);
      throw valueError(t, c, v, 'is not text');
  }
}

/** Local payload JSON text (from a trigger) → wire payload. */
export function localPayloadToWire(t: TableModel, payloadJson: string): WirePayload {
  const local = JSON.parse(payloadJson) as Record<string, unknown>;
  const out: WirePayload = {};
  for (const c of t.columns) out[c.wireName] = localValueToWire(t, c, local[c.wireName]);
  return out;
}

/** Validates a server payload: exactly the table's columns, no hidden scope column. */
export function checkWirePayloadShape(t: TableModel, payload: unknown, where: string): asserts payload is WirePayload {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new SyncError('bad_server_response', `${where}: payload for ${t.table} must be a JSON object`);
  }
  const keys = Object.keys(payload);
  // The usual payload: exactly the table's columns (as many own members, each column among them).
  if (keys.length === t.columns.length && t.columns.every((c) => Object.hasOwn(payload, c.wireName))) return;
  if (keys.includes('_sync_scope_id')) {
    throw new SyncError('bad_server_response', `${where}: payload for ${t.table} carries the hidden _sync_scope_id column`);
  }
  for (const c of t.columns) {
    if (!(c.wireName in payload)) throw new SyncError('bad_server_response', `${where}: payload for ${t.table} lacks column ${c.wireName}`);
  }
  for (const k of keys) {
    if (!t.columns.some((c) => c.wireName === k)) {
      throw new SyncError('bad_server_response', `${where}: payload for ${t.table} has unknown column ${k}`);
    }
  }
}

const MAX_EXACT_DOUBLE_INTEGER = 2n ** 53n;
// 2^53 - 1: beyond it a float64 holds 2^53 for both 2^53 and 2^53 + 1, so the value is ambiguous.
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A value a `go-json-numbers` server sent as a JSON number, in the form the strings dialect would
 * have sent: INTEGER → canonical int64 text, REAL → shortest round-trip text, decimal → the
 * number's own text, boolean column 0/1 → "0"/"1". Exact: a number arrives either as a JS number
 * (exact by construction) or as the `ExactJsonNumber` text (`protocol/exact-json.ts`); a value the
 * column cannot hold exactly is a `WireValueError` ('inexact_number', 'fraction'). Any other value
 * is returned unchanged, for the usual validation. `passedThroughFloat64`: the server built the
 * value through a float64 (go-oversync's bundle rows, see `goPayloadMayBeRounded`), so an integer
 * beyond ±(2^53 - 1) or a decimal of more than 15 significant digits may already be rounded and is
 * refused; PostgreSQL's own text is taken exactly.
 */
export function numberToCanonicalWire(c: ColumnModel, v: unknown, passedThroughFloat64 = false): unknown {
  const exact = v instanceof ExactJsonNumber ? v : null;
  if (typeof v !== 'number' && !exact) return v;
  const input = exact ? exact.text : v;
  switch (c.family) {
    case 'integer': {
      if (typeof v === 'number') {
        // From the exact parser an integral JS number equals its literal; beyond the safe range
        // it is only trustworthy when the server did not round it through a float64 itself.
        if (Number.isSafeInteger(v)) return Object.is(v, -0) ? '0' : String(v);
        if (Number.isInteger(v) && !passedThroughFloat64) return BigInt(v).toString();
        throw new WireValueError('integer', Number.isInteger(v) ? 'inexact_number' : 'fraction', input, c.wireName);
      }
      const big = exact!.toBigInt();
      if (big === null)
        throw new WireValueError(
          'integer',
          /[.]/.test(exact!.text) && !/[eE]/.test(exact!.text) ? 'fraction' : 'inexact_number',
          input,
          c.wireName,
        );
      // Beyond 2^53 a float64 holds only some integers: the text is what the rounding left.
      if (passedThroughFloat64 && (big > MAX_SAFE || big < -MAX_SAFE)) {
        throw new WireValueError('integer', 'inexact_number', input, c.wireName);
      }
      return big.toString();
    }
    case 'float': {
      const n = typeof v === 'number' ? v : exact!.toNumber();
      const big = exact?.toBigInt() ?? null;
      // An integer literal no double equals (a BIGINT's text in a REAL column) would be rounded.
      if (big !== null && (big > MAX_EXACT_DOUBLE_INTEGER || big < -MAX_EXACT_DOUBLE_INTEGER) && BigInt(n) !== big) {
        throw new WireValueError('float', 'inexact_number', input, c.wireName);
      }
      return canonicalFloatString(n);
    }
    case 'decimal':
      // More than 15 significant digits (kept as text) that went through a float64 may be rounded.
      if (exact && passedThroughFloat64) throw new WireValueError('decimal', 'inexact_number', input, c.wireName);
      return exact ? exact.text : canonicalFloatString(v as number);
    case 'boolean':
      if (v === 0 || v === 1) return String(v);
      return v;
    default:
      return v;
  }
}

/**
 * Whether a payload go-oversync 1f1118f sent may have passed through a Go float64. It sends a
 * snapshot row or a conflict's server row either as PostgreSQL's own `to_jsonb` text (members
 * ordered by length, then bytes; numbers exact) or, when it rewrote a BYTEA value, re-marshaled by
 * Go (members in byte order; numbers through float64). Only the first order, distinguishable from
 * the second, proves the numbers exact. (Bundle rows always pass through float64.)
 */
export function goPayloadMayBeRounded(payload: object): boolean {
  const keys = Object.keys(payload);
  let jsonbOrder = true;
  let byteOrder = true;
  for (let i = 1; i < keys.length; i++) {
    const a = keys[i - 1]!;
    const b = keys[i]!;
    if (a > b) byteOrder = false;
    if (a.length > b.length || (a.length === b.length && a > b)) jsonbOrder = false;
  }
  return !(jsonbOrder && !byteOrder);
}

/**
 * A reader of inbound column values for one response: normalizes JSON numbers (see
 * `numberToCanonicalWire`) unless the server is known to speak `jcs-numeric-strings` (then a number
 * stays a number and is rejected as `legacy_json_number`), and learns the dialect from the first
 * INTEGER/REAL value when nothing else has told it yet. `source`: bundle rows (pull, committed
 * rows: always through float64 on a `go-json-numbers` server) or snapshot rows (exact when the
 * payload is PostgreSQL's text, see `goPayloadMayBeRounded`). `payload` is the row's payload.
 */
export function inboundValueReader(
  ctx: EngineContext,
  source: 'bundle' | 'snapshot',
): (c: ColumnModel, v: unknown, payload: object) => unknown {
  let numbers = acceptsJsonNumbers(ctx);
  // Values outrank the capabilities presumption (a server may advertise contract-era limits and
  // still be configured to send numbers): the first one read is asked.
  let learning = true;
  let lastPayload: object | null = null;
  let lastRounded = false;
  return (c, v, payload) => {
    if (v === null || v === undefined) return null;
    if (learning && (c.family === 'integer' || c.family === 'float' || c.family === 'decimal')) {
      learning = false;
      learnDialectFromValue(ctx, v);
      numbers = acceptsJsonNumbers(ctx);
    }
    if (!numbers) return v;
    if (typeof v !== 'number' && !(v instanceof ExactJsonNumber)) return v;
    if (payload !== lastPayload) {
      lastPayload = payload;
      lastRounded = serverDialect(ctx) === 'go-json-numbers' && (source === 'bundle' || goPayloadMayBeRounded(payload));
    }
    return numberToCanonicalWire(c, v, lastRounded);
  };
}

/**
 * The typed error for a bad value in a row the server sent: names the table, the row's key and
 * the column. A number we could not carry exactly is `value_not_representable` (nothing was
 * changed: the caller validates a whole page before writing); anything else `bad_server_response`.
 */
export function inboundValueError(t: TableModel, keyJson: string, e: WireValueError, where: string): SyncError {
  const key = keyJsonToDisplay(t, keyJson);
  const column = e.column ?? '?';
  const message = `${where}: ${t.table} key ${key} column ${column}: ${e.message}`;
  if (e.category === 'inexact_number') {
    return new SyncError(
      'value_not_representable',
      `${message}; the server sent a number this client cannot store exactly, nothing was applied`,
      undefined,
      { table: t.table, key, column, value: e.input },
    );
  }
  return new SyncError('bad_server_response', `server response rejected: ${message}`, undefined, {
    table: t.table,
    key,
    column,
    value: e.input,
  });
}

/** Wire payload → SQLite values in column order (throws typed errors on bad values). */
export function wirePayloadToSqlite(t: TableModel, payload: WirePayload): SqliteValue[] {
  return t.columns.map((c) => {
    try {
      return wireToSqlite(c.family, numberToCanonicalWire(c, payload[c.wireName] ?? null) as JsonValue, c.wireName, c.uuidAsBlob);
    } catch (e) {
      if (e instanceof WireValueError) throw new SyncError('wire_value_invalid', `${t.table}: ${e.message}`);
      throw e;
    }
  });
}

/** Wire payload → local payload JSON text (trigger format), e.g. for conflict rewrites. */
export function wirePayloadToLocalJson(t: TableModel, payload: WirePayload): string {
  const values = wirePayloadToSqlite(t, payload);
  const obj: Record<string, unknown> = {};
  t.columns.forEach((c, i) => {
    const v = values[i];
    if (v === null) obj[c.wireName] = null;
    else if (v instanceof Uint8Array) obj[c.wireName] = bytesToHex(v);
    else if (typeof v === 'bigint') obj[c.wireName] = v.toString();
    else if ((c.family === 'integer' || c.family === 'boolean') && typeof v === 'number') obj[c.wireName] = String(v);
    else obj[c.wireName] = v;
  });
  return JSON.stringify(obj);
}

/** Key string used in events and resolver contexts: text keys as is, BLOB keys as dashed UUIDs. */
export function keyJsonToDisplay(t: TableModel, keyJson: string): string {
  const v = (JSON.parse(keyJson) as Record<string, string>)[t.key.wireName]!;
  return t.key.uuidAsBlob ? bytesToUuid(hexBytes(v, t.table)) : v;
}

/** Local `key_json` → wire key. */
export function keyJsonToWire(t: TableModel, keyJson: string): WireKey {
  return { [t.key.wireName]: keyJsonToDisplay(t, keyJson) };
}

/** Wire key → local `key_json` (validated: one member naming the key column, a string). */
export function wireKeyToKeyJson(t: TableModel, key: unknown, where: string): string {
  if (key === null || typeof key !== 'object' || Array.isArray(key))
    throw new SyncError('bad_server_response', `${where}: key must be an object`);
  const v = (key as Record<string, unknown>)[t.key.wireName];
  if (typeof v !== 'string' || v === '') throw new SyncError('bad_server_response', `${where}: key lacks string member ${t.key.wireName}`);
  if (t.key.uuidAsBlob) {
    if (!isCanonicalUuid(v)) throw new SyncError('bad_server_response', `${where}: key ${JSON.stringify(v)} is not a canonical UUID`);
    return `${keyJsonHead(t)}${JSON.stringify(bytesToHex(uuidToBytes(v)))}}`;
  }
  return `${keyJsonHead(t)}${JSON.stringify(v)}}`;
}

const keyJsonHeads = new WeakMap<TableModel, string>();

/** `{"<key>":`, the start of a table's `key_json` (the text `JSON.stringify` of the key object gives). */
function keyJsonHead(t: TableModel): string {
  let head = keyJsonHeads.get(t);
  if (head === undefined) keyJsonHeads.set(t, (head = `{${JSON.stringify(t.key.wireName)}:`));
  return head;
}

/** SQLite value of the key column from `key_json`. */
export function keyJsonToSqlite(t: TableModel, keyJson: string): SqliteValue {
  const v = (JSON.parse(keyJson) as Record<string, string>)[t.key.wireName]!;
  return t.key.uuidAsBlob ? hexBytes(v, t.table) : v;
}
