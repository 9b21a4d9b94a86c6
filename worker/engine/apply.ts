/**
 * Authoritative local writes: putting a server row (or its deletion) into the app table and
 * recording its version in `_sync_row_state`. Callers run these inside `applyTransaction`
 * (capture off, FKs deferred), so a failure anywhere rolls the whole bundle back.
 */
import type { SqliteValue, WirePayload } from '../../protocol/index.ts';
import { keyJsonToSqlite, wirePayloadToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import { runCached } from './statements.ts';

/** Writes the full row (insert or overwrite every column). */
export function upsertLocalRow(ctx: EngineContext, t: TableModel, values: SqliteValue[]): void {
  const cols = t.columns.map((c) => quoteIdent(c.name));
  const updates = t.columns.filter((c) => c !== t.key).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
  const sql =
    `INSERT INTO ${quoteIdent(t.table)} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
    `ON CONFLICT(${quoteIdent(t.key.name)}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
  runCached(ctx.db, sql, values);
}

/** Deletes the row with this key (no-op when absent). */
export function deleteLocalRow(ctx: EngineContext, t: TableModel, keyJson: string): void {
  runCached(ctx.db, `DELETE FROM ${quoteIdent(t.table)} WHERE ${quoteIdent(t.key.name)} = ?`, [keyJsonToSqlite(t, keyJson)]);
}

/** Records the authoritative version of a row (live or tombstone). */
export function setRowState(ctx: EngineContext, t: TableModel, keyJson: string, version: number, deleted: boolean): void {
  runCached(
    ctx.db,
    `INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version,
       deleted = excluded.deleted, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
    [ctx.schema, t.table, keyJson, version, deleted ? 1 : 0],
  );
}

/** Forgets a row's version (the server has no row_state for it). */
export function clearRowState(ctx: EngineContext, t: TableModel, keyJson: string): void {
  ctx.db.exec({
    sql: 'DELETE FROM _sync_row_state WHERE schema_name = ? AND table_name = ? AND key_json = ?',
    bind: [ctx.schema, t.table, keyJson],
  });
}

/** Current authoritative version of a row, or null when unknown. */
export function readRowState(ctx: EngineContext, t: TableModel, keyJson: string): { version: number; deleted: boolean } | null {
  const row = ctx.db.exec({
    sql: 'SELECT row_version, deleted FROM _sync_row_state WHERE schema_name = ? AND table_name = ? AND key_json = ?',
    bind: [ctx.schema, t.table, keyJson],
    rowMode: 'array',
    returnValue: 'resultRows',
  })[0] as unknown[] | undefined;
  return row ? { version: Number(row[0]), deleted: Number(row[1]) === 1 } : null;
}

/** Applies one authoritative row: upsert (INSERT/UPDATE) or delete, then its row_state. */
export function applyServerRow(
  ctx: EngineContext,
  t: TableModel,
  keyJson: string,
  op: 'INSERT' | 'UPDATE' | 'DELETE',
  version: number,
  payload: WirePayload | null,
): void {
  if (op === 'DELETE') {
    deleteLocalRow(ctx, t, keyJson);
    setRowState(ctx, t, keyJson, version, true);
  } else {
    upsertLocalRow(ctx, t, wirePayloadToSqlite(t, payload!));
    setRowState(ctx, t, keyJson, version, false);
  }
}

/** True when the key has a pending local intent (dirty or frozen in the outbox). */
export function hasLocalIntent(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  const n = ctx.db.selectValue(
    `SELECT (SELECT COUNT(*) FROM _sync_dirty_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3)
          + (SELECT COUNT(*) FROM _sync_outbox_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3)`,
    [ctx.schema, t.table, keyJson],
  );
  return Number(n) > 0;
}
