/**
 * Rows in the app's own value forms for events (`lost`, `conflict`): column name → the value as
 * the app's SQLite stores it (numbers, bigints, text, Uint8Array, null), never wire form.
 */
import type { WireOp, WirePayload } from '../../protocol/index.ts';
import { keyJsonToDisplay, localPayloadToWire, wirePayloadToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import type { RowLostDetail, RowLostReason } from './types.ts';

/** The local row with this rowid as column name → stored value, or null when absent. */
export function appRowByRowid(ctx: EngineContext, t: TableModel, rowid: number): Record<string, unknown> | null {
  const rows = ctx.db.exec({
    sql: `SELECT ${t.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(t.table)} WHERE rowid = ?`,
    bind: [rowid],
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  if (rows.length === 0) return null;
  const out: Record<string, unknown> = {};
  t.columns.forEach((c, i) => (out[c.name] = rows[0]![i] ?? null));
  return out;
}

/** A pending change's local payload (trigger JSON) as the row the app's SQLite stored; null for a delete. */
export function appRowFromLocalPayload(t: TableModel, payloadJson: string | null): Record<string, unknown> | null {
  if (payloadJson === null) return null;
  const values = wirePayloadToSqlite(t, localPayloadToWire(t, payloadJson));
  const out: Record<string, unknown> = {};
  t.columns.forEach((c, i) => (out[c.name] = values[i] ?? null));
  return out;
}

/** A wire-form row (integers as decimal strings, BLOBs base64, …) as the app's SQLite stores it. */
export function appRowFromWire(t: TableModel, wire: Record<string, unknown> | null): Record<string, unknown> | null {
  if (wire === null) return null;
  const values = wirePayloadToSqlite(t, wire as WirePayload);
  const out: Record<string, unknown> = {};
  t.columns.forEach((c, i) => (out[c.name] = values[i] ?? null));
  return out;
}

/** One `lost` detail. */
export function lostRow(
  t: TableModel,
  keyJson: string,
  reason: RowLostReason,
  row: Record<string, unknown> | null,
  localOp: WireOp | null,
): RowLostDetail {
  return { table: t.table, key: keyJsonToDisplay(t, keyJson), reason, row, localOp };
}
