/**
 * Column value encoding of v1 (`jcs_uniform_numeric_strings_v1`).
 *
 * | family    | client → server                    | server → client                    |
 * |-----------|------------------------------------|------------------------------------|
 * | integer   | canonical int64 decimal string     | same                               |
 * | float     | shortest round-trip string         | same                               |
 * | decimal   | decimal string (kept as text)      | PostgreSQL's text (authoritative)  |
 * | boolean   | "0" / "1" (SQLite integer)         | JSON true / false                  |
 * | text      | string                             | string                             |
 * | timestamp | string                             | string                             |
 * | uuid      | canonical dashed lowercase string  | same                               |
 * | blob      | standard base64                    | standard base64                    |
 * | json      | nested JSON value                  | nested JSON value                  |
 *
 * NULL is JSON null in every family. A JSON number where a string is required is the legacy
 * (pre-v1) encoding and is rejected before anything is mutated.
 */
import type { JsonValue } from './wire.ts';

/** How a column's values travel on the wire. */
export type ValueFamily = 'integer' | 'float' | 'decimal' | 'boolean' | 'text' | 'timestamp' | 'uuid' | 'blob' | 'json';

/** Why a wire value was rejected; the categories of the contract fixture. */
export type InvalidValueCategory =
  | 'leading_plus'
  | 'leading_zero'
  | 'negative_zero'
  | 'fraction'
  | 'exponent'
  | 'out_of_range'
  | 'legacy_json_number'
  | 'malformed'
  | 'non_finite'
  | 'noncanonical'
  | 'invalid_boolean_bridge'
  | 'wrong_type'
  // A JSON number whose exact value the column cannot hold (e.g. an integer a double rounded).
  | 'inexact_number';

/** A value that does not fit its column's family. */
export class WireValueError extends Error {
  readonly code = 'wire_value_invalid';
  constructor(
    readonly family: ValueFamily,
    readonly category: InvalidValueCategory,
    readonly input: unknown,
    readonly column?: string,
  ) {
    super(`${column ? `column "${column}": ` : ''}${JSON.stringify(input)} is not a valid ${family} value (${category})`);
    this.name = 'WireValueError';
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity', '+Infinity', 'inf', '-inf', 'nan']);
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const UUID_CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Category of an invalid integer wire value, or null when `input` is a canonical int64 string. */
export function invalidIntegerCategory(input: unknown): InvalidValueCategory | null {
  if (typeof input === 'number') return 'legacy_json_number';
  if (typeof input !== 'string') return 'wrong_type';
  if (input.startsWith('+')) return 'leading_plus';
  if (input === '-0') return 'negative_zero';
  if (/^-?0\d/.test(input)) return 'leading_zero';
  if (/^-?\d+\.\d*$/.test(input)) return 'fraction';
  if (/^-?\d+(\.\d+)?[eE][+-]?\d+$/.test(input)) return 'exponent';
  if (!/^-?(0|[1-9]\d*)$/.test(input)) return 'malformed';
  const v = BigInt(input);
  if (v < INT64_MIN || v > INT64_MAX) return 'out_of_range';
  return null;
}

/** Category of an invalid decimal wire value, or null when valid. */
export function invalidDecimalCategory(input: unknown): InvalidValueCategory | null {
  if (typeof input === 'number') return 'legacy_json_number';
  if (typeof input !== 'string') return 'wrong_type';
  if (input.startsWith('+')) return 'leading_plus';
  if (NON_FINITE.has(input)) return 'non_finite';
  if (/^-?0\d/.test(input)) return 'leading_zero';
  if (!JSON_NUMBER.test(input)) return 'malformed';
  if (input.startsWith('-') && /^-[0.]*(e[+-]?\d+)?$/i.test(input)) return 'negative_zero';
  return null;
}

/** Category of an invalid float wire value, or null when `input` is canonical. */
export function invalidFloatCategory(input: unknown): InvalidValueCategory | null {
  if (typeof input === 'number') return 'legacy_json_number';
  if (typeof input !== 'string') return 'wrong_type';
  if (NON_FINITE.has(input)) return 'non_finite';
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(input)) return 'malformed';
  const n = Number(input);
  if (!Number.isFinite(n)) return 'non_finite';
  if (canonicalFloatString(n) !== input) return 'noncanonical';
  return null;
}

/** Category of an invalid boolean wire value from a client, or null for "0" / "1" (or JSON booleans). */
export function invalidBooleanCategory(input: unknown): InvalidValueCategory | null {
  if (typeof input === 'boolean') return null;
  if (typeof input === 'number') return 'legacy_json_number';
  if (input === '0' || input === '1') return null;
  return typeof input === 'string' ? 'invalid_boolean_bridge' : 'wrong_type';
}

/** Canonical string of a finite double: ECMAScript shortest round-trip, with -0 as "0". */
export function canonicalFloatString(n: number): string {
  if (!Number.isFinite(n)) throw new WireValueError('float', 'non_finite', n);
  return Object.is(n, -0) ? '0' : String(n);
}

/** True when `s` is a canonical dashed lowercase UUID. */
export function isCanonicalUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_CANONICAL.test(s);
}

/**
 * Validates a non-null wire value against its family, as sent by a client. Returns nothing;
 * throws `WireValueError` with the contract category.
 */
export function assertClientWireValue(family: ValueFamily, input: JsonValue, column?: string): void {
  if (input === null) return;
  let category: InvalidValueCategory | null = null;
  switch (family) {
    case 'integer':
      category = invalidIntegerCategory(input);
      break;
    case 'float':
      category = invalidFloatCategory(input);
      break;
    case 'decimal':
      category = invalidDecimalCategory(input);
      break;
    case 'boolean':
      category = invalidBooleanCategory(input);
      break;
    case 'uuid':
      category = isCanonicalUuid(input) ? null : typeof input === 'string' ? 'noncanonical' : 'wrong_type';
      break;
    case 'blob':
      category = typeof input !== 'string' ? 'wrong_type' : isStrictBase64(input) ? null : 'malformed';
      break;
    case 'text':
    case 'timestamp':
      category = typeof input === 'string' ? null : typeof input === 'number' ? 'legacy_json_number' : 'wrong_type';
      break;
    case 'json':
      category = null;
      break;
  }
  if (category) throw new WireValueError(family, category, input, column);
}

// ---------------------------------------------------------------------------------------------
// Local SQLite value <-> wire value (client side).

/** A value as SQLite hands it to JavaScript. */
export type SqliteValue = null | number | bigint | string | Uint8Array;

/** Encodes a local SQLite value of a column of `family` for the wire. */
export function sqliteToWire(family: ValueFamily, value: SqliteValue, column?: string): JsonValue {
  if (value === null) return null;
  switch (family) {
    case 'integer':
    case 'boolean':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isInteger(value)) return Object.is(value, -0) ? '0' : BigInt(value).toString();
      if (family === 'boolean' && (value === '0' || value === '1')) return value;
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'float':
      if (typeof value === 'number') return canonicalFloatString(value);
      if (typeof value === 'bigint') return canonicalFloatString(Number(value));
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'decimal':
      if (typeof value === 'string') {
        const bad = invalidDecimalCategory(value);
        if (bad) throw new WireValueError(family, bad, value, column);
        return value;
      }
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number') return canonicalFloatString(value);
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'blob':
      if (value instanceof Uint8Array) return bytesToBase64(value);
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'uuid':
      if (value instanceof Uint8Array) return bytesToUuid(value);
      if (typeof value === 'string') return value.toLowerCase();
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'json':
      if (typeof value === 'string') return JSON.parse(value) as JsonValue;
      throw new WireValueError(family, 'wrong_type', value, column);
    case 'text':
    case 'timestamp':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint') return String(value);
      throw new WireValueError(family, 'wrong_type', value, column);
  }
}

/**
 * Decodes a wire value from the server into the SQLite value to store. `uuidAsBlob` stores a
 * UUID as 16 raw bytes (for BLOB key/reference columns). Throws `WireValueError`.
 */
export function wireToSqlite(family: ValueFamily, value: JsonValue, column?: string, uuidAsBlob = false): SqliteValue {
  if (value === null) return null;
  switch (family) {
    case 'integer': {
      const bad = invalidIntegerCategory(value);
      if (bad) throw new WireValueError(family, bad, value, column);
      const big = BigInt(value as string);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case 'boolean':
      if (value === true || value === '1') return 1;
      if (value === false || value === '0') return 0;
      throw new WireValueError(family, invalidBooleanCategory(value) ?? 'wrong_type', value, column);
    case 'float': {
      const bad = invalidFloatCategory(value);
      if (bad) throw new WireValueError(family, bad, value, column);
      return Number(value);
    }
    case 'decimal': {
      const bad = invalidDecimalCategory(value);
      if (bad) throw new WireValueError(family, bad, value, column);
      return value as string;
    }
    case 'blob':
      if (typeof value !== 'string' || !isStrictBase64(value)) throw new WireValueError(family, 'malformed', value, column);
      return base64ToBytes(value);
    case 'uuid':
      if (!isCanonicalUuid(value)) throw new WireValueError(family, 'noncanonical', value, column);
      return uuidAsBlob ? uuidToBytes(value) : value;
    case 'json':
      return JSON.stringify(value);
    case 'text':
    case 'timestamp':
      if (typeof value !== 'string') throw new WireValueError(family, 'wrong_type', value, column);
      return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes helpers: the platform's base64 (atob/btoa: browsers, workers and Node alike; Latin-1
// binary strings, one character per byte), never Buffer.

/** Standard base64 (RFC 4648, padded). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: an argument list of a whole large BLOB would overflow the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** True when `s` is padded standard base64 that round-trips exactly. */
export function isStrictBase64(s: string): boolean {
  try {
    return bytesToBase64(base64ToBytes(s)) === s;
  } catch {
    return false;
  }
}

/** Decodes standard padded base64; throws on a malformed string (atob alone would take white space and missing padding). */
export function base64ToBytes(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new WireValueError('blob', 'malformed', s);
  let binary: string;
  try {
    binary = atob(s);
  } catch {
    throw new WireValueError('blob', 'malformed', s);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes (the one hex encoder of the package). */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b];
  return out;
}

/** 16 bytes to a canonical dashed lowercase UUID. */
export function bytesToUuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new WireValueError('uuid', 'malformed', bytesToHex(bytes));
  const h = bytesToHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A canonical UUID string to its 16 raw bytes. */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!isCanonicalUuid(uuid)) throw new WireValueError('uuid', 'noncanonical', uuid);
  return hexToBytes(uuid.replace(/-/g, ''))!;
}

/** The bytes of hex text (either case), or null when it is not an even count of hex digits. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
