/**
 * Pull to a stable ceiling. The first page freezes `stable_bundle_seq`; follow-up pages pass it as
 * `target_bundle_seq`. Each page is validated whole before anything is applied; each bundle is
 * then applied in its own transaction (FKs deferred, capture off) together with the checkpoint.
 *
 * Pulls coexist with unsynced local edits (the KMP client refuses to pull then): an incoming row
 * whose key has a pending local intent (dirty or frozen) is skipped, and that intent keeps its
 * base version, so the next push meets an ordinary conflict and the configured resolver decides.
 */
import type { PullResponse, WirePayload } from '../../protocol/index.ts';
import { pullRequest } from './protocol-client.ts';
import { PullPageReader } from './pull-page-text.ts';
import type { DecodedPullPage } from './pull-page-text.ts';
import { anyLocalIntent, deleteLocalRow, setRowState, settleOrphanedIntents } from './apply.ts';
import { applyTransaction, withoutCaptureTriggers } from './capture.ts';
import { inboundValueReader, wireKeyToKeyJson } from './codec.ts';
import { stagedDecodeExpr, stagePayload } from './snapshot-stage.ts';
import {
  anyDroppedRows,
  anyPendingDelete,
  droppedRowsTheServerKept,
  noteRowsUnderPendingRowsReachedByDelete,
  settleChildrenOfLocallyDeletedParents,
} from './local-parent-deletes.ts';
import {
  forgetHighestKnownVersion,
  isCascadeParent,
  noteHighestKnownVersion,
  parentDeleteHitsNewerRows,
  rowsRemovedWithParent,
  staleCascadeRemovedKnownRows,
} from './remote-cascades.ts';
import { dropChildrenOfLaterDeletedParents } from './stale-parents.ts';
import type { RowLostDetail } from './types.ts';
import type { EngineContext } from './context.ts';
import { tableOf } from './context.ts';
import { badResponse, isIntFrom, SyncError } from './errors.ts';
import { raiseKnownRowVersion, readAttachment, recordPulledBundle, requireRebuild } from './metadata.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';
import { cachedStatement, runCached, selectCached, selectRowsCached } from './statements.ts';

const DEFAULT_MAX_BUNDLES = 1000;

/** A value staged for its column (`snapshot-stage.ts` encoding): text, 0 / 1 for a boolean, or null. */
export type StagedValue = string | number | null;

export interface DecodedRow {
  t: TableModel;
  keyJson: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  version: number;
  payload: WirePayload | null;
  /** The payload validated and staged (`snapshot-stage.ts` encoding) in column order; null for a DELETE. */
  staged: StagedValue[] | null;
}

/**
 * Requests the pull page after `after` and decodes it as it arrives: straight from its text when
 * it is in the layout `pull-page-text.ts` takes (our server's), else parsed and checked by
 * `validatePullPage` (the same rows, or the typed error).
 */
async function fetchPage(ctx: EngineContext, after: number, maxBundles: number, target: number): Promise<DecodedPullPage> {
  const spec = pullRequest(after, maxBundles, target);
  const reader = new PullPageReader(ctx, after, target);
  const status = await ctx.transport.streamText(spec, (text) => reader.push(text, false));
  reader.push('', true);
  if (reader.page) {
    ctx.transport.completedExchanges++;
    return reader.page;
  }
  const page = ctx.transport.parseBody<PullResponse>(spec, reader.text(), status);
  const bundles = validatePullPage(ctx, page, after, target);
  return { stableBundleSeq: page.stable_bundle_seq, hasMore: page.has_more, bundles };
}

/** Validates a pull page against the request (fixture `pull-snapshot/basic.json` rules). */
export function validatePullPage(
  ctx: EngineContext,
  page: PullResponse,
  after: number,
  target: number,
): { seq: number; rows: DecodedRow[] }[] {
  if (!page || !Array.isArray(page.bundles) || !isIntFrom(page.stable_bundle_seq, 0) || typeof page.has_more !== 'boolean')
    throw badResponse('pull: not a page of bundles, a non-negative stable_bundle_seq and a boolean has_more');
  if (page.bundles.length > 0 && page.stable_bundle_seq === 0)
    throw badResponse('pull: missing stable_bundle_seq for non-empty bundle list');
  if (page.stable_bundle_seq < after)
    throw badResponse(`pull: stable_bundle_seq ${page.stable_bundle_seq} is behind requested after_bundle_seq ${after}`);
  if (target > 0 && page.stable_bundle_seq !== target)
    throw badResponse(`pull: stable_bundle_seq changed from ${target} to ${page.stable_bundle_seq} within one pull`);
  let prev = after;
  const inbound = inboundValueReader(ctx, 'bundle');
  return page.bundles.map((b, bi) => {
    const where = `pull bundle ${bi}`;
    if (!b || typeof b !== 'object' || !Array.isArray(b.rows)) throw badResponse(`${where}: rows missing`);
    if (!isIntFrom(b.bundle_seq, 0) || b.bundle_seq <= prev || b.bundle_seq > page.stable_bundle_seq) {
      throw badResponse(`${where}: bundle_seq ${b.bundle_seq} must increase above ${prev} and not exceed ${page.stable_bundle_seq}`);
    }
    prev = b.bundle_seq;
    const rows = b.rows.map((r, ri) => {
      const w = `${where} row ${ri}`;
      if (!r || typeof r !== 'object') throw badResponse(`${w}: not an object`);
      if (!isIntFrom(r.row_version, 1)) throw badResponse(`${w}: bundle row row_version ${r.row_version} must be positive`);
      if (r.op !== 'INSERT' && r.op !== 'UPDATE' && r.op !== 'DELETE') throw badResponse(`${w}: unknown op ${JSON.stringify(r.op)}`);
      const t = tableOf(ctx, r.schema, r.table, w);
      const keyJson = wireKeyToKeyJson(t, r.key, w);
      const del = r.op === 'DELETE';
      const staged = del ? null : (stagePayload(t, keyJson, r.payload, inbound, w) as StagedValue[]);
      return { t, keyJson, op: r.op, version: r.row_version, payload: del ? null : (r.payload as WirePayload), staged };
    });
    return { seq: b.bundle_seq, rows };
  });
}

/** What writing a bundle's rows reports to the finish step of `applyBundleWith`. */
export interface BundleRowsWritten {
  /** App tables with a row written. */
  touched: Set<string>;
  /** Some row was already known at a later version (the settle passes must look for orphans). */
  later: boolean;
}

/**
 * Writes a validated bundle's rows inside its apply transaction: rows of keys with a pending
 * local intent (`intents` false: there are none) are noted as skipped (`noteSkipped`), rows not
 * newer than the key's version are left alone, the others written with their row versions;
 * `notePulledDeletes` sees the deletes that apply first. Rows the app loses go into `lost`.
 */
export type BundleRowWriter = (
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  intents: boolean,
  lost: RowLostDetail[],
) => BundleRowsWritten;

/**
 * Applies one validated bundle with `writeRows` and advances the checkpoint, atomically (FKs
 * deferred, capture off; a bad row or an FK failure at COMMIT rolls the whole bundle back), then
 * reports the rows the app lost. Returns the touched tables. The one frame and finish step of
 * every bundle apply (the set-based one here, and the row-by-row reference in the tests).
 */
export function applyBundleWith(
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  thorough: boolean,
  writeRows: BundleRowWriter,
): Set<string> {
  const lost: RowLostDetail[] = [];
  let touched = new Set<string>();
  applyTransaction(ctx.db, () => {
    touched = writeBundle(ctx, seq, rows, thorough, writeRows, lost);
  });
  ctx.rowsLost(lost);
  return touched;
}

/** One bundle inside the caller's transaction: its rows by `writeRows`, then the settle passes and the checkpoint. */
function writeBundle(
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  thorough: boolean,
  writeRows: BundleRowWriter,
  lost: RowLostDetail[],
): Set<string> {
  const intents = anyLocalIntent(ctx);
  const written = writeRows(ctx, seq, rows, intents, lost);
  settleAfterApply(ctx, seq, rows, intents, written.later, lost, thorough);
  return written.touched;
}

/**
 * Before a bundle's deletes apply (`deleting`: the DELETE rows that will take effect): collects
 * the rows removed with a deleted parent into `lost`, and marks a rebuild when a parent delete
 * would remove rows this device knows at a version newer than the bundle.
 */
export function notePulledDeletes(ctx: EngineContext, seq: number, deleting: DecodedRow[], intents: boolean, lost: RowLostDetail[]): void {
  lost.push(...rowsRemovedWithParent(ctx, deleting));
  if (parentDeleteHitsNewerRows(ctx, deleting, seq)) requireRebuild(ctx.db);
  // A pending row the local cascade reaches may hold pulled rows the server keeps elsewhere.
  if (intents && deleting.some((r) => isCascadeParent(ctx, r.t))) noteRowsUnderPendingRowsReachedByDelete(ctx, keysByTable(deleting));
}

/** The rows' key JSONs per table. */
function keysByTable(rows: readonly Pick<DecodedRow, 't' | 'keyJson'>[]): Map<TableModel, string[]> {
  const out = new Map<TableModel, string[]>();
  for (const r of rows) {
    let keys = out.get(r.t);
    if (!keys) out.set(r.t, (keys = []));
    keys.push(r.keyJson);
  }
  return out;
}

/**
 * The FK settle passes after a bundle's rows are written, inside its transaction, then the
 * checkpoint: children of parents known deleted later, children of parents this device deleted
 * (not pushed yet), then local intents the apply orphaned. `lost` collects what the app loses.
 * The first two scan whole tables (PRAGMA foreign_key_check), so they run only in a `thorough`
 * apply, the retry of a bundle whose COMMIT failed its FK check (and the first, when a row of the
 * bundle was already known at a later version).
 */
function settleAfterApply(
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  intents: boolean,
  later: boolean,
  lost: RowLostDetail[],
  thorough: boolean,
): void {
  if (later || thorough) dropChildrenOfLaterDeletedParents(ctx, seq);
  if (thorough && intents && anyPendingDelete(ctx)) {
    const upserted = new Set(rows.filter((r) => r.op !== 'DELETE').map((r) => r.t));
    if (upserted.size > 0) lost.push(...settleChildrenOfLocallyDeletedParents(ctx, upserted).lost);
  }
  if (intents)
    lost.push(
      ...settleOrphanedIntents(
        ctx,
        rows.some((r) => r.op === 'DELETE'),
      ),
    );
  applySkippedRowsWithoutIntent(ctx);
  recordPulledBundle(ctx.db, seq);
}

const NOTE_SKIPPED_SQL =
  'INSERT INTO _sync_skipped_rows(schema_name, table_name, key_json, row_version, staged) VALUES (?, ?, ?, ?, ?) ' +
  'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version, staged = excluded.staged ' +
  'WHERE excluded.row_version > _sync_skipped_rows.row_version';

/** Remembers a pulled row skipped for a pending local change (staged values; null for a DELETE). */
export function noteSkipped(ctx: EngineContext, r: DecodedRow): void {
  runCached(ctx.db, NOTE_SKIPPED_SQL, [ctx.schema, r.t.table, r.keyJson, r.version, r.staged && JSON.stringify(r.staged)]);
}

/** True when some pulled row waits in `_sync_skipped_rows`. */
function anySkippedRows(ctx: EngineContext): boolean {
  return Number(selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_skipped_rows WHERE schema_name = ?)', [ctx.schema])) === 1;
}

/**
 * Inside an apply transaction: pulled rows that were skipped for a pending local change which is
 * gone now without having reached the server (an insert cascaded away, or inserted then deleted:
 * the freeze drops such a no-op) are applied now, if still newer than what the device knows;
 * otherwise the server's row would never arrive (the checkpoint is past it). A change that did
 * reach the server moved the key's version past the skipped one: that record is just dropped.
 */
export function applySkippedRowsWithoutIntent(ctx: EngineContext): void {
  if (!anySkippedRows(ctx)) return;
  const rows = selectRowsCached(
    ctx.db,
    'SELECT s.table_name, s.key_json, s.row_version, s.staged, r.row_version FROM _sync_skipped_rows s ' +
      'LEFT JOIN _sync_row_state r ON r.schema_name = s.schema_name AND r.table_name = s.table_name AND r.key_json = s.key_json ' +
      'WHERE s.schema_name = ?1 ' +
      'AND NOT EXISTS (SELECT 1 FROM _sync_dirty_rows d WHERE d.schema_name = s.schema_name AND d.table_name = s.table_name AND d.key_json = s.key_json) ' +
      'AND NOT EXISTS (SELECT 1 FROM _sync_outbox_rows o WHERE o.schema_name = s.schema_name AND o.table_name = s.table_name AND o.key_json = s.key_json)',
    [ctx.schema],
  );
  for (const [table, keyJson, version, staged, known] of rows) {
    const t = ctx.model.byName.get(String(table));
    if (t && (known === null || known === undefined || Number(known) < Number(version))) {
      if (staged === null || staged === undefined) deleteLocalRow(ctx, t, String(keyJson));
      else upsertStaged(ctx, t, [JSON.parse(String(staged)) as StagedValue[]]);
      setRowState(ctx, t, String(keyJson), Number(version), staged === null || staged === undefined);
    }
    runCached(ctx.db, 'DELETE FROM _sync_skipped_rows WHERE schema_name = ? AND table_name = ? AND key_json = ?', [
      ctx.schema,
      String(table),
      String(keyJson),
    ]);
  }
}

const ANY_ROW_STATE_SQL = 'SELECT EXISTS (SELECT 1 FROM _sync_row_state WHERE schema_name = ?1 AND table_name = ?2)';
// CROSS JOIN keeps json_each outside: the other way round scans the whole array per row_state row.
const ROW_STATE_KEYS_SQL =
  'SELECT j.value, r.row_version FROM json_each(?3) AS j CROSS JOIN _sync_row_state AS r ' +
  'ON r.schema_name = ?1 AND r.table_name = ?2 AND r.key_json = j.value';
const INTENT_KEYS_SQL =
  'SELECT key_json FROM _sync_dirty_rows WHERE schema_name = ?1 AND table_name = ?2 ' +
  'UNION SELECT key_json FROM _sync_outbox_rows WHERE schema_name = ?1 AND table_name = ?2';
/**
 * Row states of applied keys of one table at one version (?1 schema, ?2 table, ?3 version, ?4
 * deleted, ?5 JSON array of key_json texts), in array order. A flat array of the key texts: as
 * `[key_json, version, deleted]` triples the JSON to build, parse and pick apart cost twice the
 * row-state writes themselves (Node, 50,000 rows: 71 -> 24 ms CPU).
 */
const ROW_STATES_SQL =
  'INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) ' +
  'SELECT ?1, ?2, j.value, ?3, ?4 FROM jsonb_each(jsonb(?5)) AS j WHERE true ' +
  'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version, deleted = excluded.deleted';

const upsertSqls = new WeakMap<TableModel, string[]>();
const deleteSetSql = new WeakMap<TableModel, string>();
/** Deletes of fewer keys of one run go row by row: a key array to build and parse costs more. */
const SET_DELETE_MIN_ROWS = 8;
/** Bound values per statement of `upsertStaged`: rows per statement beyond ~25 gain nothing. */
const UPSERT_VALUES = 512;
const utf8 = new TextEncoder();

/** Upsert of `n` staged rows bound in column order, as `upsertLocalRow` per row. */
function upsertSql(t: TableModel, n: number): string {
  let sqls = upsertSqls.get(t);
  if (!sqls) upsertSqls.set(t, (sqls = []));
  if (sqls[n] === undefined) {
    const updates = t.columns.filter((c) => c !== t.key).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
    sqls[n] =
      `INSERT INTO ${quoteIdent(t.table)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) ` +
      `VALUES ${Array(n)
        .fill(`(${t.columns.map((c) => stagedDecodeExpr(c, '?')).join(', ')})`)
        .join(', ')} ` +
      `ON CONFLICT(${quoteIdent(t.key.name)}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
  }
  return sqls[n];
}

/**
 * Upserts staged rows in order, many per statement, their values bound straight from the text's
 * UTF-8 in wasm memory (one copy per statement; SQLITE_STATIC): SQLite taking each row apart from
 * JSON text (`jsonb_each`, `->>`) cost twice the writes themselves, and the library's `bind` a
 * conversion and an allocation per value.
 */
function upsertStaged(ctx: EngineContext, t: TableModel, rows: readonly StagedValue[][]): void {
  const { wasm, capi } = ctx.options.sqlite3;
  const x = wasm.exports as Record<string, (...args: number[]) => number>;
  const per = Math.max(1, Math.floor(UPSERT_VALUES / t.columns.length));
  let buf = 0;
  let size = 0;
  try {
    for (let i = 0; i < rows.length;) {
      // Full statements, then the rest in powers of two: a handful of statements (and cached
      // statement texts) for any tail, instead of one statement per row.
      const n = rows.length - i >= per ? per : 2 ** Math.floor(Math.log2(rows.length - i));
      const texts: string[] = [];
      for (let r = i; r < i + n; r++) for (const v of rows[r]!) if (typeof v === 'string') texts.push(v);
      const all = texts.join('');
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (all.length * 3 > size) {
        wasm.dealloc(buf);
        buf = wasm.alloc((size = all.length * 3 + 1024));
      }
      const heap = wasm.heap8u();
      // All ASCII (the usual page): each value's bytes start where its characters do.
      const ascii = utf8.encodeInto(all, heap.subarray(buf, buf + size)).written === all.length;
      const p = cachedStatement(ctx.db, upsertSql(t, n)).pointer!;
      let at = buf;
      let k = 1;
      for (let r = i; r < i + n; r++) {
        for (const v of rows[r]!) {
          if (v === null) x.sqlite3_bind_null!(p, k++);
          else if (typeof v === 'number') x.sqlite3_bind_int!(p, k++, v);
          else {
            const len = ascii ? v.length : utf8.encodeInto(v, heap.subarray(at, buf + size)).written;
            x.sqlite3_bind_text!(p, k++, at, len, 0);
            at += len;
          }
        }
      }
      let rc: number;
      try {
        rc = x.sqlite3_step!(p);
      } finally {
        // The texts are bound SQLITE_STATIC from `buf`, freed below: the cached statement must not
        // keep pointers into it.
        x.sqlite3_reset!(p);
        x.sqlite3_clear_bindings!(p);
      }
      if (rc !== capi.SQLITE_DONE) throw new Error(capi.sqlite3_errmsg(ctx.db.pointer!));
      i += n;
    }
  } finally {
    wasm.dealloc(buf);
  }
}

/** Delete of keys (?1 JSON array of `key_json` members: text, or hex for BLOB keys), bound as `deleteLocalRow` binds them. */
function deleteSet(t: TableModel): string {
  let sql = deleteSetSql.get(t);
  if (sql === undefined) {
    const key = t.key.uuidAsBlob ? 'unhex(value)' : 'value';
    sql = `DELETE FROM ${quoteIdent(t.table)} WHERE ${quoteIdent(t.key.name)} IN (SELECT ${key} FROM json_each(?1))`;
    deleteSetSql.set(t, sql);
  }
  return sql;
}

/**
 * Applies one validated bundle and advances the checkpoint, atomically (FKs deferred, capture off;
 * a bad row or an FK failure at COMMIT rolls the whole bundle back). Returns touched tables.
 */
export function applyPulledBundle(ctx: EngineContext, seq: number, rows: DecodedRow[], thorough = false): Set<string> {
  return applyBundleWith(ctx, seq, rows, thorough, writeBundleRowsSetBased);
}

/**
 * Writes the rows of `applyPulledBundle`: the same result as the row-by-row reference
 * (`test/engine/support/row-by-row-apply.ts`), set-based. Which rows take effect is decided in JS
 * first, exactly as row by row: keys with a pending local intent are skipped, and a row applies only
 * if its version is above the key's version so far (row_state read once per table, then updated as
 * the bundle's own rows apply, so INSERT/UPDATE/DELETE of one key in one bundle behave as in order).
 * The applied rows are then written in bundle order as runs of consecutive upserts or deletes of one
 * table, each run one statement (INSERT ... SELECT ... FROM jsonb_each ... ON CONFLICT DO UPDATE, or
 * DELETE ... WHERE key IN ...): keeping the order keeps UNIQUE and FK-action effects between rows
 * as they were; each run's row versions follow it, one statement per version (one: a bundle's rows are at its seq).
 */
function writeBundleRowsSetBased(
  ctx: EngineContext,
  seq: number,
  rows: DecodedRow[],
  intents: boolean,
  lost: RowLostDetail[],
): BundleRowsWritten {
  const touched = new Set<string>();
  // Per table: the version each key has reached so far (initially its row_state), intent keys.
  const versions = new Map<TableModel, Map<string, number>>();
  const skipKeys = new Map<TableModel, Set<string>>();
  // No row state can stop or outdate a row whose version is above every version the device
  // knows (the usual bundle: its rows are at its seq): then no key needs looking up.
  const knownVersion = readAttachment(ctx.db).knownRowVersion;
  const lookUp = rows.some((r) => r.version <= knownVersion);
  const byTable = new Map<TableModel, string[]>();
  for (const r of rows) {
    let keys = byTable.get(r.t);
    if (!keys) byTable.set(r.t, (keys = []));
    if (lookUp) keys.push(r.keyJson);
  }
  for (const [t, keys] of byTable) {
    const known = new Map<string, number>();
    // A table without any row version yet (a fresh device) has nothing to look up either.
    if (lookUp && selectCached(ctx.db, ANY_ROW_STATE_SQL, [ctx.schema, t.table]) === 1) {
      for (const [k, v] of selectRowsCached(ctx.db, ROW_STATE_KEYS_SQL, [ctx.schema, t.table, JSON.stringify(keys)]))
        known.set(String(k), Number(v));
    }
    versions.set(t, known);
    if (intents) {
      const held = selectRowsCached(ctx.db, INTENT_KEYS_SQL, [ctx.schema, t.table]);
      skipKeys.set(t, new Set(held.map((h) => String(h[0]))));
    }
  }
  const deleting = rows.filter(
    (r) => r.op === 'DELETE' && !(intents && skipKeys.get(r.t)!.has(r.keyJson)) && (versions.get(r.t)!.get(r.keyJson) ?? 0) < r.version,
  );
  notePulledDeletes(ctx, seq, deleting, intents, lost);
  let later = false;
  let highest = 0;
  let run: DecodedRow[] = [];
  // A run's rows, then their row states (in bundle order too, so a key's last row wins).
  const flush = (): void => {
    if (run.length === 0) return;
    const t = run[0]!.t;
    const deleted = run[0]!.op === 'DELETE' ? 1 : 0;
    touched.add(t.table);
    if (!deleted) {
      const staged = run.map((r) => r.staged!);
      withoutCaptureTriggers(ctx.options.sqlite3, ctx.db, ctx.model, staged.length, () => upsertStaged(ctx, t, staged));
    } else if (run.length < SET_DELETE_MIN_ROWS) for (const r of run) deleteLocalRow(ctx, t, r.keyJson);
    else
      runCached(ctx.db, deleteSet(t), [JSON.stringify(run.map((r) => (JSON.parse(r.keyJson) as Record<string, string>)[t.key.wireName]))]);
    for (let i = 0, j = 0; i < run.length; i = j) {
      const version = run[i]!.version;
      while (j < run.length && run[j]!.version === version) j++;
      runCached(ctx.db, ROW_STATES_SQL, [ctx.schema, t.table, version, deleted, JSON.stringify(run.slice(i, j).map((r) => r.keyJson))]);
      if (version > highest) highest = version;
    }
    run = [];
  };
  for (const r of rows) {
    if (intents && skipKeys.get(r.t)!.has(r.keyJson)) {
      noteSkipped(ctx, r);
      continue;
    }
    const known = versions.get(r.t)!;
    const current = known.get(r.keyJson);
    if (current !== undefined && current >= r.version) {
      // Already applied (our own replay, or a re-pull), or known at a later version.
      if (current > r.version) later = true;
      continue;
    }
    known.set(r.keyJson, r.version);
    const head = run[0];
    if (head && (head.t !== r.t || (head.op === 'DELETE') !== (r.op === 'DELETE'))) flush();
    run.push(r);
  }
  flush();
  raiseKnownRowVersion(ctx.db, highest);
  return { touched, later };
}

/**
 * Applies consecutive bundles of one pull, up to its stable ceiling, in one transaction: the
 * fallback for a bundle that fails its FK check at COMMIT even with the settle passes. The
 * server's state is consistent after each of its bundles, but this device's need not be between
 * them: rows it knows at later versions are skipped, and a row dropped as the child of a parent
 * deleted later can still have children of its own arriving in the bundles in between (they leave
 * with it in a later bundle, or it comes back, moved, in one). At the ceiling every such row has
 * its server state again, so the FK check runs there, once. The settle passes then run over all
 * the bundles' rows, as for a retried single bundle.
 */
export function applyPulledBundles(ctx: EngineContext, bundles: readonly { seq: number; rows: DecodedRow[] }[]): Set<string> {
  const touched = new Set<string>();
  const lost: RowLostDetail[] = [];
  const last = bundles[bundles.length - 1];
  if (!last) return touched;
  let rebuild = false;
  try {
    applyTransaction(ctx.db, () => {
      for (const b of bundles)
        for (const table of writeBundle(ctx, b.seq, b.rows, false, writeBundleRowsSetBased, lost)) touched.add(table);
      settleAfterApply(
        ctx,
        last.seq,
        bundles.flatMap((b) => b.rows),
        anyLocalIntent(ctx),
        true,
        lost,
        true,
      );
      rebuild = readAttachment(ctx.db).rebuildRequired;
    });
  } catch (e) {
    // A parent delete's local action rewrote rows known at later versions (`notePulledDeletes`):
    // no later bundle restores them, so the ceiling can fail its FK check (a re-created parent
    // names one). The device needs the snapshot anyway: keep that note alone, the pull rebuilds.
    if (!rebuild || !(e instanceof SyncError) || e.code !== 'apply_failed') throw e;
    applyTransaction(ctx.db, () => requireRebuild(ctx.db));
    return new Set();
  }
  ctx.rowsLost(lost);
  return touched;
}

/** Rows a joint apply (`applyPulledBundles`) may hold in memory; beyond, the failure stands (the self-heal rebuilds). */
const JOINT_APPLY_MAX_ROWS = 100_000;

/**
 * `pending` (the failing bundle and the rest of its page) plus every later page up to the stable
 * ceiling `target`, for a joint apply. Throws `failure` when that is more than
 * `JOINT_APPLY_MAX_ROWS` rows.
 */
async function restOfPull(
  ctx: EngineContext,
  pending: { seq: number; rows: DecodedRow[] }[],
  target: number,
  maxBundles: number,
  failure: SyncError,
): Promise<{ seq: number; rows: DecodedRow[] }[]> {
  const out = [...pending];
  let count = out.reduce((n, b) => n + b.rows.length, 0);
  for (let after = out[out.length - 1]!.seq; after < target;) {
    if (count > JOINT_APPLY_MAX_ROWS) throw failure;
    const page = await fetchPage(ctx, after, maxBundles, target);
    const decoded = page.bundles;
    if (decoded.length === 0) {
      if (!page.hasMore) break;
      throw badResponse('pull: has_more=true with no bundles');
    }
    out.push(...decoded);
    count += decoded.reduce((n, b) => n + b.rows.length, 0);
    after = decoded[decoded.length - 1]!.seq;
  }
  if (count > JOINT_APPLY_MAX_ROWS) throw failure;
  return out;
}

/** Pulls bundles until the checkpoint reaches the frozen stable ceiling. */
export async function pullToStable(ctx: EngineContext): Promise<{ bundles: number; rows: number; checkpoint: number }> {
  const limits = ctx.capabilities?.bundle_limits ?? {};
  const wanted = ctx.options.pullMaxBundles ?? DEFAULT_MAX_BUNDLES;
  const maxBundles = Math.max(1, Math.min(wanted, limits.max_bundles_per_pull ?? 5000));
  let target = 0;
  let bundles = 0;
  let rows = 0;
  const startCheckpoint = readAttachment(ctx.db).lastBundleSeqSeen;
  let cascadeParentDeleted = false;
  noteHighestKnownVersion(ctx);
  // The next page, requested while this one applies (see `prefetchNext`).
  let next: PrefetchedPage | null = null;
  try {
    for (;;) {
      const after = readAttachment(ctx.db).lastBundleSeqSeen;
      const fetched = next !== null && next.after === after ? next.page : fetchPage(ctx, after, maxBundles, target);
      next = null;
      const page = await fetched;
      const decoded = page.bundles;
      if (target === 0) target = page.stableBundleSeq;
      next = prefetchNext(ctx, page, decoded, maxBundles, target);
      // The apply below is synchronous: yield first so the prefetch request actually goes out.
      if (next !== null) await new Promise((resolve) => setTimeout(resolve, 0));
      for (let i = 0; i < decoded.length; i++) {
        let applied = [decoded[i]!];
        let touched: Set<string>;
        try {
          touched = applyPulledBundle(ctx, applied[0]!.seq, applied[0]!.rows);
        } catch (e) {
          // Rolled back by an FK check at COMMIT: once more with the settle passes that look for
          // children of parents known deleted (here or later on the server), then together with the
          // rest of the pull (the state at the ceiling is consistent). Anything else fails again.
          if (!(e instanceof SyncError) || e.code !== 'apply_failed') throw e;
          try {
            touched = applyPulledBundle(ctx, applied[0]!.seq, applied[0]!.rows, true);
          } catch (again) {
            if (!(again instanceof SyncError) || again.code !== 'apply_failed') throw again;
            applied = await restOfPull(ctx, decoded.slice(i), target, maxBundles, again);
            touched = applyPulledBundles(ctx, applied);
            i = decoded.length;
          }
        }
        const b = applied[applied.length - 1]!;
        bundles += applied.length;
        for (const x of applied) {
          rows += x.rows.length;
          if (!cascadeParentDeleted && x.rows.some((r) => r.op === 'DELETE' && isCascadeParent(ctx, r.t))) cascadeParentDeleted = true;
        }
        ctx.applied(touched);
        // The commit's notice (a microtask queued by the commit) goes to live queries before the
        // bookkeeping below: their re-run request then waits on it at most, not it plus a round trip.
        await Promise.resolve();
        ctx.setPhase('pulling', { done: b.seq, total: target });
        // A withdrawn local delete needs the parent back from a snapshot before anything else.
        if (readAttachment(ctx.db).rebuildRequired) return { bundles, rows, checkpoint: b.seq };
      }
      const checkpoint = readAttachment(ctx.db).lastBundleSeqSeen;
      if (checkpoint >= target) {
        if (cascadeParentDeleted && staleCascadeRemovedKnownRows(ctx, startCheckpoint)) {
          requireRebuild(ctx.db);
        }
        // Rows dropped for a local delete that has landed since, which the server kept.
        if (anyDroppedRows(ctx) && applyTransaction(ctx.db, () => droppedRowsTheServerKept(ctx))) requireRebuild(ctx.db);
        // Changes dropped since the last bundle (a freeze drops inserted-then-deleted keys) may have
        // hidden server rows this pull has nothing new for.
        if (anySkippedRows(ctx)) applyTransaction(ctx.db, () => applySkippedRowsWithoutIntent(ctx));
        return { bundles, rows, checkpoint };
      }
      if (!page.hasMore) throw badResponse(`pull: has_more=false while checkpoint ${checkpoint} is short of stable ${target}`);
      if (decoded.length === 0) throw badResponse('pull: has_more=true with no bundles');
    }
  } finally {
    forgetHighestKnownVersion(ctx);
    // Left unused (a failure, a rebuild, or the ceiling reached): nothing may await it any more.
    next?.page.catch(() => {});
  }
}

/** A pull page requested ahead, for the checkpoint `after`. */
interface PrefetchedPage {
  after: number;
  page: Promise<DecodedPullPage>;
}

/**
 * Requests the page after `decoded` (validated, not applied yet) when the server has more up to
 * the ceiling, so the server builds it (and the network carries it) while this page applies. Its
 * checkpoint is known already: applying `decoded` ends at its last bundle, or stops the pull (a
 * rebuild, a failure, a joint apply that reads on by itself), and then the page is not used.
 */
function prefetchNext(
  ctx: EngineContext,
  page: DecodedPullPage,
  decoded: readonly { seq: number }[],
  maxBundles: number,
  target: number,
): PrefetchedPage | null {
  const last = decoded[decoded.length - 1];
  if (!page.hasMore || !last || last.seq >= target) return null;
  const request = fetchPage(ctx, last.seq, maxBundles, target);
  // Awaited later, or abandoned in `pullToStable`'s finally: never an unhandled rejection meanwhile.
  request.catch(() => {});
  return { after: last.seq, page: request };
}
