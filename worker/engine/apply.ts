/**
 * Authoritative local writes: putting a server row (or its deletion) into the app table and
 * recording its version in `_sync_row_state`. Callers run these inside `applyTransaction`
 * (capture off, FKs deferred), so a failure anywhere rolls the whole bundle back.
 */
import type { SqliteValue, WireOp, WirePayload } from '../../protocol/index.ts';
import { keyJsonToSqlite, wirePayloadToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import type { TableModel } from './table-config.ts';
import { keyJsonExpr } from './capture.ts';
import { livePayloadExpr, liveRowAbsentExpr } from './pending-payload.ts';
import { appRowByRowid, appRowFromLocalPayload, lostRow } from './lost-rows.ts';
import type { RowLostDetail } from './types.ts';
import { raiseKnownRowVersion } from './metadata.ts';
import { runCached, selectCached, selectRowCached } from './statements.ts';
import { quoteIdent } from './table-config.ts';

const upsertSql = new WeakMap<TableModel, string>();

const INT64_LIMIT = 2 ** 63;

/**
 * sqlite-wasm binds every integer-valued JS number through int64, which wraps at 2^63: a REAL
 * such as 1e+21 would be stored as 3.875820019684212736e18. Such a number is bound as its
 * shortest text instead, which REAL (and NUMERIC/INTEGER) affinity turns back into that exact double.
 */
function bindable(values: SqliteValue[]): SqliteValue[] {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= INT64_LIMIT) {
      return values.map((x) => (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) >= INT64_LIMIT ? String(x) : x));
    }
  }
  return values;
}

/** Writes the full row (insert or overwrite every column). */
export function upsertLocalRow(ctx: EngineContext, t: TableModel, values: SqliteValue[]): void {
  let sql = upsertSql.get(t);
  if (sql === undefined) {
    const cols = t.columns.map((c) => quoteIdent(c.name));
    const updates = t.columns.filter((c) => c !== t.key).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
    sql =
      `INSERT INTO ${quoteIdent(t.table)} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ` +
      `ON CONFLICT(${quoteIdent(t.key.name)}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
    upsertSql.set(t, sql);
  }
  runCached(ctx.db, sql, bindable(values));
}

/** Deletes the row with this key (no-op when absent). */
export function deleteLocalRow(ctx: EngineContext, t: TableModel, keyJson: string): void {
  runCached(ctx.db, `DELETE FROM ${quoteIdent(t.table)} WHERE ${quoteIdent(t.key.name)} = ?`, [keyJsonToSqlite(t, keyJson)]);
}

/** Records the authoritative version of a row (live or tombstone). */
export function setRowState(ctx: EngineContext, t: TableModel, keyJson: string, version: number, deleted: boolean): void {
  runCached(
    ctx.db,
    'INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) VALUES (?, ?, ?, ?, ?) ' +
      'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version, deleted = excluded.deleted',
    [ctx.schema, t.table, keyJson, version, deleted ? 1 : 0],
  );
  raiseKnownRowVersion(ctx.db, version);
}

/** Forgets a row's version (the server has no row_state for it). */
export function clearRowState(ctx: EngineContext, t: TableModel, keyJson: string): void {
  runCached(ctx.db, 'DELETE FROM _sync_row_state WHERE schema_name = ? AND table_name = ? AND key_json = ?', [
    ctx.schema,
    t.table,
    keyJson,
  ]);
}

/** Current authoritative version of a row, or null when unknown. */
export function readRowState(ctx: EngineContext, t: TableModel, keyJson: string): { version: number; deleted: boolean } | null {
  const row = selectRowCached(
    ctx.db,
    'SELECT row_version, deleted FROM _sync_row_state WHERE schema_name = ? AND table_name = ? AND key_json = ?',
    [ctx.schema, t.table, keyJson],
  );
  return row ? { version: Number(row[0]), deleted: Number(row[1]) === 1 } : null;
}

/**
 * Applies one authoritative row: upsert (INSERT/UPDATE) or delete, then its row_state. `values`
 * may carry the payload already decoded by `wirePayloadToSqlite` (callers that validated it).
 */
export function applyServerRow(
  ctx: EngineContext,
  t: TableModel,
  keyJson: string,
  op: 'INSERT' | 'UPDATE' | 'DELETE',
  version: number,
  payload: WirePayload | null,
  values?: SqliteValue[],
): void {
  if (op === 'DELETE') {
    deleteLocalRow(ctx, t, keyJson);
    setRowState(ctx, t, keyJson, version, true);
  } else {
    upsertLocalRow(ctx, t, values ?? wirePayloadToSqlite(t, payload!));
    setRowState(ctx, t, keyJson, version, false);
  }
}

/**
 * False when no key can have a pending local intent: both `_sync_dirty_rows` and
 * `_sync_outbox_rows` are empty. Applies (capture off) never add intents, so one check before a
 * bundle lets it skip the intent lookups and `settleOrphanedIntents` for every row.
 */
export function anyLocalIntent(ctx: EngineContext): boolean {
  return (
    Number(selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows) OR EXISTS (SELECT 1 FROM _sync_outbox_rows)', [])) === 1
  );
}

/** A row of a synced table that violates a foreign key (`PRAGMA foreign_key_check`). */
export interface ForeignKeyViolation {
  child: TableModel;
  rowid: number;
  childKeyJson: string;
  /** The FK's id in `PRAGMA foreign_key_list(child)` (see `violatedReference`). */
  fkid: number;
}

/**
 * Inside an apply transaction: deletes the FK-violating rows of synced tables that `drop` selects
 * (true), in rounds (a delete can cascade and expose more), until a round changes nothing. `drop`
 * may settle a row itself instead (e.g. clear the reference) and say so (`'settled'`). A no-op
 * with foreign keys off; violations left alone still fail the transaction at COMMIT.
 */
export function dropForeignKeyViolations(ctx: EngineContext, drop: (v: ForeignKeyViolation) => boolean | 'settled'): void {
  if (Number(ctx.db.selectValue('PRAGMA foreign_keys')) !== 1) return;
  for (let round = 0; round < 16; round++) {
    const violations = ctx.db.exec({ sql: 'PRAGMA foreign_key_check', rowMode: 'array', returnValue: 'resultRows' }) as unknown[][];
    let removed = 0;
    for (const [table, rowid, , fkid] of violations) {
      const child = ctx.model.byName.get(String(table));
      if (!child || rowid === null || rowid === undefined) continue;
      const childKeyJson = ctx.db.selectValue(
        `SELECT ${keyJsonExpr('src', child)} FROM ${quoteIdent(child.table)} AS src WHERE rowid = ?`,
        [rowid as number],
      );
      if (typeof childKeyJson !== 'string') continue;
      const verdict = drop({ child, rowid: Number(rowid), childKeyJson, fkid: Number(fkid) });
      if (verdict === false) continue;
      if (verdict === true) ctx.db.exec({ sql: `DELETE FROM ${quoteIdent(child.table)} WHERE rowid = ?`, bind: [rowid as number] });
      removed++;
    }
    if (removed === 0) return;
  }
}

/** The pending change of a key (dirty row first, else frozen outbox row), or null. */
function pendingOp(ctx: EngineContext, t: TableModel, keyJson: string): WireOp | null {
  const op = selectCached(
    ctx.db,
    'SELECT COALESCE((SELECT op FROM _sync_dirty_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3), ' +
      '(SELECT op FROM _sync_outbox_rows WHERE schema_name = ?1 AND table_name = ?2 AND key_json = ?3))',
    [ctx.schema, t.table, keyJson],
  );
  return typeof op === 'string' ? (op as WireOp) : null;
}

/**
 * Keeps local intents consistent after an authoritative apply, inside the same transaction, and
 * returns what the app lost by it (emit after COMMIT).
 * 1. (`checkForeignKeys`) A local row with a pending intent that references a parent the apply
 *    removed (deleted on another device) can never be pushed: the server's FK would reject the
 *    whole bundle forever. Such rows are removed locally, as the server's own cascade would have
 *    (`parent_deleted_remotely`). Rows without a local intent are left alone, so a genuinely bad
 *    server bundle still fails its FK check at COMMIT.
 * 2. A dirty upsert whose row no longer exists locally (removed by a cascade during the apply)
 *    becomes a delete intent (`cascade`); one that was never synced then drops out at the next
 *    freeze.
 * 3. (`checkForeignKeys`) A dirty upsert whose row an FK action changed during the apply (ON
 *    DELETE SET NULL of a parent deleted elsewhere; capture was off) takes the row as it is now,
 *    as capture would have: its stale after-image still names the deleted parent, and the server
 *    would refuse it on every push.
 */
export function settleOrphanedIntents(ctx: EngineContext, checkForeignKeys: boolean): RowLostDetail[] {
  const lost: RowLostDetail[] = [];
  if (checkForeignKeys) {
    dropForeignKeyViolations(ctx, (v) => {
      const op = pendingOp(ctx, v.child, v.childKeyJson);
      if (op === null) return false;
      lost.push(lostRow(v.child, v.childKeyJson, 'parent_deleted_remotely', appRowByRowid(ctx, v.child, v.rowid), op));
      return true;
    });
  }
  const reported = new Set(lost.map((l) => `${l.table}\u0000${l.key}`));
  for (const t of ctx.model.tables) {
    // The row's last image is in d.payload when the engine deleted it (capture.ts, trigger _akd).
    const vanished = `d.schema_name = ? AND d.table_name = ? AND d.op <> 'DELETE' AND ${liveRowAbsentExpr(t, 'd')}`;
    const gone = ctx.db.exec({
      sql: `SELECT d.key_json, d.op, d.payload FROM _sync_dirty_rows AS d WHERE ${vanished}`,
      bind: [ctx.schema, t.table],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    if (gone.length === 0) continue;
    for (const [keyJson, op, payload] of gone) {
      const k = String(keyJson);
      const detail = lostRow(t, k, 'cascade', appRowFromLocalPayload(t, payload as string), op as WireOp);
      if (!reported.has(`${detail.table}\u0000${detail.key}`)) lost.push(detail);
    }
    ctx.db.exec({ sql: `UPDATE _sync_dirty_rows AS d SET op = 'DELETE', payload = NULL WHERE ${vanished}`, bind: [ctx.schema, t.table] });
  }
  if (checkForeignKeys) {
    for (const t of ctx.model.tables) {
      const now = livePayloadExpr(t, 'd');
      // Only stored payloads can be stale: one capture left NULL reads the live row anyway.
      ctx.db.exec({
        sql:
          `UPDATE _sync_dirty_rows AS d SET payload = ${now} ` +
          `WHERE d.schema_name = ? AND d.table_name = ? AND d.payload IS NOT NULL AND ${now} IS NOT NULL AND ${now} IS NOT d.payload`,
        bind: [ctx.schema, t.table],
      });
    }
  }
  return lost;
}
