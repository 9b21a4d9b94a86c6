/**
 * Push: freeze → create session → chunked upload → commit → fetch the committed bundle → verify
 * `bundle_hash` → replay it authoritatively in one transaction. Every step is resumable from the
 * durable outbox: a crash before the commit re-uploads under the same `source_bundle_id`; a lost
 * commit response comes back as `already_committed` (proved by `canonical_request_hash`); a crash
 * after the commit fetches and replays again. `next_source_bundle_id` advances only in the replay
 * transaction.
 */
import { bundleHash, canonicalJson, WireValueError } from '../../protocol/index.ts';
import type {
  BundleRow,
  CommittedBundleMeta,
  PushConflictDetail,
  PushSessionAlreadyCommittedResponse,
  WireOp,
  WirePayload,
} from '../../protocol/index.ts';
import {
  commitPushSession,
  createPushSession,
  deletePushSession,
  fetchCommittedRows as fetchCommittedRowsPage,
  pushInOneRequest,
  uploadPushChunkText,
} from './protocol-client.ts';
import { asPushedBundleHash, pushRequestHashOf } from './wire-text.ts';
import { buildChunk, chunkRows, oneRequestRowsJson } from './push-chunks.ts';
import { applyServerRow, setRowState, settleOrphanedIntents } from './apply.ts';
import { runCached, selectCached } from './statements.ts';
import { applyTransaction } from './capture.ts';
import { checkWirePayloadShape, goPayloadMayBeRounded, inboundValueError, keyJsonToSqlite, wireKeyToKeyJson } from './codec.ts';
import { appRowFromLocalPayload, lostRow } from './lost-rows.ts';
import { dialectEvidence, learnDialect, serverDialect } from './dialect.ts';
import { canonicalPayloadOf, firstNotCarriedByGo, goAsPushedBundleHash, goCommittedBundleHash, notCarriedError } from './go-dialect.ts';
import type { EngineContext } from './context.ts';
import { tableOf, withinServerLimit } from './context.ts';
import { resolveConflict } from './conflicts.ts';
import { badResponse, isIntFrom, SyncError } from './errors.ts';
import {
  advanceNextSourceBundleId,
  clearOutbox,
  consumeSeedLease,
  markOutboxCommitted,
  raiseKnownRowVersion,
  readAttachment,
  readOutboxHeader,
  recordReplayedBundle,
  requireRebuild,
} from './metadata.ts';
import type { OutboxHeader } from './metadata.ts';
import type { FrozenOutbox, OutboxRow } from './outbox.ts';
import { freezeOutbox, requeueOutboxInTransaction } from './outbox.ts';
import type { PushResult, RowLostDetail } from './types.ts';
import type { TableModel } from './table-config.ts';
import { quoteIdent } from './table-config.ts';

const DEFAULT_COMMITTED_ROWS = 1000;
const RESTARTABLE = new Set(['push_session_not_found', 'push_session_expired', 'push_chunk_out_of_order']);
const MAX_RESTARTS = 2;
const COMMIT_REJECTED = new Set(['push_session_commit_failed', 'push_commit_invalid']);
const NOT_FOUND_ATTEMPTS = 6;

function checkCommittedMeta(meta: Partial<CommittedBundleMeta>, header: OutboxHeader, where: string): CommittedBundleMeta {
  if (!isIntFrom(meta.bundle_seq, 1)) throw badResponse(`${where}: bundle_seq must be a positive integer`);
  if (meta.source_id !== header.sourceId)
    throw badResponse(`${where}: source_id ${JSON.stringify(meta.source_id)} is not ours (${header.sourceId})`);
  if (meta.source_bundle_id !== header.sourceBundleId)
    throw badResponse(`${where}: source_bundle_id ${meta.source_bundle_id} is not ${header.sourceBundleId}`);
  if (!isIntFrom(meta.row_count, 1)) throw badResponse(`${where}: row_count must be a positive integer`);
  if (typeof meta.bundle_hash !== 'string' || !/^[0-9a-f]{64}$/.test(meta.bundle_hash))
    throw badResponse(`${where}: bundle_hash must be 64 lowercase hex digits`);
  return meta as CommittedBundleMeta;
}

function markCommittedRemote(ctx: EngineContext, meta: CommittedBundleMeta): void {
  // One durable commit: as two autocommit statements each was a flush (1-2 ms on a busy device).
  ctx.db.savepoint(() => {
    markOutboxCommitted(ctx.db, meta.bundle_seq, meta.bundle_hash);
    // The lease is consumed by the commit.
    consumeSeedLease(ctx.db);
  });
}

/**
 * Before uploading to a `go-json-numbers` server: a value it would commit rounded (its bundle rows
 * pass numbers through float64) is refused, naming table, key and column. The session is dropped
 * and the outbox given back to the dirty set, so nothing is lost and an edit of the value can go.
 */
function refuseValuesGoCannotCarry(ctx: EngineContext, pushId: string, rows: readonly OutboxRow[]): void {
  for (const r of rows) {
    // Only a text with 16 digits (a decimal point allowed between them) can hold such a value.
    if (r.op === 'DELETE' || !/\d(?:\.?\d){15}/.test(r.payloadText)) continue;
    const t = ctx.model.byName.get(r.table)!;
    const bad = firstNotCarriedByGo(t, JSON.parse(r.payloadText) as WirePayload);
    if (!bad) continue;
    deletePushSession(ctx.transport, pushId);
    applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
    throw notCarriedError(t, r.keyJson, bad.column, bad.value);
  }
}

/** A create's `already_committed` answer (a retry after a lost commit response), checked as ours. */
function acceptAlreadyCommitted(
  ctx: EngineContext,
  header: OutboxHeader,
  rows: readonly OutboxRow[],
  hash: string,
  created: PushSessionAlreadyCommittedResponse,
  where: string,
): CommittedBundleMeta {
  const meta = checkCommittedMeta(created, header, `${where} (already_committed)`);
  if (created.canonical_request_hash !== undefined && created.canonical_request_hash !== hash) {
    // The tuple was committed with different content: our outbox is not what the server has.
    throw new SyncError(
      'source_sequence_mismatch',
      `source bundle ${header.sourceBundleId} of source ${header.sourceId} is already committed with another request hash (${created.canonical_request_hash}, ours ${hash}); the outbox is kept`,
      409,
    );
  }
  if (created.row_count !== rows.length && created.canonical_request_hash === undefined) {
    throw new SyncError(
      'source_sequence_mismatch',
      `already committed bundle has ${created.row_count} rows, our outbox ${rows.length}; the outbox is kept`,
      409,
    );
  }
  return meta;
}

/**
 * Hashes our rows as the bundle they most likely become (the next bundle_seq after the last one
 * we saw) while the commit is in flight, so the proof that the commit is exactly our push is
 * ready when the answer comes. Yields first so the request goes out.
 */
async function precomputeCommittedHash(ctx: EngineContext, rows: readonly OutboxRow[]): Promise<void> {
  const guess = readAttachment(ctx.db).lastBundleSeqSeen + 1;
  await new Promise((resolve) => setTimeout(resolve, 0));
  const go = serverDialect(ctx) === 'go-json-numbers';
  precomputedHashes.set(rows, {
    seq: guess,
    material: go ? 'go' : 'jcs',
    hash: go ? goAsPushedBundleHash(rows, guess, (name) => ctx.model.byName.get(name)!) : asPushedBundleHash(rows, guess, 'committed'),
  });
}

/** A commit's answer, checked (recorded by `pushPending`, see `recordAnswer`). */
function acceptCommitted(
  ctx: EngineContext,
  header: OutboxHeader,
  hash: string,
  committed: Partial<CommittedBundleMeta> | null,
  where: string,
): CommittedBundleMeta {
  const meta = checkCommittedMeta(committed ?? {}, header, where);
  if (meta.row_count === 0) throw badResponse(`${where}: row_count 0`);
  if (meta.canonical_request_hash !== undefined && meta.canonical_request_hash !== hash) {
    // Committed, but not what we sent: replaying it as ours would be wrong. Keep the outbox and
    // require a rebuild from a snapshot.
    markCommittedRemote(ctx, meta);
    requireRebuild(ctx.db);
    throw new SyncError(
      'rebuild_required',
      'the server committed a bundle whose request hash differs from ours; a snapshot rebuild is required',
      409,
    );
  }
  return meta;
}

/**
 * A small bundle to a server offering the one-request push: create, stage and commit in one
 * request (one round trip instead of three; no session is left behind whatever happens).
 */
async function uploadInOneRequest(
  ctx: EngineContext,
  header: OutboxHeader,
  rows: OutboxRow[],
  hash: string,
  rowsJson: string,
): Promise<CommittedBundleMeta> {
  ctx.setPhase('pushing', { done: 0, total: rows.length });
  const pending = pushInOneRequest(
    ctx.transport,
    {
      sourceBundleId: header.sourceBundleId,
      plannedRowCount: rows.length,
      canonicalRequestHash: hash,
      initializationId: readAttachment(ctx.db).pendingInitializationId,
    },
    rowsJson,
  );
  pending.catch(() => {}); // awaited below; not an unhandled rejection while we hash
  await precomputeCommittedHash(ctx, rows);
  const answer = await pending;
  if (!answer || typeof answer !== 'object') throw badResponse('one-request push: empty body');
  ctx.setPhase('pushing', { done: rows.length, total: rows.length });
  if ('status' in answer && answer.status === 'already_committed')
    return acceptAlreadyCommitted(ctx, header, rows, hash, answer, 'one-request push');
  // Only a jcs-numeric-strings server offers the extension (ours, unless forced to go's dialect).
  learnDialect(ctx, 'jcs-numeric-strings', 'push_session');
  return acceptCommitted(ctx, header, hash, answer, 'one-request push');
}

/** Uploads a prepared outbox; returns the committed bundle metadata. */
async function upload(ctx: EngineContext, header: OutboxHeader, rows: OutboxRow[]): Promise<CommittedBundleMeta> {
  // A function of the frozen rows alone, so a resume computes the same one: it is not stored
  // (that was a durable commit, 1–3 ms on OPFS, on the worker while the request left). An outbox
  // frozen by an earlier version may still carry it.
  const hash = header.canonicalRequestHash || (await pushRequestHashOf(rows));
  const rowsJson = oneRequestRowsJson(ctx, rows);
  if (rowsJson !== null) return uploadInOneRequest(ctx, header, rows, hash, rowsJson);
  const created = await createPushSession(ctx.transport, {
    sourceBundleId: header.sourceBundleId,
    plannedRowCount: rows.length,
    canonicalRequestHash: hash,
    // The lease in force now (a re-attach after an expired lease grants a new one).
    initializationId: readAttachment(ctx.db).pendingInitializationId,
  });
  if (!created || typeof created !== 'object') throw badResponse('push-session create: empty body');
  if (created.status === 'already_committed') return acceptAlreadyCommitted(ctx, header, rows, hash, created, 'push-session create');
  if (created.status !== 'staging' || typeof created.push_id !== 'string' || created.push_id === '') {
    throw badResponse(`push-session create: unexpected status ${JSON.stringify((created as { status?: unknown }).status)}`);
  }
  if (created.planned_row_count !== rows.length)
    throw badResponse(`push-session create: planned_row_count ${created.planned_row_count} is not ${rows.length}`);
  if ((created.next_expected_row_ordinal ?? 0) !== 0) throw badResponse('push-session create: next_expected_row_ordinal must be 0');
  if (created.canonical_request_hash !== undefined && created.canonical_request_hash !== hash) {
    throw badResponse('push-session create: echoed canonical_request_hash differs from ours');
  }
  const pushId = created.push_id;
  // A jcs-numeric-strings server echoes the hash (contract push/basic-insert.json); go-oversync
  // 1f1118f does not know the field.
  learnDialect(ctx, created.canonical_request_hash === hash ? 'jcs-numeric-strings' : 'go-json-numbers', 'push_session');
  if (serverDialect(ctx) === 'go-json-numbers') refuseValuesGoCannotCarry(ctx, pushId, rows);
  const size = chunkRows(ctx);
  try {
    // A chunk's body is built while the previous chunk is in flight (chunks still go one at a
    // time, in order: the server rejects a chunk out of order).
    const build = (start: number) => buildChunk(rows, start, size);
    for (let chunk = rows.length ? build(0) : null; chunk;) {
      ctx.setPhase('pushing', { done: chunk.start, total: rows.length });
      const pending = uploadPushChunkText(ctx.transport, pushId, chunk.start, chunk.body);
      pending.catch(() => {}); // awaited below
      const next = chunk.end < rows.length ? build(chunk.end) : null;
      const res = await pending;
      if (!res || res.push_id !== pushId) throw badResponse('push chunk: push_id mismatch');
      if (res.next_expected_row_ordinal !== chunk.end) {
        throw badResponse(`push chunk: next_expected_row_ordinal ${res.next_expected_row_ordinal} is not ${chunk.end}`);
      }
      chunk = next;
    }
    ctx.setPhase('pushing', { done: rows.length, total: rows.length });
    const pending = commitPushSession(ctx.transport, pushId);
    pending.catch(() => {}); // awaited below; not an unhandled rejection while we hash
    // The commit is the longest wait of a push: meanwhile, hash our rows.
    await precomputeCommittedHash(ctx, rows);
    return acceptCommitted(ctx, header, hash, await pending, 'push commit');
  } catch (e) {
    // Best effort: free the server's staging session when the push failed before its commit.
    if (!(e instanceof SyncError && (e.code === 'rebuild_required' || e.code === 'push_conflict'))) {
      deletePushSession(ctx.transport, pushId);
    }
    throw e;
  }
}

/**
 * A just-committed bundle can be briefly invisible on another server instance or replica
 * (`committed_bundle_not_found`): retry a few times before giving up (the outbox stays
 * `committed_remote`, so a later push picks it up anyway).
 */
async function fetchCommittedPageWithVisibilityRetry(ctx: EngineContext, seq: number, after: number | undefined, maxRows: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchCommittedRowsPage(ctx.transport, seq, after, maxRows);
    } catch (e) {
      if (!(e instanceof SyncError) || e.code !== 'committed_bundle_not_found' || attempt >= NOT_FOUND_ATTEMPTS) throw e;
      await ctx.clock.sleep(100 * attempt);
    }
  }
}

/** The dialects to verify a bundle_hash in, as "is go-json-numbers": the believed one first. */
function dialectOrder(ctx: EngineContext): [boolean, boolean] {
  return serverDialect(ctx) === 'go-json-numbers' ? [true, false] : [false, true];
}

/** Fetches all rows of a committed bundle and checks them against its metadata and hash. */
export async function fetchCommittedRows(ctx: EngineContext, header: OutboxHeader, meta: CommittedBundleMeta): Promise<BundleRow[]> {
  const limits = ctx.capabilities?.bundle_limits ?? {};
  const wanted = limits.default_rows_per_committed_bundle_chunk ?? DEFAULT_COMMITTED_ROWS;
  const maxRows = withinServerLimit(wanted, limits.max_rows_per_committed_bundle_chunk);
  const rows: BundleRow[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await fetchCommittedPageWithVisibilityRetry(ctx, meta.bundle_seq, after, maxRows);
    if (!page || !Array.isArray(page.rows)) throw badResponse('committed rows: rows missing');
    checkCommittedMeta(page, header, 'committed rows');
    if (page.bundle_seq !== meta.bundle_seq || page.bundle_hash !== meta.bundle_hash || page.row_count !== meta.row_count) {
      throw badResponse('committed rows: metadata differs from the commit');
    }
    const expectedNext = page.rows.length ? (after ?? -1) + page.rows.length : (after ?? 0);
    if (page.next_row_ordinal !== expectedNext)
      throw badResponse(`committed rows: next_row_ordinal ${page.next_row_ordinal} is not ${expectedNext}`);
    if (page.has_more && page.rows.length === 0) throw badResponse('committed rows: has_more with no rows');
    rows.push(...page.rows);
    if (!page.has_more) break;
    after = page.next_row_ordinal;
  }
  if (rows.length !== meta.row_count) throw badResponse(`committed rows: got ${rows.length} rows, row_count is ${meta.row_count}`);
  for (const [i, r] of rows.entries()) {
    if (r.row_version !== meta.bundle_seq)
      throw badResponse(`committed row ${i}: row_version ${r.row_version} is not bundle_seq ${meta.bundle_seq}`);
  }
  const modelOf = (table: unknown) => (typeof table === 'string' ? ctx.model.byName.get(table) : undefined);
  // Verify in the material of the dialect the server is believed to speak first, then the other.
  for (const go of dialectOrder(ctx)) {
    if (go) {
      if ((await goCommittedBundleHash(rows)) === meta.bundle_hash) {
        learnDialect(ctx, 'go-json-numbers', 'bundle_hash');
        return canonicalCommittedRows(ctx, rows, modelOf);
      }
      continue;
    }
    if ((await bundleHash(rows)) === meta.bundle_hash) {
      learnDialect(ctx, 'jcs-numeric-strings', 'bundle_hash');
      return rows;
    }
  }
  throw new SyncError(
    'bundle_hash_mismatch',
    `committed bundle ${meta.bundle_seq}: bundle_hash ${meta.bundle_hash} matches its rows in neither dialect (JCS, Go encoding/json); nothing applied`,
  );
}

/**
 * Committed rows of a `go-json-numbers` server with their JSON numbers in our canonical value form
 * (exact, else a typed error naming table, key and column).
 */
function canonicalCommittedRows(ctx: EngineContext, rows: BundleRow[], modelOf: (table: unknown) => TableModel | undefined): BundleRow[] {
  return rows.map((r, i) => {
    const t = modelOf(r.table);
    if (!t || r.op === 'DELETE') return r;
    try {
      return { ...r, payload: canonicalPayloadOf(t, r.payload) as WirePayload };
    } catch (e) {
      if (e instanceof WireValueError)
        throw inboundValueError(t, wireKeyToKeyJson(t, r.key, `committed row ${i}`), e, `committed row ${i}`);
      throw e;
    }
  });
}

/**
 * Replays a committed bundle in one transaction. Keys edited after the freeze (a dirty row exists)
 * keep the local edit: only their row_state moves to the committed version, and the dirty row is
 * rebased on it, so the next push sends the edit on top of our own commit.
 *
 * A committed row that is exactly what we pushed (same op, same canonical payload text, and a
 * payload whose local → wire encoding is lossless) would rewrite the app row with the values it
 * already holds: only its row_state is recorded, for all such rows in one set-based statement over
 * the outbox. Rows the server changed (normalized, or not ours) go through the full apply.
 */
export function replayCommitted(
  ctx: EngineContext,
  header: OutboxHeader,
  meta: CommittedBundleMeta,
  committed: BundleRow[] | null,
  pushed: readonly OutboxRow[],
  /** Without fetched rows: the form in which the bundle_hash proved the pushed rows committed. */
  provenForm: 'committed' | 'sent' = 'committed',
): Set<string> {
  const touched = new Set<string>();
  let lost: RowLostDetail[] = [];
  const foldedAway: OutboxRow[] = [];
  const cascaded: RowLostDetail[] = [];
  const seq = meta.bundle_seq;
  // Validate and decode everything before writing anything. Without fetched rows the bundle is
  // the pushed rows themselves (proved by its bundle_hash, see `pushPending`).
  const decoded = committed?.map((r, i) => {
    const where = `committed row ${i}`;
    const t = tableOf(ctx, r.schema, r.table, where);
    if (r.op !== 'INSERT' && r.op !== 'UPDATE' && r.op !== 'DELETE') throw badResponse(`${where}: unknown op ${JSON.stringify(r.op)}`);
    if (r.op !== 'DELETE') checkWirePayloadShape(t, r.payload, where);
    return {
      t,
      keyJson: wireKeyToKeyJson(t, r.key, where),
      op: r.op,
      payload: r.payload ?? null,
    };
  });
  applyTransaction(ctx.db, () => {
    // Capture is off in here, so the dirty set cannot grow: when it is empty (no edit since the
    // freeze, the common case) no row needs the per-key lookup.
    const anyDirty = Number(selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows)', [])) === 1;
    const dirtyKeys = anyDirty ? readDirtyKeys(ctx) : null;
    // A key edited after the freeze keeps the edit, rebased on the committed version.
    const rebase = (t: TableModel, keyJson: string, op: WireOp): void => {
      setRowState(ctx, t, keyJson, seq, op === 'DELETE');
      runCached(
        ctx.db,
        'UPDATE _sync_dirty_rows SET base_row_version = ?, ' +
          "op = CASE WHEN op = 'DELETE' THEN 'DELETE' WHEN ? THEN 'UPDATE' ELSE 'INSERT' END " +
          'WHERE schema_name = ? AND table_name = ? AND key_json = ?',
        [seq, op === 'DELETE' ? 0 : 1, ctx.schema, t.table, keyJson],
      );
    };
    // Ordinals of pushed rows handled one by one (excluded from the set-based row_state write).
    const others: number[] = [];
    let anyDelete = false;
    if (!decoded) {
      for (const p of pushed) {
        const t = ctx.model.byName.get(p.table)!;
        touched.add(t.table);
        if (p.op === 'DELETE') anyDelete = true;
        if (dirtyKeys?.has(`${p.table}\u0000${p.keyJson}`)) {
          rebase(t, p.keyJson, p.op);
          others.push(p.ordinal);
        } else if (p.op !== 'DELETE' && (!p.exact || (provenForm === 'committed' && p.respelled))) {
          applyServerRow(ctx, t, p.keyJson, p.op, seq, JSON.parse(provenForm === 'sent' ? p.payloadText : p.committedText) as WirePayload);
          others.push(p.ordinal);
        }
      }
    } else {
      const pushedByKey = new Map<string, OutboxRow>();
      for (const p of pushed) pushedByKey.set(`${p.table}\u0000${p.keyJson}`, p);
      // Pushed rows the committed bundle does not hold at all: the server removed them in the same
      // commit through the cascade of a parent delete (ours, of a parent another device had just
      // moved the row's parent under). If the replay's local cascade removes them too, the app
      // hears of each (chaos seed 734000965: a note inserted under a folder that moved).
      const committedKeys = new Set(decoded.map((r) => `${r.t.table}\u0000${r.keyJson}`));
      for (const p of pushed) {
        const k = `${p.table}\u0000${p.keyJson}`;
        if (p.op !== 'DELETE' && !committedKeys.has(k) && !dirtyKeys?.has(k)) foldedAway.push(p);
      }
      const unchanged = new Set<number>();
      for (const { t, keyJson, op, payload } of decoded) {
        touched.add(t.table);
        if (op === 'DELETE') anyDelete = true;
        const k = `${t.table}\u0000${keyJson}`;
        if (dirtyKeys?.has(k)) {
          rebase(t, keyJson, op);
          continue;
        }
        const p = pushedByKey.get(k);
        if (p && !unchanged.has(p.ordinal) && sameAsPushed(p, op, payload)) {
          unchanged.add(p.ordinal);
          continue;
        }
        applyServerRow(ctx, t, keyJson, op, seq, op === 'DELETE' ? null : payload);
      }
      for (const p of pushed) if (!unchanged.has(p.ordinal)) others.push(p.ordinal);
    }
    if (others.length < pushed.length) {
      // Usually every pushed row is unchanged and the exclusion list is empty.
      runCached(
        ctx.db,
        'INSERT INTO _sync_row_state(schema_name, table_name, key_json, row_version, deleted) ' +
          "SELECT o.schema_name, o.table_name, o.key_json, ?1, o.op = 'DELETE' FROM _sync_outbox_rows o " +
          'WHERE o.row_ordinal NOT IN (SELECT value FROM json_each(?2)) ' +
          'ON CONFLICT(schema_name, table_name, key_json) DO UPDATE SET row_version = excluded.row_version, deleted = excluded.deleted',
        [seq, JSON.stringify(others)],
      );
      raiseKnownRowVersion(ctx.db, seq);
    }
    for (const p of foldedAway) {
      const t = ctx.model.byName.get(p.table)!;
      if (
        Number(
          selectCached(ctx.db, `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(t.table)} WHERE ${quoteIdent(t.key.name)} = ?)`, [
            keyJsonToSqlite(t, p.keyJson),
          ]),
        ) === 1
      )
        continue;
      cascaded.push(lostRow(t, p.keyJson, 'cascade', appRowFromLocalPayload(t, p.localPayload), p.op));
    }
    lost = [...cascaded, ...settleOrphanedIntents(ctx, anyDelete)];
    recordReplayedBundle(ctx.db, seq);
    advanceNextSourceBundleId(ctx.db, header.sourceId, header.userId, header.sourceBundleId + 1);
    clearOutbox(ctx.db);
  });
  ctx.rowsLost(lost);
  return touched;
}

/** True when applying the committed row would write exactly what the local row already holds. */
function sameAsPushed(p: OutboxRow, op: WireOp, payload: WirePayload | null): boolean {
  if (op === 'DELETE' || p.op === 'DELETE') return op === p.op;
  if (!p.exact) return false;
  const payloadText = canonicalJson(payload);
  // The committed spelling of a value (a timestamp as PostgreSQL renders it) is written locally.
  if (payloadText === p.committedText) return !p.respelled;
  return payloadText === p.payloadText;
}

/**
 * The as-pushed hash in the committed form (`asPushedBundleHash(rows, seq, 'committed')` or, for a
 * `go-json-numbers` server, `goAsPushedBundleHash`) started while the commit was in flight.
 */
const precomputedHashes = new WeakMap<readonly OutboxRow[], { seq: number; material: 'jcs' | 'go'; hash: Promise<string> }>();

/**
 * Whether the committed bundle is provably our pushed rows, and in which form: its bundle_hash is
 * theirs with payloads in the protocol's outbound form (`committed`: booleans as true/false,
 * timestamps as PostgreSQL renders them), or as sent (`sent`: a server that echoes values), in
 * the material of the server's dialect (both when it is not known yet). Null: not proven.
 */
async function committedAsPushed(
  ctx: EngineContext,
  rows: readonly OutboxRow[],
  meta: CommittedBundleMeta,
): Promise<'committed' | 'sent' | null> {
  const pre = precomputedHashes.get(rows);
  precomputedHashes.delete(rows);
  const proven = dialectEvidence(ctx) === 'bundle_hash';
  const precomputed = (material: 'jcs' | 'go'): Promise<string> =>
    pre?.seq === meta.bundle_seq && pre.material === material ? pre.hash.catch(() => '') : Promise.resolve('');
  const jcs = async (): Promise<'committed' | 'sent' | null> => {
    const committedForm = await precomputed('jcs');
    if ((committedForm || (await asPushedBundleHash(rows, meta.bundle_seq, 'committed'))) === meta.bundle_hash) return 'committed';
    if (
      rows.some((r) => r.committedText !== r.payloadText) &&
      (await asPushedBundleHash(rows, meta.bundle_seq, 'sent')) === meta.bundle_hash
    )
      return 'sent';
    return null;
  };
  const go = async (): Promise<'committed' | null> =>
    ((await precomputed('go')) || (await goAsPushedBundleHash(rows, meta.bundle_seq, (name) => ctx.model.byName.get(name)!))) ===
    meta.bundle_hash
      ? 'committed'
      : null;
  // The believed dialect's material first; the other one too unless a verified hash settled it.
  for (const [i, isGo] of dialectOrder(ctx).entries()) {
    if (i > 0 && proven) break;
    const form = await (isGo ? go : jcs)();
    if (form) {
      learnDialect(ctx, isGo ? 'go-json-numbers' : 'jcs-numeric-strings', 'bundle_hash');
      return form;
    }
  }
  return null;
}

/**
 * go-oversync may build a conflict's `server_row` through float64 (when it rewrote a BYTEA value;
 * see `goPayloadMayBeRounded`): an integer beyond ±(2^53 - 1) there may be rounded, so the
 * conflict is refused (typed, naming the row) rather than resolved against a value that may not be
 * the server's. The outbox stays as it is.
 */
function checkGoConflictServerRow(ctx: EngineContext, detail: PushConflictDetail): void {
  const t = typeof detail.table === 'string' ? ctx.model.byName.get(detail.table) : undefined;
  if (!t || detail.server_row === null || detail.server_row === undefined) return;
  try {
    canonicalPayloadOf(t, detail.server_row, goPayloadMayBeRounded(detail.server_row));
  } catch (e) {
    if (e instanceof WireValueError)
      throw inboundValueError(t, wireKeyToKeyJson(t, detail.key, 'push_conflict'), e, 'push_conflict server_row');
    throw e;
  }
}

/** Keys with a pending local edit, as `table\0key_json`. */
function readDirtyKeys(ctx: EngineContext): Set<string> {
  const rows = JSON.parse(
    String(
      selectCached(ctx.db, 'SELECT json_group_array(table_name || char(0) || key_json) FROM _sync_dirty_rows WHERE schema_name = ?', [
        ctx.schema,
      ]),
    ),
  ) as string[];
  return new Set(rows);
}

/**
 * True when there is nothing to push: no outbox and no dirty row. Read only: the freeze is a
 * write transaction (a durable commit, 1–7 ms on OPFS), and every watch wake-up's sync starts
 * with a push that usually has nothing to send.
 */
function nothingToPush(ctx: EngineContext): boolean {
  if (readOutboxHeader(ctx.db).state !== 'none') return false;
  return Number(selectCached(ctx.db, 'SELECT EXISTS (SELECT 1 FROM _sync_dirty_rows WHERE schema_name = ?)', [ctx.schema])) === 0;
}

/** Pushes every pending change (one logical bundle; conflicts resolved and retried). */
export async function pushPending(ctx: EngineContext, userId: string): Promise<PushResult> {
  if (nothingToPush(ctx)) return { outcome: 'no_change', rowCount: 0, conflicts: 0 };
  const maxRetries = ctx.options.maxConflictRetries ?? 3;
  let conflicts = 0;
  let repeats = 0;
  const resolvedKeys = new Set<string>();
  let restarts = 0;
  // The frozen bundle as a conflict resolution left it in place, sent again as it is.
  let revised: FrozenOutbox | null = null;
  for (;;) {
    const att = readAttachment(ctx.db);
    const frozen = revised ?? freezeOutbox(ctx, userId, att.currentSourceId, att.pendingInitializationId);
    revised = null;
    let header = frozen.header;
    /** The server's answer, not recorded yet (see below). */
    let answerOwed: CommittedBundleMeta | null = null;
    if (header.state === 'none') return { outcome: 'no_change', rowCount: 0, conflicts };
    if (header.userId !== userId) {
      throw new SyncError('not_attached', `the outbox belongs to user ${header.userId}, not ${userId}`);
    }
    const rows = frozen.rows;
    let meta: CommittedBundleMeta;
    if (header.state === 'prepared') {
      try {
        meta = await upload(ctx, header, rows);
      } catch (e) {
        if (e instanceof SyncError && e.code === 'push_conflict') {
          const detail = (e.detail as { conflict?: PushConflictDetail } | undefined)?.conflict;
          if (!detail) throw badResponse('push_conflict without a conflict object');
          if (serverDialect(ctx) === 'go-json-numbers') checkGoConflictServerRow(ctx, detail);
          // The server reports one conflicting row per attempt, so a bundle with n stale rows
          // needs n rounds: a first conflict on a key is progress and always gets resolved. Only
          // a key that conflicts again (the server keeps moving under us) spends the budget.
          const conflictKey = `${detail.table}\u0000${JSON.stringify(detail.key)}`;
          if (resolvedKeys.has(conflictKey)) {
            if (repeats >= maxRetries) {
              applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
              throw new SyncError(
                'conflict_retry_exhausted',
                `push still conflicts on ${detail.table} ${JSON.stringify(detail.key)} after ${repeats} retries; the changes stay pending`,
                409,
              );
            }
            repeats++;
          }
          resolvedKeys.add(conflictKey);
          const rowsNow = await resolveConflict(ctx, detail, rows);
          if (rowsNow) revised = { header: readOutboxHeader(ctx.db), rows: rowsNow };
          conflicts++;
          continue;
        }
        // The server rolled the commit back for a business reason (e.g. a deferred FK against a
        // parent deleted on another device): the bundle will never commit as frozen. Give it back
        // to the dirty set, so the next pull can settle it and the next freeze re-forms it.
        if (e instanceof SyncError && COMMIT_REJECTED.has(e.code)) {
          applyTransaction(ctx.db, () => requeueOutboxInTransaction(ctx));
          throw e;
        }
        // The session is gone or out of step (a re-sent chunk, a commit whose response was lost
        // and was retried): start over with a fresh create, which either stages anew or answers
        // already_committed. Chunk upload is not idempotent, so this is the only safe recovery.
        if (e instanceof SyncError && RESTARTABLE.has(e.code) && restarts < MAX_RESTARTS) {
          restarts++;
          continue;
        }
        throw e;
      }
      // The answer is on disk before anything else can go wrong (a crash then re-sends the
      // frozen bundle, and the server answers already_committed), except when the replay follows
      // at once: then the replay's transaction records it (one durable commit less), or a failure
      // on the way (the outbox must not be given back to the dirty set as unsent).
      if (readAttachment(ctx.db).pendingInitializationId === null) answerOwed = meta;
      else markCommittedRemote(ctx, meta);
    } else {
      meta = {
        bundle_seq: header.remoteBundleSeq,
        bundle_hash: header.remoteBundleHash,
        source_id: header.sourceId,
        source_bundle_id: header.sourceBundleId,
        row_count: 0,
      };
    }
    // Our bundle committed at a seq this device already holds: a snapshot or a pull went past it
    // while its answer was unknown (lost). The local rows of its keys are then the outbox's, kept
    // against newer server state (a snapshot re-applies the frozen outbox as intent; a pull skips
    // pending keys), and replaying the bundle would record versions older than the ones held.
    // Only a snapshot knows those rows now: move past the bundle and rebuild. Edits made since the
    // freeze stay pending, rebased on the committed version as a replay rebases them (user-switch
    // seed 5700036: a delete of a seeded row). Randomized user-switch seed 5700267: rows deleted
    // on other devices after the bundle stayed on this one for good.
    if (meta.bundle_seq <= readAttachment(ctx.db).lastBundleSeqSeen) {
      applyTransaction(ctx.db, () => {
        runCached(
          ctx.db,
          'UPDATE _sync_dirty_rows AS d SET base_row_version = ?1, ' +
            "op = CASE WHEN d.op = 'DELETE' THEN 'DELETE' WHEN o.op <> 'DELETE' THEN 'UPDATE' ELSE 'INSERT' END " +
            'FROM _sync_outbox_rows AS o WHERE o.schema_name = d.schema_name AND o.table_name = d.table_name AND o.key_json = d.key_json',
          [meta.bundle_seq],
        );
        consumeSeedLease(ctx.db);
        advanceNextSourceBundleId(ctx.db, header.sourceId, header.userId, header.sourceBundleId + 1);
        clearOutbox(ctx.db);
        requireRebuild(ctx.db);
      });
      return { outcome: 'committed', bundleSeq: meta.bundle_seq, rowCount: rows.length, conflicts };
    }
    // When the server committed exactly what we pushed, the bundle_hash it reports is the hash of
    // our own rows as bundle `bundle_seq`: that proves the committed content without downloading
    // it back. Anything else (normalized values, another order) is fetched and verified row by row.
    let touched: Set<string> | null = null;
    try {
      const proven = meta.row_count === 0 || meta.row_count === rows.length ? await committedAsPushed(ctx, rows, meta) : null;
      if (proven) touched = replayCommitted(ctx, header, meta, null, rows, proven);
    } catch (e) {
      if (answerOwed) markCommittedRemote(ctx, answerOwed);
      throw e;
    }
    if (touched) {
      ctx.applied(touched);
      return { outcome: 'committed', bundleSeq: meta.bundle_seq, rowCount: rows.length, conflicts };
    }
    // (`header` stays as read: what the fetch and the replay use of it, the bundle's identity, is
    // what the answer does not change.)
    if (answerOwed) markCommittedRemote(ctx, answerOwed);
    const committed = await fetchCommittedRows(
      ctx,
      header,
      meta.row_count ? meta : { ...meta, row_count: await committedRowCount(ctx, meta) },
    );
    touched = replayCommitted(ctx, header, meta, committed, rows);
    ctx.applied(touched);
    return { outcome: 'committed', bundleSeq: meta.bundle_seq, rowCount: committed.length, conflicts };
  }
}

/** After a restart in `committed_remote` we know seq and hash but not the row count: ask. */
async function committedRowCount(ctx: EngineContext, meta: CommittedBundleMeta): Promise<number> {
  const page = await fetchCommittedRowsPage(ctx.transport, meta.bundle_seq, undefined, 1);
  if (!page || !isIntFrom(page.row_count, 1)) throw badResponse('committed rows: row_count missing');
  return page.row_count;
}
