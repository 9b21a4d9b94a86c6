/**
 * Snapshot hydrate / rebuild. A frozen server snapshot is downloaded in chunks (`max_rows` +
 * `max_bytes`, up to 4 requests in flight) into `_sync_snapshot_stage` with progress events, each
 * chunk validated and staged as one row per table (`snapshot-stage.ts`), then applied in ONE
 * transaction: clear the synced tables and row_state, insert every staged row set-based (one
 * INSERT ... SELECT per table), re-apply pending local intents (frozen outbox, then dirty rows)
 * on top, set the checkpoint. The app keeps reading and writing
 * during the download: there is no write blackout, and writes made meanwhile are dirty rows that
 * the final transaction re-applies. A fresh device writes each chunk straight into its tables
 * instead (`canWriteInPlace`), and the final transaction only re-applies and sets the checkpoint.
 *
 * Rotation (`source_replacement`) retires the current source and switches to a new one in the
 * same final transaction; the old outbox can then never commit, so it is requeued as dirty intent.
 */
import type { SnapshotChunkResponse, SnapshotSessionResponse, SourceReplacementReason } from '../../protocol/index.ts';
import { createSnapshotSession, deleteSnapshotSession, snapshotChunkRequest } from './protocol-client.ts';
import { anyLocalIntent, deleteLocalRow, settleOrphanedIntents, upsertLocalRow } from './apply.ts';
import { applyTransaction, keyValueOfKeyJson, withoutCaptureTriggers } from './capture.ts';
import { localPayloadToWire, wirePayloadToSqlite } from './codec.ts';
import type { EngineContext } from './context.ts';
import { withinServerLimit } from './context.ts';
import type { RowLostDetail } from './types.ts';
import {
  anyPendingDelete,
  deleteUnlessRefused,
  noteRowsUnderRebuiltDelete,
  settleChildrenOfLocallyDeletedParents,
} from './local-parent-deletes.ts';
import { lostRow } from './lost-rows.ts';
import { badResponse, isIntFrom, SyncError } from './errors.ts';
import {
  bindUser,
  clearOutbox,
  finishOperation,
  raiseKnownRowVersion,
  readAttachment,
  recordSnapshotApplied,
  rotateSource,
} from './metadata.ts';
import { requeueOutboxInTransaction } from './outbox.ts';
import { quoteIdent } from './table-config.ts';
import { runCached, selectCached } from './statements.ts';
import {
  encodeSnapshotRows,
  IN_PLACE_ROW_STATE_SQL,
  inPlaceInsertSql,
  STAGE_INSERT_SQL,
  STAGED_ROW_STATE_SQL,
  stagedInsertSql,
} from './snapshot-stage.ts';
import { pendingPayloadAnyTableExpr } from './pending-payload.ts';
import type { RequestSpec } from './transport.ts';
import { decodeSnapshotChunkText } from './snapshot-chunk-text.ts';
import type { DecodedSnapshotChunk } from './snapshot-chunk-text.ts';

const DEFAULT_CHUNK_ROWS = 1000;
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** How the final transaction treats local state. */
export interface SnapshotPlan {
  /** Rotate to a new source (recovery codes). */
  replacement?: { newSourceId: string; reason: SourceReplacementReason };
  /** Keep pending local intents (re-applied on top) or drop them. */
  localIntents: 'keep' | 'discard';
  /** Bind the database to this user in the same transaction (remote_authoritative attach). */
  attachUserId?: string;
}

/** Result of a rebuild. */
export interface SnapshotOutcome {
  snapshotBundleSeq: number;
  rowCount: number;
  keptIntents: number;
  discardedIntents: number;
  tables: string[];
}

/** Validates a snapshot session (fixture rules). */
export function validateSnapshotSession(s: SnapshotSessionResponse): void {
  if (!s || typeof s !== 'object') throw badResponse('snapshot session: empty body');
  if (typeof s.snapshot_id !== 'string' || s.snapshot_id === '') throw badResponse('snapshot session: snapshot_id missing');
  if (!isIntFrom(s.row_count, 0)) {
    throw badResponse(`snapshot session: row_count ${s.row_count} must be non-negative`);
  }
  if (!isIntFrom(s.snapshot_bundle_seq, 0)) throw badResponse('snapshot session: snapshot_bundle_seq must be a non-negative integer');
  if (s.row_count > 0 && s.snapshot_bundle_seq === 0)
    throw badResponse('snapshot session: missing snapshot_bundle_seq for non-empty row set');
  if (typeof s.expires_at !== 'string' || !RFC3339.test(s.expires_at) || Number.isNaN(Date.parse(s.expires_at))) {
    throw badResponse(`snapshot session: expires_at ${JSON.stringify(s.expires_at)} is not an RFC3339/ISO-8601 instant`);
  }
}

/** Validates one chunk's envelope against its session and cursor (rows: `encodeSnapshotRows`). */
export function validateSnapshotChunk(s: SnapshotSessionResponse, c: SnapshotChunkResponse, after: number): void {
  if (!c || typeof c !== 'object' || !Array.isArray(c.rows)) throw badResponse('snapshot chunk: rows missing');
  if (c.snapshot_id !== s.snapshot_id) throw badResponse('snapshot chunk: snapshot_id differs from the session');
  if (c.rows.length > 0 && c.snapshot_bundle_seq === 0)
    throw badResponse('snapshot chunk: missing snapshot_bundle_seq for non-empty row set');
  if (c.snapshot_bundle_seq !== s.snapshot_bundle_seq) throw badResponse('snapshot chunk: snapshot_bundle_seq differs from the session');
  if (c.has_more && c.rows.length === 0) throw badResponse('snapshot chunk: has_more=true must include at least one row');
  const expected = after + c.rows.length;
  if (c.next_row_ordinal !== expected)
    throw badResponse(`snapshot chunk: next_row_ordinal ${c.next_row_ordinal} does not match expected ${expected}`);
}

/** Creates a snapshot session, stages every chunk, and applies it in one transaction. */
export async function rebuildFromSnapshot(ctx: EngineContext, plan: SnapshotPlan): Promise<SnapshotOutcome> {
  const att = readAttachment(ctx.db);
  const session = await createSnapshotSession(
    ctx.transport,
    plan.replacement
      ? { previousSourceId: att.currentSourceId, newSourceId: plan.replacement.newSourceId, reason: plan.replacement.reason }
      : undefined,
  );
  validateSnapshotSession(session);
  try {
    discardRowsWrittenInPlace(ctx);
    const inPlace = plan.localIntents === 'keep' && canWriteInPlace(ctx);
    try {
      await stage(ctx, session, inPlace);
      return finalApply(ctx, session, plan, inPlace);
    } catch (e) {
      // Should the clean-up fail too, the marker stays and the next open or hydrate retries it:
      // the caller hears the first failure.
      if (inPlace)
        try {
          discardRowsWrittenInPlace(ctx);
        } catch {
          /* retried later */
        }
      throw e;
    }
  } finally {
    deleteSnapshotSession(ctx.transport, session.snapshot_id);
  }
}

/**
 * Whether chunks can be written straight into the synced tables as they arrive (no stage, no
 * second pass): only on a fresh device (no synced row, no row version, nothing pending), so a
 * failure can take every snapshot row out again and leave it as it was. The app sees the rows
 * arrive; a failed or interrupted hydrate removes them (`discardRowsWrittenInPlace`).
 */
function canWriteInPlace(ctx: EngineContext): boolean {
  const empty = ctx.model.tables.map((t) => `NOT EXISTS (SELECT 1 FROM ${quoteIdent(t.table)})`).join(' AND ');
  return (
    ctx.db.selectValue(
      `SELECT ${empty} AND NOT EXISTS (SELECT 1 FROM _sync_row_state) AND NOT EXISTS (SELECT 1 FROM _sync_dirty_rows) ` +
        'AND NOT EXISTS (SELECT 1 FROM _sync_outbox_rows)',
    ) === 1
  );
}

/**
 * Runs `fn` (a transaction) with foreign keys not enforced: a chunk may bring a child before its
 * parent, and the rows a failed snapshot takes out may be parents of rows the app wrote meanwhile
 * (the next snapshot brings them back). The setting only changes outside a transaction, and
 * nothing else runs on the connection until it is restored.
 */
function withoutForeignKeys(ctx: EngineContext, fn: () => void): void {
  const enforced = ctx.db.selectValue('PRAGMA foreign_keys') === 1;
  if (enforced) ctx.db.exec('PRAGMA foreign_keys = OFF');
  try {
    fn();
  } finally {
    if (enforced) ctx.db.exec('PRAGMA foreign_keys = ON');
  }
}

/** The stage row saying that the synced tables hold rows of an unfinished in-place snapshot. */
const IN_PLACE_MARKER = 0;

/**
 * Takes the rows of an unfinished in-place snapshot (a failure, or a crash: also run when the
 * engine opens) out of the synced tables with their row versions, keeping the rows the app wrote
 * meanwhile (pending changes), so the device is as before the hydrate.
 */
export function discardRowsWrittenInPlace(ctx: EngineContext): void {
  if (selectCached(ctx.db, `SELECT EXISTS (SELECT 1 FROM _sync_snapshot_stage WHERE chunk_ordinal = ${IN_PLACE_MARKER})`, []) !== 1) return;
  withoutForeignKeys(ctx, () =>
    applyTransaction(ctx.db, () => {
      for (const t of ctx.model.tables)
        ctx.db.exec({
          sql:
            `DELETE FROM ${quoteIdent(t.table)} WHERE ${quoteIdent(t.key.name)} NOT IN ` +
            `(SELECT ${keyValueOfKeyJson(t, 'd')} FROM _sync_dirty_rows AS d WHERE d.schema_name = ? AND d.table_name = ?)`,
          bind: [ctx.schema, t.table],
        });
      ctx.db.exec({ sql: 'DELETE FROM _sync_row_state WHERE schema_name = ?', bind: [ctx.schema] });
      ctx.db.exec('DELETE FROM _sync_snapshot_stage');
    }),
  );
  ctx.applied(new Set(ctx.model.tables.map((t) => t.table)));
}

/**
 * Requests kept in flight while a chunk is validated and staged: the server's advertised
 * concurrency, at most 4 (its gate is shared by every client: two devices hydrating at once
 * still fit our server's default of 8), 2 when it advertises none. A 1M-row hydrate waited on
 * the server 28 % of its download with 3 in flight, 20 % with 4 (median; BENCHMARKS.md).
 */
function windowSize(advertised: number | undefined): number {
  return Math.max(1, Math.min(advertised ?? 2, 4));
}

/**
 * Downloads and stages every chunk. Up to `windowSize` requests are in flight: chunk cursors are
 * predicted as `after + k * max_rows`, which holds while chunks come back full; a short chunk (its
 * `max_bytes` was hit) makes the predictions wrong, so they are abandoned and the window restarts
 * at the real `next_row_ordinal`. Every chunk is still validated against its real cursor. A failure
 * anywhere abandons the requests in flight (answers ignored); the stage is cleared by the next
 * attempt. Each chunk is staged in its own short transaction, so app writes interleave.
 */
async function stage(ctx: EngineContext, s: SnapshotSessionResponse, inPlace: boolean): Promise<void> {
  ctx.db.exec('DELETE FROM _sync_snapshot_stage');
  if (inPlace) runCached(ctx.db, STAGE_INSERT_SQL, [s.snapshot_id, IN_PLACE_MARKER, '', 0, '[]', '[]']);
  const limits = ctx.capabilities?.bundle_limits ?? {};
  // Without an explicit option, ask for the server's largest chunk (bounded by max_bytes anyway):
  // each request costs a round trip plus the server's per-read overhead.
  const wantRows =
    ctx.options.snapshotChunkRows ?? limits.max_rows_per_snapshot_chunk ?? limits.default_rows_per_snapshot_chunk ?? DEFAULT_CHUNK_ROWS;
  const maxRows = withinServerLimit(wantRows, limits.max_rows_per_snapshot_chunk);
  const wantBytes = ctx.options.snapshotChunkBytes ?? limits.default_bytes_per_snapshot_chunk ?? DEFAULT_CHUNK_BYTES;
  const maxBytes = withinServerLimit(wantBytes, limits.max_bytes_per_snapshot_chunk);
  const window = windowSize(limits.max_concurrent_snapshot_chunk_requests);
  const inflight: { after: number; spec: RequestSpec; answer: Promise<{ text: string; status: number }> }[] = [];
  const fill = (from: number): void => {
    let cursor = inflight.length ? inflight[inflight.length - 1]!.after + maxRows : from;
    // Never past the announced row count: the first request always goes out (an empty snapshot
    // still answers one chunk), predictions stop at the end.
    while (inflight.length < window && (inflight.length === 0 || cursor < s.row_count)) {
      const spec = snapshotChunkRequest(s.snapshot_id, cursor, maxRows, maxBytes);
      const answer = ctx.transport.text(spec);
      answer.catch(() => undefined); // an abandoned request must not surface as unhandled
      inflight.push({ after: cursor, spec, answer });
      cursor += maxRows;
    }
  };
  let after = 0;
  ctx.setPhase('hydrating', { done: 0, total: s.row_count });
  fill(0);
  for (;;) {
    const { spec, answer } = inflight.shift()!;
    const { text, status } = await answer;
    const chunk = decodeChunk(ctx, s, after, spec, text, status);
    if (chunk.hasMore) {
      if (inflight.length && inflight[0]!.after !== chunk.nextRowOrdinal) inflight.length = 0;
      fill(chunk.nextRowOrdinal);
    }
    const staged = chunk.staged;
    // Row versions raised per chunk (an upper bound may be early): the final apply then needs no pass for it.
    if (inPlace)
      withoutForeignKeys(ctx, () =>
        applyTransaction(ctx.db, () => {
          for (const g of staged) {
            // As a pull's large runs (pull.ts): the capture triggers do nothing here but cost a sub-program per row.
            withoutCaptureTriggers(ctx.options.sqlite3, ctx.db, ctx.model, g.count, () =>
              runCached(ctx.db, inPlaceInsertSql(g.model), [g.rows]),
            );
            runCached(ctx.db, IN_PLACE_ROW_STATE_SQL, [ctx.schema, g.states, g.table]);
            raiseKnownRowVersion(ctx.db, g.highestVersion);
          }
        }),
      );
    else
      ctx.db.transaction(() => {
        for (const g of staged) {
          runCached(ctx.db, STAGE_INSERT_SQL, [s.snapshot_id, after + 1, g.table, g.count, g.rows, g.states]);
          raiseKnownRowVersion(ctx.db, g.highestVersion);
        }
      });
    after = chunk.nextRowOrdinal;
    ctx.setPhase('hydrating', { done: after, total: s.row_count });
    if (!chunk.hasMore) break;
  }
  if (after !== s.row_count) throw badResponse(`snapshot: staged ${after} rows, session announced ${s.row_count}`);
}

/**
 * A chunk's answer (`text`, for the request after row `after`) validated and encoded for staging:
 * straight from its text when it is in the layout `snapshot-chunk-text.ts` takes (our server's),
 * else parsed and checked by `validateSnapshotChunk` and `encodeSnapshotRows` (the same rows, or
 * the typed error).
 */
function decodeChunk(
  ctx: EngineContext,
  s: SnapshotSessionResponse,
  after: number,
  spec: RequestSpec,
  text: string,
  status: number,
): DecodedSnapshotChunk {
  // Checked per chunk, not only at the end: a server streaming rows beyond its announced count
  // would otherwise be downloaded and staged until it stopped.
  const announced = (next: number): void => {
    if (next > s.row_count) throw badResponse(`snapshot: chunk ends at row ${next}, session announced ${s.row_count}`);
  };
  const decoded = decodeSnapshotChunkText(ctx, text, s, after);
  if (decoded) {
    ctx.transport.completedExchanges++;
    announced(decoded.nextRowOrdinal);
    return decoded;
  }
  const chunk = ctx.transport.parseBody<SnapshotChunkResponse>(spec, text, status);
  validateSnapshotChunk(s, chunk, after);
  announced(chunk.next_row_ordinal);
  return { nextRowOrdinal: chunk.next_row_ordinal, hasMore: chunk.has_more, staged: encodeSnapshotRows(ctx, chunk, after) };
}

interface Intent {
  table: string;
  keyJson: string;
  payload: string | null;
}

function finalApply(ctx: EngineContext, s: SnapshotSessionResponse, plan: SnapshotPlan, inPlace: boolean): SnapshotOutcome {
  const touched = new Set<string>();
  let kept = 0;
  let discarded = 0;
  const lost: RowLostDetail[] = [];
  let rebuildAgain = false;
  applyTransaction(ctx.db, () => {
    // Pending local intents, read inside the final transaction so no write made during the
    // download is missed: the frozen outbox first, then the (newer) dirty rows.
    const intents: Intent[] = [];
    const outbox = ctx.db.exec({
      sql: 'SELECT table_name, key_json, local_payload FROM _sync_outbox_rows ORDER BY row_ordinal',
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    // A pending upsert's payload is the live row (pending-payload.ts): read before the tables are emptied.
    const dirty = ctx.db.exec({
      sql:
        `SELECT d.table_name, d.key_json, ${pendingPayloadAnyTableExpr(ctx.model, 'd')} FROM _sync_dirty_rows AS d ` +
        'WHERE d.schema_name = ? ORDER BY d.dirty_ordinal',
      bind: [ctx.schema],
      rowMode: 'array',
      returnValue: 'resultRows',
    }) as unknown[][];
    for (const r of [...outbox, ...dirty])
      intents.push({ table: String(r[0]), keyJson: String(r[1]), payload: (r[2] as string | null) ?? null });

    if (plan.localIntents === 'discard') {
      discarded = dirty.length + outbox.length;
      ctx.db.exec('DELETE FROM _sync_dirty_rows');
      clearOutbox(ctx.db);
    } else if (plan.replacement) {
      // The old source is retired: its frozen bundle can never commit, so it becomes intent again.
      requeueOutboxInTransaction(ctx);
    }

    for (const t of ctx.model.tables) touched.add(t.table);
    // Written in place: the rows are in, and what the app wrote meanwhile is re-applied below.
    if (!inPlace) {
      // Children before parents, so cascades have nothing left to visit; an empty table (a fresh
      // device) is not touched at all.
      for (const t of [...ctx.model.tables].reverse())
        if (selectCached(ctx.db, `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(t.table)})`, []) === 1)
          ctx.db.exec(`DELETE FROM ${quoteIdent(t.table)}`);
      ctx.db.exec({ sql: 'DELETE FROM _sync_row_state WHERE schema_name = ?', bind: [ctx.schema] });

      // Set-based: each table's staged rows in one INSERT ... SELECT, parents first (the deferred FK
      // counter then never rises), and their versions likewise.
      // The deletes above ran their triggers (`_akd`); the inserts' capture triggers do nothing.
      withoutCaptureTriggers(ctx.options.sqlite3, ctx.db, ctx.model, s.row_count, () => {
        for (const t of ctx.model.tables) {
          runCached(ctx.db, stagedInsertSql(t), [s.snapshot_id, t.table]);
          runCached(ctx.db, STAGED_ROW_STATE_SQL, [ctx.schema, s.snapshot_id, t.table]);
        }
      });
    }

    // The snapshot holds every child a pull dropped under a pending local delete; what the
    // pending deletes re-applied below remove from it is noted again.
    ctx.db.exec('DELETE FROM _sync_dropped_rows');
    if (plan.localIntents === 'keep') {
      const dirtyKeys = new Set(dirty.map((r) => `${String(r[0])}\u0000${String(r[1])}`));
      for (const i of intents) {
        const t = ctx.model.byName.get(i.table);
        if (!t) continue;
        if (i.payload !== null) upsertLocalRow(ctx, t, wirePayloadToSqlite(t, localPayloadToWire(t, i.payload)));
        else if (
          !deleteUnlessRefused(ctx, t, () => {
            noteRowsUnderRebuiltDelete(ctx, t, i.keyJson);
            deleteLocalRow(ctx, t, i.keyJson);
          }) &&
          dirtyKeys.has(`${i.table}\u0000${i.keyJson}`)
        ) {
          // The snapshot holds a row below this one that the server would not let the delete
          // remove (NO ACTION / RESTRICT): the delete cannot be kept.
          ctx.db.exec({
            sql: "DELETE FROM _sync_dirty_rows WHERE schema_name = ? AND table_name = ? AND key_json = ? AND op = 'DELETE'",
            bind: [ctx.schema, i.table, i.keyJson],
          });
          lost.push(lostRow(t, i.keyJson, 'delete_refused', null, 'DELETE'));
        }
      }
      kept = intents.length;
      // With no intent left (none pending) settling is a no-op: skip its full FK check.
      // Appended: the deletes withdrawn above are lost rows the app must hear about too.
      if (anyLocalIntent(ctx)) lost.push(...settleOrphanedIntents(ctx, true));
      // A pending delete re-applied on top of the snapshot meets the snapshot's children like a
      // pulled bundle's: CASCADE drops them, SET NULL clears them, NO ACTION withdraws the delete
      // (and a second snapshot brings the parent back).
      if (anyPendingDelete(ctx)) {
        const settled = settleChildrenOfLocallyDeletedParents(ctx, ctx.model.tables);
        lost.push(...settled.lost);
        rebuildAgain = settled.rebuild;
      }
    }
    // Rows written in place were not checked against their parents: every reference must hold
    // now, as the staged rows' deferred checks make it at COMMIT.
    if (inPlace && ctx.db.selectValue('PRAGMA foreign_keys') === 1)
      for (const t of ctx.model.tables)
        if (ctx.db.exec({ sql: `PRAGMA foreign_key_check(${quoteIdent(t.table)})`, returnValue: 'resultRows' }).length)
          throw new SyncError('apply_failed', `local apply rolled back: snapshot rows of ${t.table} lack their parent`);

    ctx.db.exec('DELETE FROM _sync_snapshot_stage');
    ctx.db.exec('DELETE FROM _sync_skipped_rows');
    recordSnapshotApplied(ctx.db, s.snapshot_bundle_seq, rebuildAgain);
    if (plan.attachUserId !== undefined) bindUser(ctx.db, plan.attachUserId, null);
    if (plan.replacement) rotateSource(ctx.db, plan.replacement.newSourceId);
    finishOperation(ctx.db);
  });
  ctx.applied(touched);
  ctx.rowsLost(lost);
  return {
    snapshotBundleSeq: s.snapshot_bundle_seq,
    rowCount: s.row_count,
    keptIntents: kept,
    discardedIntents: discarded,
    tables: [...touched],
  };
}
