/**
 * Validation of pushed rows, done entirely before any database work so that bad input is
 * rejected with `400 push_chunk_invalid` and nothing is staged.
 */
import { assertClientWireValue, isCanonicalUuid, WireValueError } from '../../protocol/values.ts';
import type { JsonValue } from '../../protocol/wire.ts';
import { SCOPE_COLUMN } from './catalog.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import { SyncError } from './sync-error.ts';
import { OpCode } from './wire-rows.ts';

/** A pushed row after validation. */
export interface ValidatedPushRow {
  table: CatalogTable;
  keyText: string;
  op: 1 | 2 | 3;
  baseRowVersion: number;
  /** Wire payload with lowercase column names and the key column present; null for DELETE. */
  payload: Record<string, JsonValue> | null;
  /** Sorted payload column names ('' for DELETE): rows with equal signatures apply in one statement. */
  columnSignature: string;
}

const NAME = /^[a-z0-9_]+$/;
const INT_RANGE: Record<string, [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
};

function invalid(index: number, message: string): SyncError {
  return new SyncError('push_chunk_invalid', `rows[${index}]: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one chunk's rows; throws `push_chunk_invalid` naming the first bad row. */
export function validatePushRows(rows: unknown, catalog: Catalog, maxRows: number): ValidatedPushRow[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new SyncError('push_chunk_invalid', 'rows must be a non-empty array');
  if (rows.length > maxRows) {
    throw new SyncError('push_chunk_invalid', `chunk has ${rows.length} rows; max_rows_per_push_chunk is ${maxRows}`);
  }
  const out: ValidatedPushRow[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!isPlainObject(row)) throw invalid(i, 'row must be an object');
    const schema = typeof row.schema === 'string' ? row.schema.trim().toLowerCase() || 'public' : row.schema === undefined ? 'public' : null;
    const tableName = typeof row.table === 'string' ? row.table.trim().toLowerCase() : null;
    if (schema === null || !NAME.test(schema)) throw invalid(i, 'schema must be a string matching ^[a-z0-9_]+$');
    if (tableName === null || !NAME.test(tableName)) throw invalid(i, 'table must be a string matching ^[a-z0-9_]+$');
    const table = catalog.byName.get(`${schema}.${tableName}`);
    if (!table) throw invalid(i, `table ${schema}.${tableName} is not registered`);
    const opText = typeof row.op === 'string' ? row.op.trim().toUpperCase() : '';
    if (opText !== 'INSERT' && opText !== 'UPDATE' && opText !== 'DELETE') throw invalid(i, 'op must be INSERT, UPDATE or DELETE');
    const op = OpCode[opText];
    if (!isPlainObject(row.key)) throw invalid(i, `key must be an object {"${table.keyColumn}": "<value>"}`);
    const keyValue = row.key[table.keyColumn];
    if (typeof keyValue !== 'string' || keyValue.length === 0) {
      throw invalid(i, `key.${table.keyColumn} must be a non-empty string`);
    }
    if (table.keyKind === 'uuid' && !isCanonicalUuid(keyValue)) {
      throw invalid(i, `key.${table.keyColumn} must use canonical dashed lowercase UUID text`);
    }
    const base = row.base_row_version;
    if (typeof base !== 'number' || !Number.isSafeInteger(base) || base < 0) {
      throw invalid(i, 'base_row_version must be a non-negative integer');
    }
    const dedupe = `${table.tableId}\u0000${keyValue}`;
    if (seen.has(dedupe)) throw invalid(i, `duplicate row for ${table.qualifiedName} key ${JSON.stringify(keyValue)} in one chunk`);
    seen.add(dedupe);

    if (op === OpCode.DELETE) {
      if (row.payload !== undefined && row.payload !== null) throw invalid(i, 'payload must be absent for DELETE');
      out.push({ table, keyText: keyValue, op, baseRowVersion: base, payload: null, columnSignature: '' });
      continue;
    }
    if (!isPlainObject(row.payload)) throw invalid(i, `payload must be an object for ${opText}`);
    const payload: Record<string, JsonValue> = {};
    for (const [rawName, value] of Object.entries(row.payload)) {
      const name = rawName.toLowerCase();
      if (name === SCOPE_COLUMN) throw invalid(i, `payload must not contain ${SCOPE_COLUMN}`);
      if (!NAME.test(name)) throw invalid(i, `payload column "${rawName}" must match ^[a-z0-9_]+$`);
      const column = table.columnsByName.get(name);
      if (!column) throw invalid(i, `${table.qualifiedName} has no column "${name}"`);
      if (name in payload) throw invalid(i, `payload column "${name}" appears twice`);
      try {
        assertClientWireValue(column.family, value as JsonValue, name);
      } catch (err) {
        if (err instanceof WireValueError) throw invalid(i, err.message);
        throw err;
      }
      const range = INT_RANGE[column.baseType];
      if (range && typeof value === 'string') {
        const v = BigInt(value);
        if (v < range[0] || v > range[1]) throw invalid(i, `column "${name}": ${value} is out of range for ${column.baseType}`);
      }
      payload[name] = value as JsonValue;
    }
    const keyInPayload = payload[table.keyColumn];
    if (keyInPayload === undefined) payload[table.keyColumn] = keyValue;
    else if (keyInPayload !== keyValue) throw invalid(i, `payload.${table.keyColumn} must equal the key`);
    out.push({ table, keyText: keyValue, op, baseRowVersion: base, payload, columnSignature: Object.keys(payload).sort().join(',') });
  }
  return out;
}
