/**
 * Validation of pushed rows, done entirely before any database work so that bad input is
 * rejected with `400 push_chunk_invalid` and nothing is staged.
 */
import { isJsonObject } from '../../protocol/canonical-json.ts';
import { assertClientWireValue, canonicalFloatString, isCanonicalUuid, WireValueError } from '../../protocol/values.ts';
import type { JsonValue } from '../../protocol/wire.ts';
import { SCOPE_COLUMN } from './catalog.ts';
import type { Catalog, CatalogColumn, CatalogTable } from './catalog.ts';
import type { PayloadNumberTexts } from './chunk-number-texts.ts';
import { SyncServerError } from './sync-error.ts';
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
/**
 * Longest sync key, in UTF-16 code units: with the user id (≤ 256) it stays inside PostgreSQL's
 * btree entry limit (~2.7 kB) in the (scope, key) indexes, so a long key is refused here rather
 * than failing in an index.
 */
const MAX_SYNC_KEY_LENGTH = 512;
const INT_RANGE: Record<string, [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
};

function invalid(index: number, message: string): SyncServerError {
  return new SyncServerError('push_chunk_invalid', `rows[${index}]: ${message}`);
}

/**
 * JSON numbers in integer, real, decimal and boolean columns (the go-json-numbers dialect): each is
 * replaced by its canonical string from the number's own text (`texts`, read from the body), so
 * int64 stays exact. `first` records the error a strings-dialect session answers instead.
 */
export interface JsonNumberInput {
  texts: () => PayloadNumberTexts;
  first: SyncServerError | null;
}

/** Column families whose values go-json-numbers peers send as JSON numbers. */
const NUMBER_FAMILIES: ReadonlySet<CatalogColumn['family']> = new Set(['integer', 'float', 'decimal', 'boolean']);
const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The canonical wire string of a JSON number `text` sent for `column`; refuses inexact ones. */
function exactNumberValue(index: number, table: CatalogTable, key: string, column: CatalogColumn, text: string): string {
  const refuse = (why: string) =>
    invalid(index, `${table.qualifiedName} key ${JSON.stringify(key)} column "${column.name}": JSON number ${text} ${why}`);
  switch (column.family) {
    case 'integer': {
      if (!INTEGER_TEXT.test(text)) throw refuse(`is not an integer (${column.baseType} stores integers exactly; nothing was rounded)`);
      const v = BigInt(text);
      const [min, max] = INT_RANGE[column.baseType] ?? [INT64_MIN, INT64_MAX];
      if (v < min || v > max) throw refuse(`is out of range for ${column.baseType}`);
      return v.toString();
    }
    case 'float': {
      const n = Number(text);
      if (!Number.isFinite(n)) throw refuse('is not finite');
      return canonicalFloatString(n);
    }
    case 'decimal':
      // The text is the exact decimal; only a negative zero loses its sign (as the strings dialect requires).
      return /^-[0.]*([eE][+-]?\d+)?$/.test(text) ? text.slice(1) : text;
    default: // boolean
      if (text === '0' || text === '1') return text;
      throw refuse('is not 0 or 1');
  }
}

/** Validates one chunk's rows; throws `push_chunk_invalid` naming the first bad row. */
export function validatePushRows(rows: unknown, catalog: Catalog, maxRows: number, numbers?: JsonNumberInput): ValidatedPushRow[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new SyncServerError('push_chunk_invalid', 'rows must be a non-empty array');
  if (rows.length > maxRows) {
    throw new SyncServerError('push_chunk_invalid', `chunk has ${rows.length} rows; max_rows_per_push_chunk is ${maxRows}`);
  }
  const out: ValidatedPushRow[] = new Array(rows.length);
  // Keys seen in this chunk, per table id.
  const seen = new Map<number, Set<string>>();
  // Rows of a chunk nearly always share table and payload shape: the previous row's resolution
  // is reused when the raw strings / member names are identical (same checks, same outcome).
  let lastSchemaRaw: unknown;
  let lastTableRaw: unknown;
  let lastTable: CatalogTable | undefined;
  let lastNames: string[] = [];
  let lastNamesTable: CatalogTable | undefined;
  let lastSignature = '';
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!isJsonObject(row)) throw invalid(i, 'row must be an object');
    let table: CatalogTable;
    if (lastTable !== undefined && row.schema === lastSchemaRaw && row.table === lastTableRaw) table = lastTable;
    else {
      const schema =
        typeof row.schema === 'string' ? row.schema.trim().toLowerCase() || 'public' : row.schema === undefined ? 'public' : null;
      const tableName = typeof row.table === 'string' ? row.table.trim().toLowerCase() : null;
      if (schema === null || !NAME.test(schema)) throw invalid(i, 'schema must be a string matching ^[a-z0-9_]+$');
      if (tableName === null || !NAME.test(tableName)) throw invalid(i, 'table must be a string matching ^[a-z0-9_]+$');
      const found = catalog.byName.get(`${schema}.${tableName}`);
      if (!found) throw invalid(i, `table ${schema}.${tableName} is not registered`);
      table = found;
      lastSchemaRaw = row.schema;
      lastTableRaw = row.table;
      lastTable = table;
    }
    const rawOp = row.op;
    const opText =
      rawOp === 'INSERT' || rawOp === 'UPDATE' || rawOp === 'DELETE' ? rawOp : typeof rawOp === 'string' ? rawOp.trim().toUpperCase() : '';
    if (opText !== 'INSERT' && opText !== 'UPDATE' && opText !== 'DELETE') throw invalid(i, 'op must be INSERT, UPDATE or DELETE');
    const op = OpCode[opText];
    if (!isJsonObject(row.key)) throw invalid(i, `key must be an object {"${table.keyColumn}": "<value>"}`);
    const keyValue = row.key[table.keyColumn];
    if (typeof keyValue !== 'string' || keyValue.length === 0) {
      throw invalid(i, `key.${table.keyColumn} must be a non-empty string`);
    }
    if (keyValue.length > MAX_SYNC_KEY_LENGTH) {
      throw invalid(i, `key.${table.keyColumn} is longer than ${MAX_SYNC_KEY_LENGTH} characters`);
    }
    if (table.keyKind === 'uuid' && !isCanonicalUuid(keyValue)) {
      throw invalid(i, `key.${table.keyColumn} must use canonical dashed lowercase UUID text`);
    }
    const base = row.base_row_version;
    if (typeof base !== 'number' || !Number.isSafeInteger(base) || base < 0) {
      throw invalid(i, 'base_row_version must be a non-negative integer');
    }
    let keys = seen.get(table.tableId);
    if (!keys) seen.set(table.tableId, (keys = new Set()));
    if (keys.has(keyValue)) throw invalid(i, `duplicate row for ${table.qualifiedName} key ${JSON.stringify(keyValue)} in one chunk`);
    keys.add(keyValue);

    if (op === OpCode.DELETE) {
      if (row.payload !== undefined && row.payload !== null) throw invalid(i, 'payload must be absent for DELETE');
      out[i] = { table, keyText: keyValue, op, baseRowVersion: base, payload: null, columnSignature: '' };
      continue;
    }
    if (!isJsonObject(row.payload)) throw invalid(i, `payload must be an object for ${opText}`);
    const input = row.payload;
    const rawNames = Object.keys(input);
    // Same member names as the previous row of this table: all are lowercase column names.
    const sameShape = table === lastNamesTable && sameNames(rawNames, lastNames);
    // Clients send lowercase names; only otherwise is a renamed copy needed.
    let payload = input as Record<string, JsonValue>;
    if (!sameShape && rawNames.some((n) => !table.columnsByName.has(n))) payload = {};
    for (const rawName of rawNames) {
      let value = input[rawName] as JsonValue;
      let column = table.columnsByName.get(rawName);
      let name = rawName;
      if (!column) {
        name = rawName.toLowerCase();
        if (name === SCOPE_COLUMN) throw invalid(i, `payload must not contain ${SCOPE_COLUMN}`);
        if (!NAME.test(name)) throw invalid(i, `payload column "${rawName}" must match ^[a-z0-9_]+$`);
        column = table.columnsByName.get(name);
        if (!column) throw invalid(i, `${table.qualifiedName} has no column "${name}"`);
        if (name in payload) throw invalid(i, `payload column "${name}" appears twice`);
      }
      if (typeof value === 'number' && numbers && NUMBER_FAMILIES.has(column.family)) {
        numbers.first ??= invalid(
          i,
          `${table.qualifiedName} key ${JSON.stringify(keyValue)} ${new WireValueError(column.family, 'legacy_json_number', value, name).message}`,
        );
        const text = numbers.texts().get(i)?.get(rawName);
        // (Always found for a body parsed from the text; a missing one is refused, never rounded.)
        if (text === undefined)
          throw invalid(
            i,
            `${table.qualifiedName} key ${JSON.stringify(keyValue)} column "${name}": the JSON number's text could not be read`,
          );
        value = exactNumberValue(i, table, keyValue, column, text);
        input[rawName] = value;
      }
      // The key column's value equal to the (already validated) key needs no second look.
      if (value !== null && !(name === table.keyColumn && value === keyValue) && !isCommonValid(column, value)) {
        try {
          assertClientWireValue(column.family, value, name);
        } catch (err) {
          if (err instanceof WireValueError) throw invalid(i, `${table.qualifiedName} key ${JSON.stringify(keyValue)} ${err.message}`);
          throw err;
        }
        const range = INT_RANGE[column.baseType];
        if (range && typeof value === 'string') {
          const v = BigInt(value);
          if (v < range[0] || v > range[1])
            throw invalid(
              i,
              `${table.qualifiedName} key ${JSON.stringify(keyValue)} column "${name}": ${value} is out of range for ${column.baseType}`,
            );
        }
      }
      if (payload !== input) payload[name] = value;
    }
    const keyInPayload = payload[table.keyColumn];
    if (keyInPayload === undefined) payload[table.keyColumn] = keyValue;
    else if (keyInPayload !== keyValue) throw invalid(i, `payload.${table.keyColumn} must equal the key`);
    let signature: string;
    if (sameShape && payload === input && keyInPayload !== undefined) signature = lastSignature;
    else {
      signature = signatureOf(payload);
      if (payload === input && keyInPayload !== undefined) {
        lastNames = rawNames;
        lastNamesTable = table;
        lastSignature = signature;
      }
    }
    out[i] = { table, keyText: keyValue, op, baseRowVersion: base, payload, columnSignature: signature };
  }
  return out;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const signatures = new Map<string, string>();

/** Sorted column list of a payload, memoized by its (unsorted) key order. */
function signatureOf(payload: Record<string, JsonValue>): string {
  const raw = Object.keys(payload).join(',');
  let sig = signatures.get(raw);
  if (sig === undefined) {
    sig = raw.split(',').sort().join(',');
    if (signatures.size < 10_000) signatures.set(raw, sig);
  }
  return sig;
}

const SHORT_INT = /^(0|-?[1-9]\d{0,17})$/;
const INT4_SAFE = /^(0|-?[1-9]\d{0,8})$/;
const INT2_SAFE = /^(0|-?[1-9]\d{0,3})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Fast acceptance of the values clients send almost always; anything it does not accept goes
 * through the full validator, which decides (and names the category of) the rejection.
 */
function isCommonValid(column: CatalogTable['columns'][number], value: JsonValue): boolean {
  switch (column.family) {
    case 'text':
    case 'timestamp':
      return typeof value === 'string';
    case 'integer':
      if (typeof value !== 'string') return false;
      return column.baseType === 'int8'
        ? SHORT_INT.test(value)
        : column.baseType === 'int4'
          ? INT4_SAFE.test(value)
          : INT2_SAFE.test(value);
    case 'float': {
      if (typeof value !== 'string') return false;
      const n = Number(value);
      return Number.isFinite(n) && !Object.is(n, -0) && String(n) === value;
    }
    case 'boolean':
      return value === '0' || value === '1' || typeof value === 'boolean';
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'json':
      return true;
    default:
      return false;
  }
}
