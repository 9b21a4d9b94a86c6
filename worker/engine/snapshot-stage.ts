/**
 * Snapshot staging format and the set-based final apply.
 *
 * A chunk is validated in ONE pass in JavaScript (every value against `protocol/values.ts`) and
 * re-encoded into a form SQLite decodes exactly with plain SQL; each table's rows of a chunk are
 * then staged as one `_sync_snapshot_stage` row holding two JSONB arrays:
 * - `rows`: one array of column values per snapshot row, in column order;
 * - `states`: one `[key_json, row_version]` per snapshot row (for `_sync_row_state`).
 * The final transaction expands them with `jsonb_each` in `INSERT ... SELECT` statements, so no
 * row crosses between JavaScript and SQLite one at a time. JSONB (converted while staging, which
 * overlaps the download) and `jsonb_each` (elements stay binary) let each `->>` read its value
 * without parsing JSON text again: about half the cost of the text form in the final apply.
 *
 * Staged value encoding (JSON), by family, and the SQL that turns it into the stored value:
 * | family            | staged                       | SQL            | stored (as `wireToSqlite`) |
 * |-------------------|------------------------------|----------------|----------------------------|
 * | integer           | canonical int64 string       | CAST AS INTEGER| INTEGER                    |
 * | float             | canonical shortest string    | CAST AS REAL   | REAL                       |
 * | boolean           | 0 / 1                        | as is          | INTEGER 0 / 1              |
 * | blob              | lowercase hex of the bytes   | unhex()        | BLOB                       |
 * | uuid (BLOB key/FK)| 32 hex digits                | unhex()        | 16-byte BLOB               |
 * | json              | the value's JSON text        | as is          | TEXT (JSON.stringify)      |
 * | others            | the string                   | as is          | TEXT                       |
 * NULL is JSON null everywhere (every SQL decode maps NULL to NULL).
 */
import {
  base64ToBytes,
  bytesToHex,
  invalidDecimalCategory,
  invalidFloatCategory,
  invalidIntegerCategory,
  invalidBooleanCategory,
  isCanonicalUuid,
  isStrictBase64,
  WireValueError,
} from '../../protocol/index.ts';
import type { JsonValue, SnapshotChunkResponse } from '../../protocol/index.ts';
import { checkWirePayloadShape, inboundValueError, inboundValueReader, wireKeyToKeyJson } from './codec.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { badResponse, isIntFrom } from './errors.ts';
import type { ColumnModel, TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

/** One table's share of a validated chunk, ready to stage. */
export interface StagedTableRows {
  model: TableModel;
  table: string;
  count: number;
  rows: string;
  states: string;
  /** The highest row version among the rows (for `raiseKnownRowVersion`). */
  highestVersion: number;
}

// Canonical int64 strings of at most 18 digits are always in range: no BigInt needed for them.
const SHORT_CANONICAL_INT = /^-?(0|[1-9]\d{0,17})$/;
// At most 15 digits (a double tells every such decimal apart, so it is the shortest that reads
// back), no exponent, no trailing zero after the point, and no more leading zeros after it than
// "0.000001": JavaScript's own string of the number, so canonical without converting it.
const SHORT_CANONICAL_FLOAT = /^(?=.{1,15}$)(-?([1-9]\d*(\.\d*[1-9])?|0\.0{0,5}[1-9](\d*[1-9])?)|0)$/;

/** A wire value as staged for its column; throws `WireValueError` exactly where `wireToSqlite` does. */
function stageValue(c: ColumnModel, v: JsonValue): JsonValue {
  if (v === null) return null;
  switch (c.family) {
    case 'integer':
      if (typeof v === 'string' && SHORT_CANONICAL_INT.test(v)) return v;
      {
        const bad = invalidIntegerCategory(v);
        if (bad) throw new WireValueError('integer', bad, v, c.wireName);
      }
      return v;
    case 'float': {
      if (typeof v === 'string' && SHORT_CANONICAL_FLOAT.test(v)) return v;
      const bad = invalidFloatCategory(v);
      if (bad) throw new WireValueError('float', bad, v, c.wireName);
      return v;
    }
    case 'decimal': {
      const bad = invalidDecimalCategory(v);
      if (bad) throw new WireValueError('decimal', bad, v, c.wireName);
      return v;
    }
    case 'boolean':
      if (v === true || v === '1') return 1;
      if (v === false || v === '0') return 0;
      throw new WireValueError('boolean', invalidBooleanCategory(v) ?? 'wrong_type', v, c.wireName);
    case 'blob':
      if (typeof v !== 'string' || !isStrictBase64(v)) throw new WireValueError('blob', 'malformed', v, c.wireName);
      return bytesToHex(base64ToBytes(v));
    case 'uuid':
      if (!isCanonicalUuid(v)) throw new WireValueError('uuid', 'noncanonical', v, c.wireName);
      return c.uuidAsBlob ? v.replace(/-/g, '') : v;
    case 'json':
      return JSON.stringify(v);
    case 'text':
    case 'timestamp':
      if (typeof v !== 'string') throw new WireValueError(c.family, 'wrong_type', v, c.wireName);
      return v;
  }
}

/**
 * Validates every row of a chunk (table, key, version, payload shape and every value) and encodes
 * it for staging, grouped by table in chunk order. Throws `bad_server_response` naming the row.
 */
export function encodeSnapshotRows(ctx: EngineContext, chunk: SnapshotChunkResponse, after: number): StagedTableRows[] {
  const byTable = new Map<TableModel, { rows: JsonValue[][]; states: [string, number][]; highest: number }>();
  const rows = chunk.rows;
  const inbound = inboundValueReader(ctx, 'snapshot');
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const where = `snapshot row ${after + i + 1}`;
    if (!r || typeof r !== 'object') throw badResponse(`${where}: not an object`);
    const t = tableOf(ctx, r.schema, r.table, where);
    const keyJson = wireKeyToKeyJson(t, r.key, where);
    const version = r.row_version;
    if (!isIntFrom(version, 1)) throw badResponse(`${where}: row_version must be positive`);
    const values = stagePayload(t, keyJson, r.payload, inbound, where);
    let group = byTable.get(t);
    if (!group) {
      group = { rows: [], states: [], highest: 0 };
      byTable.set(t, group);
    }
    group.rows.push(values);
    group.states.push([keyJson, version]);
    if (version > group.highest) group.highest = version;
  }
  return [...byTable].map(([t, g]) => ({
    model: t,
    table: t.table,
    count: g.rows.length,
    rows: JSON.stringify(g.rows),
    states: JSON.stringify(g.states),
    highestVersion: g.highest,
  }));
}

/** A wire value as staged for its column (bundle pull stages rows the same way). */
export const stageWireValue = stageValue;

/**
 * A server row's payload checked (exactly the table's columns, every value read by `inbound` and
 * valid for its column) and staged in column order, for a snapshot or a pulled bundle. Throws the
 * typed error naming the row (`where`) and, for a bad value, its key and column.
 */
export function stagePayload(
  t: TableModel,
  keyJson: string,
  payload: unknown,
  inbound: ReturnType<typeof inboundValueReader>,
  where: string,
): JsonValue[] {
  checkWirePayloadShape(t, payload, where);
  const values = new Array<JsonValue>(t.columns.length);
  try {
    for (let ci = 0; ci < t.columns.length; ci++) {
      const c = t.columns[ci]!;
      values[ci] = stageValue(c, inbound(c, payload[c.wireName], payload) as JsonValue);
    }
  } catch (e) {
    if (e instanceof WireValueError) throw inboundValueError(t, keyJson, e, where);
    throw badResponse(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return values;
}

/** SQL turning staged value `x` of column `c` into the value `wireToSqlite` would have bound. */
export function stagedDecodeExpr(c: ColumnModel, x: string): string {
  return decodeExpr(c, x);
}

function decodeExpr(c: ColumnModel, x: string): string {
  switch (c.family) {
    case 'integer':
      return `CAST(${x} AS INTEGER)`;
    case 'float':
      return `CAST(${x} AS REAL)`;
    case 'blob':
      return `unhex(${x})`;
    case 'uuid':
      return c.uuidAsBlob ? `unhex(${x})` : x;
    default:
      return x;
  }
}

const insertSql = new WeakMap<TableModel, string>();
const inPlaceSql = new WeakMap<TableModel, string>();

function insertSelectSql(t: TableModel, from: string, conflict: string): string {
  const exprs = t.columns.map((c, i) => decodeExpr(c, `j.value ->> ${i}`));
  return (
    `INSERT INTO ${quoteIdent(t.table)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) ` +
    `SELECT ${exprs.join(', ')} FROM ${from} ON CONFLICT(${quoteIdent(t.key.name)}) DO ${conflict}`
  );
}

/**
 * `INSERT ... SELECT` of one table's staged rows of a snapshot (?1 snapshot_id, ?2 table name).
 * The upsert clause only matters if a snapshot repeated a key (the table was emptied first): the
 * last staged row wins, as it did row by row. `WHERE` is required by the upsert-after-SELECT
 * grammar. Chunk order comes from the stage's primary key and jsonb_each yields each chunk in array
 * order (ordering by `j.key` too would add a sort per chunk for nothing).
 */
export function stagedInsertSql(t: TableModel): string {
  let sql = insertSql.get(t);
  if (sql === undefined) {
    const updates = t.columns.filter((c) => c !== t.key).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
    sql = insertSelectSql(
      t,
      '_sync_snapshot_stage AS s, jsonb_each(s.rows) AS j WHERE s.snapshot_id = ?1 AND s.table_name = ?2 ORDER BY s.chunk_ordinal',
      updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING',
    );
    insertSql.set(t, sql);
  }
  return sql;
}

/**
 * `INSERT ... SELECT` of one table's rows of a chunk written in place (?1 the staged `rows`
 * JSON): a key already there is a row the app wrote during the hydrate, and it stays (it is a
 * pending change, re-applied on top of the snapshot by the final transaction).
 */
export function inPlaceInsertSql(t: TableModel): string {
  let sql = inPlaceSql.get(t);
  if (sql === undefined) inPlaceSql.set(t, (sql = insertSelectSql(t, 'jsonb_each(?1) AS j WHERE 1', 'NOTHING')));
  return sql;
}

function rowStateInsertSql(from: string): string {
  return (
    `INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) ` +
    `SELECT ?1, ?3, j.value ->> 0, j.value ->> 1, 0 FROM ${from} ` +
    `ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version, deleted = 0`
  );
}

/** Row versions of one table's staged rows (?1 schema, ?2 snapshot_id, ?3 table name). */
export const STAGED_ROW_STATE_SQL = rowStateInsertSql(
  '_sync_snapshot_stage AS s, jsonb_each(s.states) AS j WHERE s.snapshot_id = ?2 AND s.table_name = ?3 ORDER BY s.chunk_ordinal',
);

/** Row versions of one table's rows of a chunk written in place (?1 schema, ?2 the staged `states` JSON, ?3 table name). */
export const IN_PLACE_ROW_STATE_SQL = rowStateInsertSql('jsonb_each(?2) AS j WHERE 1');

/** Stages one table's share of a chunk (?1 snapshot_id, ?2 chunk_ordinal, ?3 table, ?4 count, ?5 rows, ?6 states). */
export const STAGE_INSERT_SQL =
  'INSERT INTO _sync_snapshot_stage(snapshot_id, chunk_ordinal, table_name, row_count, rows, states) VALUES (?, ?, ?, ?, jsonb(?), jsonb(?))';
