/**
 * Rows a pulled bundle removes together with their parent. When another device deletes a parent,
 * the server's cascade deletes its children in the same bundle, including rows this device
 * created that the other device never saw. The app hears about each such row (`lost`, reason
 * `cascade`, with the row as it was), not only a table notice. A remote delete of a row whose
 * parent stays is an ordinary change and is not reported.
 */
import { bytesToHex } from '../../protocol/index.ts';
import { liveRowAbsentExpr } from './pending-payload.ts';
import { keyJsonToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import { actionRefs, walkRowsReachedByDelete } from './foreign-keys.ts';
import type { ActionRef } from './foreign-keys.ts';
import { lostRow } from './lost-rows.ts';
import { readAttachment } from './metadata.ts';
import type { DecodedRow } from './pull.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import type { RowLostDetail } from './types.ts';

const cascadeRefsCache = new WeakMap<TableModel, ActionRef[]>();

/**
 * Before a pulled bundle's writes: true when one of its parent DELETEs would make the local FK
 * action (CASCADE, SET NULL) rewrite a row this device knows at a version above the bundle's:
 * its own commit, replayed before the pull brought this older delete (the parent was re-created
 * since). The server's later history never rewrites that row back, so the device must take the
 * server's state from a snapshot after this bundle.
 */
export function parentDeleteHitsNewerRows(
  ctx: EngineContext,
  applying: readonly Pick<DecodedRow, 't' | 'keyJson' | 'op'>[],
  seq: number,
  gated = true,
): boolean {
  const deleted = new Map<TableModel, string[]>();
  for (const r of applying) {
    if (r.op !== 'DELETE') continue;
    let keys = deleted.get(r.t);
    if (!keys) deleted.set(r.t, (keys = []));
    keys.push(r.keyJson);
  }
  // No synced table references a deleted row's table with an ON DELETE action: nothing can be
  // hit, and the known version (a scan of the device's row states) need not be read.
  if (!ctx.model.tables.some((c) => actionRefs(ctx, c).some((ref) => deleted.has(ref.parent)))) return false;
  // Nothing is known above this bundle (the usual pull): no row can be hit.
  const known = gated ? highestKnownVersion.get(ctx) : undefined;
  if (known !== undefined && known <= seq) return false;
  return walkRowsReachedByDelete(
    ctx,
    deleted,
    { levels: 8, actions: ['CASCADE', 'SET NULL', 'SET DEFAULT'], versions: true },
    (row) => row.rowVersion !== null && row.rowVersion > seq,
  );
}

/** Per pull (see `noteHighestKnownVersion`): the highest row version the device knew at its start. Absent outside a pull. */
const highestKnownVersion = new WeakMap<EngineContext, number>();

/**
 * Starts a pull's gate: bundles at or above the highest row version the device knows skip
 * `parentDeleteHitsNewerRows`, and a pull that started with nothing known above its checkpoint
 * skips `staleCascadeRemovedKnownRows`: only a device holding versions ahead of its checkpoint
 * (its own commits, conflict answers) can be hit. Read once, at the start, from the kept bound
 * (`knownRowVersion` of `readAttachment`: one row), before the pull's own bundles raise it.
 */
export function noteHighestKnownVersion(ctx: EngineContext): void {
  highestKnownVersion.set(ctx, readAttachment(ctx.db).knownRowVersion);
}

/** Ends a pull's gate (`noteHighestKnownVersion`). */
export function forgetHighestKnownVersion(ctx: EngineContext): void {
  highestKnownVersion.delete(ctx);
}

/** Single-column ON DELETE CASCADE references of `t` to synced tables' sync keys. */
function cascadeRefs(ctx: EngineContext, t: TableModel): ActionRef[] {
  let refs = cascadeRefsCache.get(t);
  if (!refs) cascadeRefsCache.set(t, (refs = actionRefs(ctx, t).filter((r) => r.action === 'CASCADE')));
  return refs;
}

/**
 * Inside the bundle's transaction, before its rows are written: the local rows the applying
 * DELETEs remove whose cascading parent the same bundle deletes too, as they are now.
 */
export function rowsRemovedWithParent(ctx: EngineContext, applying: readonly DecodedRow[]): RowLostDetail[] {
  const deletedKeys = new Map<TableModel, Set<string>>();
  for (const r of applying) {
    if (r.op !== 'DELETE') continue;
    let keys = deletedKeys.get(r.t);
    if (!keys) deletedKeys.set(r.t, (keys = new Set()));
    keys.add(r.keyJson);
  }
  const out: RowLostDetail[] = [];
  if (deletedKeys.size < 2) return out; // a parent and a child table at least
  for (const r of applying) {
    if (r.op !== 'DELETE') continue;
    const refs = cascadeRefs(ctx, r.t).filter((ref) => deletedKeys.has(ref.parent));
    if (refs.length === 0) continue;
    const cols = r.t.columns.map((c) => quoteIdent(c.name)).join(', ');
    const found = ctx.db.exec({
      sql: `SELECT ${cols} FROM ${quoteIdent(r.t.table)} WHERE ${quoteIdent(r.t.key.name)} = ?`,
      bind: [keyJsonToSqlite(r.t, r.keyJson) as never],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    if (found.length === 0) continue;
    const row: Record<string, unknown> = {};
    r.t.columns.forEach((c, i) => (row[c.name] = found[0]![i] ?? null));
    const withParent = refs.some((ref) => {
      const v = row[ref.column];
      if (v === null || v === undefined) return false;
      const keyText = ref.parent.key.uuidAsBlob && v instanceof Uint8Array ? bytesToHex(v) : String(v);
      return deletedKeys.get(ref.parent)!.has(JSON.stringify({ [ref.parent.key.wireName]: keyText }));
    });
    if (withParent) out.push(lostRow(r.t, r.keyJson, 'cascade', row, null));
  }
  return out;
}

/**
 * True when deleting `t`/`keyJson` locally would remove, by CASCADE, a row that has rows of its own
 * under it through an ON DELETE action (CASCADE, SET NULL, SET DEFAULT): what a delete applied
 * ahead of the pull can get wrong (see `resolveConflict`), as the rows directly under the deleted
 * one come back with a later bundle of their own if the server had moved them away, but the rows
 * under those do not.
 */
export function deleteReachesRowsUnderACascadedRow(ctx: EngineContext, t: TableModel, keyJson: string): boolean {
  const cascaded = new Map<TableModel, string[]>();
  walkRowsReachedByDelete(ctx, new Map([[t, [keyJson]]]), { levels: 1, actions: ['CASCADE'], versions: false }, (row) => {
    let keys = cascaded.get(row.table);
    if (!keys) cascaded.set(row.table, (keys = []));
    keys.push(row.keyJson);
  });
  if (cascaded.size === 0) return false;
  return walkRowsReachedByDelete(
    ctx,
    cascaded,
    { levels: 1, actions: ['CASCADE', 'SET NULL', 'SET DEFAULT'], versions: false },
    () => true,
  );
}

/** True when some synced table references `t` with ON DELETE CASCADE (deleting in `t` can cascade locally). */
export function isCascadeParent(ctx: EngineContext, t: TableModel): boolean {
  return ctx.model.tables.some((c) => cascadeRefs(ctx, c).some((ref) => ref.parent === t));
}

/**
 * After a pull that deleted cascade parents: true when a local cascade removed a row this device
 * knows alive at a version above `since` (its own commit, replayed before the pull brought the
 * older parent delete), which no later bundle will bring back: the device must take the server's
 * state from a snapshot. Rows with a pending change, or dropped for a pending local delete, are
 * absent on purpose and do not count.
 */
export function staleCascadeRemovedKnownRows(ctx: EngineContext, since: number): boolean {
  const known = highestKnownVersion.get(ctx);
  if (known !== undefined && known <= since) return false;
  for (const t of ctx.model.tables) {
    if (cascadeRefs(ctx, t).length === 0) continue;
    const found = ctx.db.selectValue(
      `SELECT EXISTS (SELECT 1 FROM _sync_row_state r ` +
        'WHERE r.schema_name = ?1 AND r.table_name = ?2 AND r.deleted = 0 AND r.row_version > ?3 ' +
        `AND ${liveRowAbsentExpr(t, 'r')} ` +
        'AND NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d WHERE d.schema_name = r.schema_name AND d.table_name = r.table_name AND d.key_json = r.key_json) ' +
        'AND NOT EXISTS (SELECT 1 FROM _sync_outbox_rows o WHERE o.schema_name = r.schema_name AND o.table_name = r.table_name AND o.key_json = r.key_json) ' +
        'AND NOT EXISTS (SELECT 1 FROM _sync_dropped_rows x WHERE x.schema_name = r.schema_name AND x.table_name = r.table_name AND x.key_json = r.key_json))',
      [ctx.schema, t.table, since],
    );
    if (Number(found) === 1) return true;
  }
  return false;
}
