/**
 * The last-resort self-heal: a device whose same sync step fails the same way again and again
 * recovers by itself, and keeps every pending change it can.
 *
 * Which failures count: those a retry cannot fix because they are caused by data (a pull the
 * local database refuses, a push the server rejects, a local value that cannot travel), told
 * apart by error class rather than exact status: the engine's own data codes, and any 4xx from
 * the server except authentication (401/403), timeouts (408) and rate limits (429). Network
 * failures, 5xx other than a rejected commit, capacity answers and auth never count: they are
 * retried with backoff as before.
 *
 * How it heals (engine.ts runs it inside the failing `sync()`):
 * 1. A rejected frozen bundle goes back to the dirty set; the device rebuilds from a server
 *    snapshot with its pending changes kept on top (changes that now reference rows the server
 *    does not have are removed, each a `lost` event); then push and pull once more.
 *    If even that rebuild fails (a pending change cannot be re-applied on top of the server's
 *    state), the changes are set aside first and the rebuild runs on the server's state alone.
 * 2. If the push is still refused the same way, the pending changes are set aside
 *    (`_sync_held_changes`) and given back in halves, in capture order, each part pushed on its
 *    own: a part that commits is kept, a refused part is halved again, and a single change the
 *    server refuses on its own is dropped (a `lost` event, reason `unsyncable`, with its row).
 *    The local row then takes the server's state (a snapshot at the end).
 */
import { SyncError } from './errors.ts';
import type { EngineContext } from './context.ts';
import { applyTransaction, ordinalOffsetBeforePending } from './capture.ts';
import { appRowFromLocalPayload, lostRow } from './lost-rows.ts';
import { readOutboxHeader } from './metadata.ts';
import { requeueOutboxInTransaction } from './outbox.ts';
import type { RowLostDetail } from './types.ts';
import { pendingPayloadAnyTableExpr, pendingPayloadExpr } from './pending-payload.ts';

/** Engine codes caused by data: retrying the same step the same way fails the same way. */
const DATA_CODES = new Set([
  'apply_failed',
  'push_session_commit_failed',
  'push_commit_invalid',
  'conflict_needs_pull',
  'conflict_retry_exhausted',
  'wire_value_invalid',
  // A value the server's dialect cannot carry exactly (go-oversync's float64 rows): a snapshot
  // brings the row as PostgreSQL's text; a local value no push can carry ends as a lost change.
  'value_not_representable',
]);
const NOT_DATA_STATUS = new Set([401, 403, 408, 429]);
/** 4xx answers with their own handling (lifecycle, recovery, resolver bugs): never healed this way. */
const NOT_DATA_CODES = new Set([
  'auth_required',
  'token_unavailable',
  'not_attached',
  'initialization_stale',
  'initialization_expired',
  'scope_initializing',
  'scope_uninitialized',
  'retry_later',
  'engine_closed',
  'aborted',
  'network_error',
  'history_pruned',
  'checkpoint_ahead',
  'source_sequence_out_of_order',
  'source_sequence_changed',
  'source_retired',
  'source_sequence_mismatch',
  'rebuild_required',
  'invalid_conflict_resolution',
  'conflict_resolver_timeout',
  'attach_binding_conflict',
  'attach_user_mismatch',
  'lifecycle_unsupported',
  'table_contract_mismatch',
  'config_invalid',
]);

/** True when `e` is a failure the self-heal counts (see the module comment). */
export function isDataFailure(e: unknown): e is SyncError {
  if (!(e instanceof SyncError) || NOT_DATA_CODES.has(e.code)) return false;
  if (DATA_CODES.has(e.code)) return true;
  return e.status !== undefined && e.status >= 400 && e.status < 500 && !NOT_DATA_STATUS.has(e.status);
}

/**
 * Notes a failure of `step` and returns how many times in a row that step failed with this cause
 * (code and status). Kept in `_sync_failure_streak`, so reloads between the failures count too.
 */
export function noteFailure(ctx: EngineContext, step: 'push' | 'pull', e: SyncError): number {
  const cause = `${e.code}\u0000${e.status ?? ''}`;
  // SET expressions read the stored row: the count grows only while step and cause repeat.
  const failures = ctx.db.selectValue(
    'INSERT INTO _sync_failure_streak(singleton_key, step, cause, failures) VALUES (1, ?1, ?2, 1) ' +
      'ON CONFLICT(singleton_key) DO UPDATE SET failures = CASE WHEN step = ?1 AND cause = ?2 THEN failures + 1 ELSE 1 END, step = ?1, cause = ?2 ' +
      'RETURNING failures',
    [step, cause],
  );
  return Number(failures);
}

/** Ends the streak (a sync succeeded, or the self-heal runs); writes only when there is one. */
export function clearFailureStreak(ctx: EngineContext): void {
  if (ctx.db.selectValue('SELECT 1 FROM _sync_failure_streak') !== undefined) ctx.db.exec('DELETE FROM _sync_failure_streak');
}

/** Inside no transaction: gives a frozen bundle the server rejected back to the dirty set. */
export function requeueRejectedOutbox(ctx: EngineContext): void {
  if (readOutboxHeader(ctx.db).state === 'prepared') applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
}

/**
 * Gives held changes back to the dirty set (a newer dirty row of the same key wins), in their
 * order and before every change captured since (capture.ts, `ordinalOffsetBeforePending`).
 */
export function restoreHeldChanges(ctx: EngineContext): void {
  applyTransaction(ctx.db, () => {
    const held = Number(ctx.db.selectValue('SELECT COUNT(*) FROM _sync_held_changes'));
    if (held === 0) return;
    ctx.db.exec({
      sql:
        'INSERT OR IGNORE INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
        'SELECT schema_name, table_name, key_json, op, base_row_version, payload, ? + row_number() OVER (ORDER BY dirty_ordinal, rowid) ' +
        'FROM _sync_held_changes',
      bind: [ordinalOffsetBeforePending(ctx.db, held)],
    });
    ctx.db.exec('DELETE FROM _sync_held_changes');
  });
}

interface Held {
  table: string;
  keyJson: string;
  op: string;
  /**
   * The row the change stands for when it was read (its stored payload, else the live row then):
   * a dirty row of the key that no longer stands for it is an app edit made since.
   */
  payload: string | null;
  ordinal: number;
}

function heldRows(ctx: EngineContext): Held[] {
  // The hold stored each change's payload, and COALESCE takes it without reading the table: the
  // live row is read only for an upsert whose row was already gone when it was held (capture off
  // when it was deleted), which the rebuild may have brought back.
  return (
    ctx.db.exec({
      sql:
        `SELECT h.table_name, h.key_json, h.op, ${pendingPayloadAnyTableExpr(ctx.model, 'h')}, h.dirty_ordinal ` +
        'FROM _sync_held_changes AS h WHERE h.schema_name = ? ORDER BY h.dirty_ordinal',
      bind: [ctx.schema],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][]
  ).map(([table, keyJson, op, payload, ordinal]) => ({
    table: String(table),
    keyJson: String(keyJson),
    op: String(op),
    payload: (payload as string | null) ?? null,
    ordinal: Number(ordinal),
  }));
}

/** Dirty row `d` of one key is still the held change `r` (binds: schema, table, key, op, payload). */
function stillHeldChange(ctx: EngineContext, r: Held): string {
  const t = ctx.model.byName.get(r.table);
  const payload = t ? pendingPayloadExpr(t, 'd') : 'd.payload';
  return `d.schema_name = ? AND d.table_name = ? AND d.key_json = ? AND d.op = ? AND ${payload} IS ?`;
}

/**
 * Moves `rows` from the held set to the dirty set (a newer app edit of a key wins over it), in
 * the order given and before every pending change.
 */
function release(ctx: EngineContext, rows: Held[]): void {
  applyTransaction(ctx.db, () => {
    const offset = ordinalOffsetBeforePending(ctx.db, rows.length);
    for (const [i, r] of rows.entries()) {
      ctx.db.exec({
        sql:
          'INSERT OR IGNORE INTO _sync_dirty_rows(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
          'SELECT schema_name, table_name, key_json, op, base_row_version, payload, ? FROM _sync_held_changes ' +
          'WHERE schema_name = ? AND table_name = ? AND key_json = ?',
        bind: [offset + i + 1, ctx.schema, r.table, r.keyJson],
      });
      ctx.db.exec({
        sql: 'DELETE FROM _sync_held_changes WHERE schema_name = ? AND table_name = ? AND key_json = ?',
        bind: [ctx.schema, r.table, r.keyJson],
      });
    }
  });
}

/** Sets every pending change aside (a rejected frozen bundle first goes back to the dirty set). */
export function holdPendingChanges(ctx: EngineContext): void {
  requeueRejectedOutbox(ctx);
  holdAll(ctx);
}

/** Moves every dirty row to the held set (after the outbox was requeued). */
function holdAll(ctx: EngineContext): void {
  applyTransaction(ctx.db, () => {
    // Held with their payloads: the rebuild that may follow replaces the live rows they stand for.
    ctx.db.exec(
      'INSERT OR REPLACE INTO _sync_held_changes(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
        `SELECT d.schema_name, d.table_name, d.key_json, d.op, d.base_row_version, ${pendingPayloadAnyTableExpr(ctx.model, 'd')}, ` +
        'd.dirty_ordinal FROM _sync_dirty_rows AS d',
    );
    ctx.db.exec('DELETE FROM _sync_dirty_rows');
  });
}

/** Takes released rows back into the held set, unless the app edited them since (its edit stays). */
function rehold(ctx: EngineContext, rows: Held[]): void {
  applyTransaction(ctx.db, () => {
    for (const r of rows) {
      ctx.db.exec({
        sql:
          'INSERT OR REPLACE INTO _sync_held_changes(schema_name, table_name, key_json, op, base_row_version, payload, dirty_ordinal) ' +
          `SELECT d.schema_name, d.table_name, d.key_json, d.op, d.base_row_version, ${pendingPayloadAnyTableExpr(ctx.model, 'd')}, ` +
          'd.dirty_ordinal FROM _sync_dirty_rows AS d ' +
          `WHERE ${stillHeldChange(ctx, r)}`,
        bind: [ctx.schema, r.table, r.keyJson, r.op, r.payload],
      });
      ctx.db.exec({
        sql: `DELETE FROM _sync_dirty_rows AS d WHERE ${stillHeldChange(ctx, r)}`,
        bind: [ctx.schema, r.table, r.keyJson, r.op, r.payload],
      });
    }
  });
}

/**
 * Step 2 of the heal: pushes the pending changes in halves and drops the ones the server refuses
 * on their own. `push` runs one push; a failure `isDataFailure` says nothing about the rest.
 * Returns the dropped changes (emit after). Any other failure gives everything back and throws.
 */
export async function isolateRefusedChanges(ctx: EngineContext, push: () => Promise<unknown>): Promise<RowLostDetail[]> {
  const dropped: RowLostDetail[] = [];
  requeueRejectedOutbox(ctx);
  holdAll(ctx);
  try {
    let size = heldRows(ctx).length;
    // Each round either commits a part, halves the part size, or drops one change: bounded.
    for (let round = 0; round < 64 * 4; round++) {
      const held = heldRows(ctx);
      if (held.length === 0) break;
      const part = held.slice(0, Math.max(1, Math.min(size, held.length)));
      release(ctx, part);
      try {
        await push();
        size = heldRows(ctx).length; // that part is in: try all the rest at once
        continue;
      } catch (e) {
        if (!isDataFailure(e)) throw e;
        requeueRejectedOutbox(ctx);
      }
      if (part.length > 1) {
        rehold(ctx, part);
        size = Math.ceil(part.length / 2);
        continue;
      }
      // One change the server refuses on its own: it cannot be kept.
      const r = part[0]!;
      const t = ctx.model.byName.get(r.table);
      applyTransaction(ctx.db, () => {
        ctx.db.exec({
          sql: `DELETE FROM _sync_dirty_rows AS d WHERE ${stillHeldChange(ctx, r)}`,
          bind: [ctx.schema, r.table, r.keyJson, r.op, r.payload],
        });
      });
      if (t)
        dropped.push(lostRow(t, r.keyJson, 'unsyncable', appRowFromLocalPayload(t, r.payload), r.op as 'INSERT' | 'UPDATE' | 'DELETE'));
      size = heldRows(ctx).length;
    }
  } finally {
    restoreHeldChanges(ctx);
  }
  return dropped;
}
