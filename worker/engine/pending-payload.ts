/**
 * The payload of a pending local change. The capture triggers record which keys changed, not
 * their values: a dirty INSERT/UPDATE row has `payload` NULL, meaning "the row as the app's
 * table holds it now", read when the change is frozen for a push (outbox.ts), shown in a
 * conflict, or re-applied over a snapshot. An UPDATE of a key that is already pending then
 * writes nothing to `_sync_dirty_rows`. A stored payload wins over the live row: the engine
 * stores one when it re-queues a frozen or resolved change, a device upgraded from a version
 * that captured payloads keeps its own, and the engine's own deletes of a row with a pending
 * change keep the row's last image there (trigger `_akd` in capture.ts) so a change whose row
 * vanished can still be reported with its values. `op = 'DELETE'` marks a delete.
 */
import { keyValueOfKeyJson, payloadJsonExpr, sqlString } from './capture.ts';
import type { SchemaModel, TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

/** The live row of `t` whose key `d.key_json` names, as local payload JSON; NULL when it is gone. */
export function livePayloadExpr(t: TableModel, d: string): string {
  return `(SELECT ${payloadJsonExpr('src', t)} FROM ${quoteIdent(t.table)} AS src WHERE src.${quoteIdent(t.key.name)} = ${keyValueOfKeyJson(t, d)})`;
}

/** True when `t` holds no row with the key `d.key_json` names (the row is gone). */
export function liveRowAbsentExpr(t: TableModel, d: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${quoteIdent(t.table)} AS src WHERE src.${quoteIdent(t.key.name)} = ${keyValueOfKeyJson(t, d)})`;
}

/**
 * The payload a pending change of table `t` stands for (dirty or held row alias `d`): NULL for a
 * delete, else the stored payload or the live row (NULL if that is gone).
 */
export function pendingPayloadExpr(t: TableModel, d: string): string {
  return `CASE WHEN ${d}.op = 'DELETE' THEN NULL ELSE COALESCE(${d}.payload, ${livePayloadExpr(t, d)}) END`;
}

/** `pendingPayloadExpr` for a row of any table of `model` (NULL for a table outside it). */
export function pendingPayloadAnyTableExpr(model: SchemaModel, d: string): string {
  const live = model.tables.map((t) => `WHEN ${sqlString(t.table)} THEN ${livePayloadExpr(t, d)}`).join(' ');
  return `CASE WHEN ${d}.op = 'DELETE' THEN NULL ELSE COALESCE(${d}.payload, CASE ${d}.table_name ${live} END) END`;
}

/**
 * The payload to store for a frozen row `o` given back to the dirty set: NULL (the live row) when
 * the live row still is what was frozen, so the change reads like one capture recorded.
 */
export function requeuedPayloadExpr(model: SchemaModel, o: string): string {
  const live = model.tables.map((t) => `WHEN ${sqlString(t.table)} THEN ${livePayloadExpr(t, o)}`).join(' ');
  return `CASE WHEN ${o}.op = 'DELETE' OR ${o}.local_payload IS (CASE ${o}.table_name ${live} END) THEN NULL ELSE ${o}.local_payload END`;
}

/**
 * Marks the pending upserts of `t` whose row no longer exists (and has no stored payload) as
 * deletes (binds: schema). Only reachable when rows were deleted with capture off and no engine
 * trigger saw it (e.g. app writes while `dropCaptureTriggers` had removed them).
 */
export function markVanishedUpsertsAsDeletesSql(t: TableModel): string {
  return (
    `UPDATE _sync_dirty_rows AS d SET op = 'DELETE' ` +
    `WHERE d.schema_name = ? AND d.table_name = ${sqlString(t.table)} AND d.op <> 'DELETE' AND d.payload IS NULL ` +
    `AND ${liveRowAbsentExpr(t, 'd')}`
  );
}
