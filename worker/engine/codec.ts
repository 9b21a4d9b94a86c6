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
  bytesToUuid,
  canonicalFloatString,
  invalidDecimalCategory,
  isCanonicalUuid,
  uuidToBytes,
  WireValueError,
  wireToSqlite,
} from '../../protocol/index.ts';
import type { JsonValue, SqliteValue, WireKey, WirePayload } from '../../protocol/index.ts';
import { SyncError } from './errors.ts';
import type { ColumnModel, TableModel } from './table-config.ts';

function hexToBytes(hex: string, where: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new SyncError('wire_value_invalid', `${where}: invalid hex "${hex}"`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesToHexLower(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function valueError(t: TableModel, c: ColumnModel, value: unknown, why: string): SyncError {
  return new SyncError('wire_value_invalid', `${t.table}.${c.wireName}: ${JSON.stringify(value)} ${why} (family ${c.family})`);
}

const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;

/** Encodes one local-payload value (trigger format) for the wire. */
export function localValueToWire(t: TableModel, c: ColumnModel, v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
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
      return bytesToBase64(hexToBytes(v, `${t.table}.${c.wireName}`));
    case 'uuid':
      if (c.uuidAsBlob) {
        if (typeof v !== 'string' || v.length !== 32) throw valueError(t, c, v, 'is not a 16-byte UUID BLOB');
        return bytesToUuid(hexToBytes(v, `${t.table}.${c.wireName}`));
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

/** Wire payload → SQLite values in column order (throws typed errors on bad values). */
export function wirePayloadToSqlite(t: TableModel, payload: WirePayload): SqliteValue[] {
  return t.columns.map((c) => {
    try {
      return wireToSqlite(c.family, payload[c.wireName] ?? null, c.wireName, c.uuidAsBlob);
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
    else if (v instanceof Uint8Array) obj[c.wireName] = bytesToHexLower(v);
    else if (typeof v === 'bigint') obj[c.wireName] = v.toString();
    else if ((c.family === 'integer' || c.family === 'boolean') && typeof v === 'number') obj[c.wireName] = String(v);
    else obj[c.wireName] = v;
  });
  return JSON.stringify(obj);
}

/** Key string used in events and resolver contexts: text keys as is, BLOB keys as dashed UUIDs. */
export function keyJsonToDisplay(t: TableModel, keyJson: string): string {
  const v = (JSON.parse(keyJson) as Record<string, string>)[t.key.wireName]!;
  return t.key.uuidAsBlob ? bytesToUuid(hexToBytes(v, t.table)) : v;
}

/** Local `key_json` → wire key. */
export function keyJsonToWire(t: TableModel, keyJson: string): WireKey {
  return { [t.key.wireName]: keyJsonToDisplay(t, keyJson) };
}

/** Wire key → local `key_json` (validated: one member naming the key column, a string). */
export function wireKeyToKeyJson(t: TableModel, key: unknown, where: string): string {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw new SyncError('bad_server_response', `${where}: key must be an object`);
  const v = (key as Record<string, unknown>)[t.key.wireName];
  if (typeof v !== 'string' || v === '') throw new SyncError('bad_server_response', `${where}: key lacks string member ${t.key.wireName}`);
  if (t.key.uuidAsBlob) {
    if (!isCanonicalUuid(v)) throw new SyncError('bad_server_response', `${where}: key ${JSON.stringify(v)} is not a canonical UUID`);
    return JSON.stringify({ [t.key.wireName]: bytesToHexLower(uuidToBytes(v)) });
  }
  return JSON.stringify({ [t.key.wireName]: v });
}

/** SQLite value of the key column from `key_json`. */
export function keyJsonToSqlite(t: TableModel, keyJson: string): SqliteValue {
  const v = (JSON.parse(keyJson) as Record<string, string>)[t.key.wireName]!;
  return t.key.uuidAsBlob ? hexToBytes(v, t.table) : v;
}
