/**
 * Pending changes as the engine reads them. Capture stores no payload (worker/engine/
 * pending-payload.ts): a dirty upsert stands for the live row, so tests that compare payloads
 * read them through the engine's own expression instead of the raw `payload` column.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import { pendingPayloadAnyTableExpr } from '../../../worker/engine/pending-payload.ts';
import { loadSchemaModel } from '../../../worker/engine/table-config.ts';
import type { SyncedTable } from '../../../worker/engine/types.ts';

/** SQL for the payload of dirty row alias `d` (NULL for a delete). */
export function pendingPayloadSql(db: Database, tables: readonly SyncedTable[]): string {
  return pendingPayloadAnyTableExpr(loadSchemaModel(db, tables), 'd');
}

/** `SELECT <columns>, <payload> AS payload FROM _sync_dirty_rows AS d ORDER BY <order>`. */
export function dirtyRowsSql(db: Database, tables: readonly SyncedTable[], columns: string, order = 'd.dirty_ordinal'): string {
  return `SELECT ${columns}, ${pendingPayloadSql(db, tables)} AS payload FROM _sync_dirty_rows AS d ORDER BY ${order}`;
}
