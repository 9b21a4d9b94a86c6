/**
 * Push conflict resolution. The server rejects the whole bundle and reports the first conflicting
 * row; the resolver decides that row and the push retries under the same `source_bundle_id` (the
 * rejected bundle was never committed). A resolution that touches only its own row (the server's
 * live row adopted over a local upsert, the local intent kept, a merged row, a delete of a row no
 * other table references) with no newer local edit of the key is applied to the frozen bundle in
 * place, which is then sent again: a backlog of 20,000 rows meeting a conflict per round no longer
 * gives every row back to the dirty set and freezes it again. Any other resolution (a delete that
 * may cascade over rows of the bundle; a pending delete the adopted row may follow) gives every
 * other frozen row back to the dirty set, re-formed by the next freeze.
 *
 * Resolutions (all applied in one transaction, capture off):
 * - server: the server's state becomes local (row upserted, deleted, or forgotten when missing;
 *   a delete whose local cascade would reach rows this device may not know current is left to
 *   the pull); the local intent for that key is dropped, including an edit made after the freeze.
 * - local: the local intent is requeued on top of the server version (INSERT vs live becomes
 *   UPDATE; UPDATE vs deleted/missing becomes INSERT re-creating the row; DELETE vs gone is dropped).
 * - row (merge): the merged row is written locally and pushed like `local`.
 * - delete: the row is deleted locally, and remotely when the server still has it.
 *
 * After the resolution's transaction has committed, a `conflict` event reports the decision with
 * the local row as it was before resolution (the app's latest edit of that key, which may be newer
 * than the pushed intent) and the server's row, both in wire form.
 */
import { isJsonObject } from '../../protocol/index.ts';
import type { PushConflictDetail, WirePayload } from '../../protocol/index.ts';
import { clearRowState, deleteLocalRow, setRowState, settleOrphanedIntents, upsertLocalRow } from './apply.ts';
import { appRowFromWire } from './lost-rows.ts';
import { deleteReachesRowsUnderACascadedRow, parentDeleteHitsNewerRows } from './remote-cascades.ts';
import { applyTransaction, triggerNames } from './capture.ts';
import {
  checkWirePayloadShape,
  keyJsonToDisplay,
  localPayloadToWire,
  wireKeyToKeyJson,
  wirePayloadToLocalJson,
  wirePayloadToSqlite,
} from './codec.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { badResponse, isIntFrom, SyncError } from './errors.ts';
import type { FrozenRowRevision, OutboxRow } from './outbox.ts';
import { requeueOutboxInTransaction, reviseFrozenRow } from './outbox.ts';
import { readAttachment, requireRebuild } from './metadata.ts';
import { selectCached } from './statements.ts';
import type { TableModel } from './table-config.ts';
import { foreignKeyList, foreignKeyViolations } from './foreign-keys.ts';
import { CONFLICT_RESOLVER_TIMEOUT_MS, settleWithin } from './callback-deadline.ts';
import { CONFLICT_STRATEGIES, DEFAULT_CONFLICT_STRATEGY } from './conflict-strategies.ts';
import type { ConflictContext, ConflictResolution, ConflictResolver } from './conflict-strategies.ts';
import type { RowLostDetail } from './types.ts';
import { pendingPayloadExpr } from './pending-payload.ts';
import {
  anyPendingDelete,
  needsSnapshotToRestore,
  noteRowsUnderPendingRowsReachedByDelete,
  settleChildrenOfLocallyDeletedParents,
} from './local-parent-deletes.ts';

/** Asks the configured strategy: a resolver function, or a named one from `CONFLICT_STRATEGIES`. */
async function decide(ctx: EngineContext, c: ConflictContext): Promise<ConflictResolution> {
  const strategy = ctx.options.conflicts ?? DEFAULT_CONFLICT_STRATEGY;
  if (typeof strategy !== 'function') {
    const named: ConflictResolver = CONFLICT_STRATEGIES[strategy];
    return await named(c);
  }
  const ms = ctx.options.conflictResolverTimeoutMs ?? CONFLICT_RESOLVER_TIMEOUT_MS;
  const late = (): SyncError =>
    new SyncError(
      'conflict_resolver_timeout',
      `the conflict resolver did not decide ${c.table} ${c.key} within ${ms} ms; changes stay pending and the next sync asks again`,
    );
  return await settleWithin(
    ctx.clock,
    ms,
    Promise.resolve().then(() => strategy(c)),
    late,
  );
}

/**
 * Resolves one reported conflict. Returns the frozen rows as they stand when the resolution was
 * applied to the frozen bundle in place (it is to be sent again as it is), or null when the rest
 * of the bundle was given back to the dirty set (or nothing is left of it): the next freeze re-forms it.
 */
export async function resolveConflict(ctx: EngineContext, detail: PushConflictDetail, rows: OutboxRow[]): Promise<OutboxRow[] | null> {
  const where = 'push_conflict';
  if (!isJsonObject(detail)) throw badResponse(`${where}: conflict must be an object`);
  const t = tableOf(ctx, detail.schema, detail.table, where);
  const keyJson = wireKeyToKeyJson(t, detail.key, where);
  const serverVersion = detail.server_row_version;
  if (!isIntFrom(serverVersion, 0)) {
    throw badResponse(`${where}: server_row_version must be a non-negative integer`);
  }
  const serverDeleted = detail.server_row_deleted === true;
  const serverRow = detail.server_row ?? null;
  if (serverRow !== null) checkWirePayloadShape(t, serverRow, where);
  const serverLive = serverRow !== null && !serverDeleted;
  const local = rows.find((r) => r.table === t.table && r.keyJson === keyJson);
  if (!local) throw badResponse(`${where}: ${t.table} ${keyJsonToDisplay(t, keyJson)} is not in the pushed bundle`);

  const context: ConflictContext = {
    table: t.table,
    key: keyJsonToDisplay(t, keyJson),
    localOp: local.op,
    localRow: local.wire.payload ? { ...local.wire.payload } : null,
    serverRow: serverRow ? { ...serverRow } : null,
    baseVersion: local.baseRowVersion,
    serverVersion,
    serverDeleted,
  };
  let decision: ConflictResolution;
  try {
    decision = await decide(ctx, context);
  } catch (e) {
    applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
    if (e instanceof SyncError && e.code === 'conflict_resolver_timeout') throw e;
    throw new SyncError(
      'invalid_conflict_resolution',
      `conflict resolver threw: ${e instanceof Error ? e.message : String(e)}; changes stay pending`,
    );
  }

  // Validate the decision before touching anything.
  let kind: 'server' | 'local' | 'merged' | 'delete';
  let mergedLocalJson: string | null = null;
  let mergedWire: WirePayload | null = null;
  const keep = isJsonObject(decision) ? (decision as { keep?: unknown }).keep : undefined;
  if (keep === 'server') kind = 'server';
  else if (keep === 'local') kind = 'local';
  else if (isJsonObject(decision) && (decision as { delete?: unknown }).delete === true) kind = 'delete';
  else if (isJsonObject(decision) && isJsonObject((decision as { row?: unknown }).row)) {
    kind = 'merged';
    try {
      const row = (decision as { row: Record<string, unknown> }).row;
      const keyValue = keyJsonToDisplay(t, keyJson);
      const merged = { ...row, [t.key.wireName]: row[t.key.wireName] ?? keyValue } as WirePayload;
      checkWirePayloadShape(t, merged, 'merged row');
      if (merged[t.key.wireName] !== keyValue)
        throw new SyncError('invalid_conflict_resolution', 'merged row must keep the conflicting key');
      mergedLocalJson = wirePayloadToLocalJson(t, merged);
      mergedWire = localPayloadToWire(t, mergedLocalJson);
    } catch (e) {
      applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
      throw new SyncError(
        'invalid_conflict_resolution',
        `merged row rejected: ${e instanceof Error ? e.message : String(e)}; changes stay pending`,
      );
    }
  } else {
    applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
    throw new SyncError(
      'invalid_conflict_resolution',
      `resolver returned ${JSON.stringify(decision)}; expected {keep:'server'|'local'}, {row} or {delete:true}`,
    );
  }
  if (kind === 'local' && local.op === 'DELETE' && !serverLive) kind = 'server'; // nothing left to delete remotely

  // The local side as it stands right before the resolution is applied: an edit made after the
  // freeze (also one made while an async resolver ran) is in the dirty set, newer than the intent.
  const localBefore = localRowBeforeResolution(ctx, t, keyJson) ?? context.localRow;
  const skip = new Set([`${t.table}\u0000${keyJson}`]);
  let lost: RowLostDetail[] = [];
  const restoreFromSnapshot = kind === 'server' && serverLive && local.op === 'DELETE' && needsSnapshotToRestore(ctx, t, keyJson);
  // The server deleted the row in a bundle this device has not pulled up to. Deleting it now would
  // run the local FK actions over the rows under it as this device last saw them: a row the server
  // had moved away before the delete comes back with its own later bundle, but the rows under that
  // row, removed by the local cascade, would not (nothing of them changed). Then the pull deletes
  // it, in its place in the history (with the server's own cascade in that bundle), and the
  // resolution only drops the local intent.
  const deleteAtPull =
    kind === 'server' &&
    serverDeleted &&
    readAttachment(ctx.db).lastBundleSeqSeen < serverVersion - 1 &&
    deleteReachesRowsUnderACascadedRow(ctx, t, keyJson);
  let revisedRows: OutboxRow[] | null = null;
  const base = serverLive || serverDeleted ? serverVersion : 0;
  // What is sent for the key after the resolution (null: nothing).
  const intent: FrozenRowRevision =
    kind === 'local'
      ? { op: local.op === 'DELETE' ? 'DELETE' : serverLive ? 'UPDATE' : 'INSERT', baseRowVersion: base }
      : kind === 'merged'
        ? { op: serverLive ? 'UPDATE' : 'INSERT', baseRowVersion: base, localPayload: mergedLocalJson! }
        : kind === 'delete' && serverLive
          ? { op: 'DELETE', baseRowVersion: base }
          : null;
  const deleting = kind === 'delete' || (kind === 'server' && !serverLive && !deleteAtPull);
  // The resolution's effect on the local row (the same applied in place or after a requeue).
  const applyLocally = (): void => {
    // A delete applied here runs the local FK actions (CASCADE, SET NULL) over rows this device
    // may know at a newer version than this delete: the server's later history never rewrites
    // them back, so the device takes a snapshot at its next pull.
    if (
      deleting &&
      (serverDeleted || kind === 'delete') &&
      parentDeleteHitsNewerRows(ctx, [{ t, keyJson, op: 'DELETE' }], serverVersion, false)
    )
      requireRebuild(ctx.db);
    if (deleteAtPull) return;
    // The server's version becomes our base for whatever we send next.
    if (serverLive || serverDeleted) setRowState(ctx, t, keyJson, serverVersion, !serverLive);
    else clearRowState(ctx, t, keyJson);
    if (deleting) deleteLocalRow(ctx, t, keyJson);
    else if (kind !== 'local') upsertLocalRow(ctx, t, wirePayloadToSqlite(t, kind === 'merged' ? mergedWire! : serverRow!));
  };
  const applyResolution = (): void => {
    applyTransaction(ctx.db, () => {
      if (resolvableInPlace(ctx, kind, local.op, serverLive, restoreFromSnapshot || deleteAtPull, t, keyJson)) {
        // No other row of the bundle is affected, so only this row's frozen form changes.
        ctx.db.exec('SAVEPOINT conflict_in_place');
        applyLocally();
        // The adopted row may reference a parent with a pending local delete, and then follows
        // it (below), which can reach other rows of the bundle. The transaction began with no
        // violation (FKs hold at every commit), so any now is this row's.
        if (!(kind === 'server' && serverLive && anyPendingDelete(ctx) && foreignKeyViolations(ctx, t).length > 0)) {
          ctx.db.exec('RELEASE conflict_in_place');
          revisedRows = reviseFrozenRow(ctx, rows, local.ordinal, intent);
          return;
        }
        ctx.db.exec('ROLLBACK TO conflict_in_place; RELEASE conflict_in_place');
      }
      const ordinalOffset = requeueOutboxInTransaction(ctx, skip);
      // The key's pending edit made after the freeze stays under a kept local intent, and goes otherwise.
      if (kind !== 'local')
        ctx.db.exec({
          sql: 'DELETE FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?',
          bind: [ctx.schema, t.table, keyJson],
        });
      if (restoreFromSnapshot) {
        // The local delete lost, and the rows a pull dropped under it exist only on the server:
        // the next pull rebuilds from a snapshot, which brings the row and them back.
        requireRebuild(ctx.db);
        return;
      }
      // The local delete below cascades over the rows under this one as this device holds them:
      // pulled rows under a pending row there may stand elsewhere on the server, which keeps them.
      if (deleting) noteRowsUnderPendingRowsReachedByDelete(ctx, new Map([[t, [keyJson]]]));
      applyLocally();
      if (intent)
        ctx.db.exec({
          // Its place among the rows requeued with it (outbox.ts), which is free: that requeue
          // put frozen row r at `offset + r.ordinal`, below every ordinal pending then, and this
          // row is the one frozen row it skipped (row ordinals are the outbox's primary key).
          // Nothing in this transaction adds dirty rows (capture is off), and operations are
          // serialized, so the outbox is still the one `rows` was read from. (Checking for the
          // place being taken would scan the dirty set: dirty_ordinal has no index since layout 5.)
          sql:
            'INSERT INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?) ' +
            'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET base_row_version = excluded.base_row_version',
          bind: [
            ctx.schema,
            t.table,
            keyJson,
            intent.op,
            base,
            kind === 'local' ? local.localPayload : (intent.localPayload ?? null),
            ordinalOffset + local.ordinal,
          ],
        });
      // The server's row may reference a parent this device deleted and has not pushed yet (a
      // cycle, or a parent deleted after the other device's edit): it follows the parent's fate
      // as the server will decide it, like a pulled row (local-parent-deletes.ts).
      if (kind === 'server' && serverLive && anyPendingDelete(ctx)) {
        lost = settleChildrenOfLocallyDeletedParents(ctx, [t]).lost;
        // A row dropped there took this device's pending rows under it by the local cascade:
        // they settle (and are reported) as after a resolved delete.
        if (lost.length) lost.push(...settleOrphanedIntents(ctx, true));
      }
      // A row the resolution deleted took its children with it by the local cascade: their
      // pending inserts/updates would cost a rejected push. They settle as after a pulled delete.
      if (deleting) lost.push(...settleOrphanedIntents(ctx, true));
    });
  };
  try {
    applyResolution();
  } catch (e) {
    if (!(e instanceof SyncError) || e.code !== 'apply_failed') throw e;
    // The resolved row references something this device has not pulled yet (e.g. the server's
    // row points at a parent created on another device). Nothing was applied; give the whole
    // bundle back to the dirty set so a pull can bring the parent, then push again.
    applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
    throw new SyncError(
      'conflict_needs_pull',
      `resolving the conflict on ${t.table} ${context.key} needs rows not pulled yet (${e.message}); changes stay pending`,
    );
  }
  ctx.applied([t.table]);
  ctx.rowsLost(lost);
  ctx.conflict({
    table: t.table,
    key: context.key,
    localOp: local.op,
    localRow: appRowFromWire(t, localBefore),
    serverRow: appRowFromWire(t, serverRow),
    serverVersion,
    serverDeleted,
    resolution: kind,
  });
  return revisedRows;
}

/**
 * True when deleting a row of `t` touches no other row: no synced table references `t` (so no
 * local FK action, and no pending change of another row left dangling) and no trigger of the app
 * fires on it. Read each time (a handful of small PRAGMA and schema reads): the app may add
 * triggers while the engine is open.
 */
function deletesOnlyItsOwnRow(ctx: EngineContext, t: TableModel): boolean {
  const name = t.table.toLowerCase();
  if (ctx.model.tables.some((c) => foreignKeyList(ctx, c).some((fk) => String(fk.table).toLowerCase() === name))) return false;
  // Capture's own triggers write only metadata.
  const own = JSON.stringify(triggerNames(t));
  return (
    Number(
      ctx.db.selectValue(
        "SELECT EXISTS (SELECT 1 FROM (SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1 " +
          "UNION ALL SELECT name FROM sqlite_temp_schema WHERE type = 'trigger' AND tbl_name = ?1) WHERE name NOT IN (SELECT value FROM json_each(?2)))",
        [t.table, own],
      ),
    ) === 0
  );
}

/**
 * Whether a resolution changes nothing but its own row, so the frozen bundle can take it in place:
 * the server's live row adopted over a local upsert (unless it then references a parent with a
 * pending local delete: checked once it is written), the local intent kept (its op
 * adjusted), a merged row, or a delete (the server's, or the resolver's) of a row of a table
 * nothing else depends on; and no edit of the key made after the freeze waits in the dirty set
 * (the requeue folds that edit into the re-formed bundle). `kind === 'local'` for a local delete
 * reaches here only when the server still has the row (see `resolveConflict`).
 */
function resolvableInPlace(
  ctx: EngineContext,
  kind: 'server' | 'local' | 'merged' | 'delete',
  localOp: string,
  serverLive: boolean,
  elsewhere: boolean,
  t: TableModel,
  keyJson: string,
): boolean {
  // A snapshot restores the row, or the pull deletes it: not this resolution's to apply.
  if (elsewhere) return false;
  if ((kind === 'delete' || (kind === 'server' && !serverLive)) && !deletesOnlyItsOwnRow(ctx, t)) return false;
  if (kind === 'server' && serverLive && localOp === 'DELETE') return false;
  return (
    Number(
      selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?)', [
        ctx.schema,
        t.table,
        keyJson,
      ]),
    ) === 0
  );
}

/**
 * The wire form of the key's pending edit made after the freeze (null payload = deleted), or
 * undefined when there is none (the pushed intent is then the latest local state).
 */
function localRowBeforeResolution(ctx: EngineContext, t: TableModel, keyJson: string): Record<string, unknown> | null | undefined {
  const found = ctx.db.exec({
    sql: `SELECT ${pendingPayloadExpr(t, 'd')} FROM _sync_dirty_rows AS d WHERE d.schema_name = ? AND d.table_name = ? AND d.key_json = ?`,
    bind: [ctx.schema, t.table, keyJson],
    rowMode: 'array',
    returnValue: 'resultRows',
  }) as unknown[][];
  if (found.length === 0) return undefined;
  const payload = found[0]![0];
  return typeof payload === 'string' ? { ...localPayloadToWire(t, payload) } : null;
}
