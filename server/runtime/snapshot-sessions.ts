/**
 * Frozen, chunked snapshot sessions: a materialized copy of a user's live rows at one
 * `snapshot_bundle_seq`, read in chunks bounded by rows and bytes, with a TTL, optional source
 * replacement (rotation) in the same transaction, and per-process build/read capacity limits.
 * How the rows are materialized: `snapshot-build.ts` (in the create's transaction) and
 * `snapshot-piecewise-build.ts` (answered after the first piece, the rest in the background).
 */
import { randomUUID } from 'node:crypto';
import { isCanonicalUuid } from '../../protocol/values.ts';
import type { SnapshotChunkResponse, SnapshotSessionResponse, SourceReplacementReason } from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import type { Catalog } from './catalog.ts';
import type { CapacityGate } from './capacity.ts';
import type { RuntimeContext } from './context.ts';
import { ensureUserScope, requireInitialized } from './scope-state.ts';
import { readSourceState } from './source-state.ts';
import { EncodedJson, SerializedJson, utf8OfParts } from './serialized-json.ts';
import { BUILD_SETTINGS_SQL, buildInOneTransaction, sessionRowsTable, sweepSnapshots } from './snapshot-build.ts';
import { BUILD_LOCK_CLASS, cancelBuildPieces, countLiveRows, startPiecewiseBuild } from './snapshot-piecewise-build.ts';
import type { BackgroundBuild } from './snapshot-piecewise-build.ts';
import { SyncServerError, pgErrorCode, retryLaterError } from './sync-error.ts';
import { checkSnapshotSessionQuota } from './user-quotas.ts';
import { inUserTransaction } from './transactions.ts';
import { numbersPayloadText } from './numbers-dialect.ts';
import { NUMBERS_DIALECT, requesterDialectOfUser } from './wire-dialect.ts';

const REASONS: readonly SourceReplacementReason[] = [
  'history_pruned',
  'source_sequence_out_of_order',
  'source_sequence_changed',
  'source_retired',
];

/** A validated source replacement request. */
interface SourceReplacement {
  previousSourceId: string;
  newSourceId: string;
  reason: SourceReplacementReason;
}

/** Parses the optional create body (empty, `{}`, or `{"source_replacement": ...}`); unknown fields are rejected. */
export function parseSnapshotCreate(bodyText: string, headerSourceId: string): SourceReplacement | null {
  if (bodyText.trim() === '') return null;
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    throw new SyncServerError('snapshot_session_invalid', 'request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new SyncServerError('snapshot_session_invalid', 'request body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => k !== 'source_replacement');
  if (unknown.length > 0) throw new SyncServerError('snapshot_session_invalid', `unknown field(s): ${unknown.join(', ')}`);
  const sr = (body as { source_replacement?: unknown }).source_replacement;
  if (sr === undefined || sr === null) return null;
  if (typeof sr !== 'object' || Array.isArray(sr))
    throw new SyncServerError('snapshot_session_invalid', 'source_replacement must be an object');
  const { previous_source_id: prev, new_source_id: next, reason, ...rest } = sr as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    throw new SyncServerError('snapshot_session_invalid', `unknown source_replacement field(s): ${Object.keys(rest).join(', ')}`);
  if (typeof prev !== 'string' || prev.trim() !== headerSourceId) {
    throw new SyncServerError('snapshot_session_invalid', 'source_replacement.previous_source_id must equal the Oversync-Source-ID header');
  }
  if (typeof next !== 'string' || next.trim() === '')
    throw new SyncServerError('snapshot_session_invalid', 'source_replacement.new_source_id must be a non-empty string');
  if (next.trim() === headerSourceId)
    throw new SyncServerError('snapshot_session_invalid', 'source_replacement.new_source_id must differ from the previous source');
  if (typeof reason !== 'string' || !REASONS.includes(reason as SourceReplacementReason)) {
    throw new SyncServerError('snapshot_session_invalid', `source_replacement.reason must be one of ${REASONS.join(', ')}`);
  }
  return { previousSourceId: headerSourceId, newSourceId: next.trim(), reason: reason as SourceReplacementReason };
}

/**
 * Reserves the replacement source; it inherits the previous source's wire dialect (the same peer
 * software rotates its source id), so its hydrate and first pulls are served in that dialect.
 */
const RESERVE_REPLACEMENT_SQL = `INSERT INTO sync.source_state (user_pk, source_id, state, wire_dialect)
  SELECT $1, $2, 'reserved', (SELECT p.wire_dialect FROM sync.source_state p WHERE p.user_pk = $1 AND p.source_id = $3)`;

/** Applies the rotation rules (retire previous, reserve new), idempotently for the same replacement. */
async function rotateSource(tx: SqlSession, userPk: string, r: SourceReplacement): Promise<void> {
  const prev = await readSourceState(tx, userPk, r.previousSourceId, true);
  const next = await readSourceState(tx, userPk, r.newSourceId, true);
  if (prev?.state === 'retired') {
    if (prev.replacedBySourceId !== r.newSourceId) {
      const extra: Record<string, unknown> = { source_id: r.previousSourceId };
      if (prev.replacedBySourceId) extra.replaced_by_source_id = prev.replacedBySourceId;
      throw new SyncServerError(
        'source_retired',
        `source ${r.previousSourceId} is already retired and replaced by ${prev.replacedBySourceId || 'nothing'}`,
        extra,
      );
    }
    if (!next) {
      await tx.query(RESERVE_REPLACEMENT_SQL, [userPk, r.newSourceId, r.previousSourceId]);
    } else if (next.state === 'retired') {
      throw new SyncServerError('source_replacement_invalid', `replacement source ${r.newSourceId} is retired`);
    }
    return;
  }
  if (next)
    throw new SyncServerError(
      'source_replacement_invalid',
      `replacement source ${r.newSourceId} already exists (${next.state}); use a fresh source id`,
    );
  await tx.query(RESERVE_REPLACEMENT_SQL, [userPk, r.newSourceId, r.previousSourceId]);
  await tx.query(
    `INSERT INTO sync.source_state (user_pk, source_id, state, replaced_by_source_id, retirement_reason) VALUES ($1, $2, 'retired', $3, $4)
     ON CONFLICT (user_pk, source_id) DO UPDATE SET state = 'retired', replaced_by_source_id = EXCLUDED.replaced_by_source_id,
       retirement_reason = EXCLUDED.retirement_reason`,
    [userPk, r.previousSourceId, r.newSourceId, r.reason],
  );
}

/** A slot of the per-process `gate` (its release function), or `code` to retry later when the gate is full. */
function capacitySlot(
  ctx: RuntimeContext,
  gate: CapacityGate,
  code: 'snapshot_build_capacity' | 'snapshot_chunk_capacity',
  work: string,
): () => void {
  const release = gate.tryAcquire();
  if (!release) throw retryLaterError(code, `too many ${work} in progress; retry later`, ctx.limits.capacityRetryAfterSeconds);
  return release;
}

/** `POST /sync/snapshot-sessions`. */
export async function createSnapshotSession(
  ctx: RuntimeContext,
  gate: CapacityGate,
  userId: string,
  replacement: SourceReplacement | null,
): Promise<SnapshotSessionResponse> {
  const release = capacitySlot(ctx, gate, 'snapshot_build_capacity', 'snapshot builds');
  let rest: BackgroundBuild | null = null;
  let handedOver = false;
  try {
    const answer = await inUserTransaction(ctx.db, userId, async (tx) => {
      // A retried transaction (serialization failure) lets go of the earlier attempt's holder.
      if (rest) await rest.abandon();
      rest = null;
      await tx.query(BUILD_SETTINGS_SQL);
      const scope = await ensureUserScope(tx, userId);
      requireInitialized(scope);
      await checkSnapshotSessionQuota(tx, ctx.limits, scope.userPk);
      if (replacement) await rotateSource(tx, scope.userPk, replacement);
      const snapshotId = randomUUID();
      const rowsTable = sessionRowsTable(snapshotId);
      const header = await tx.query<{ expires_at: Date }>(
        `INSERT INTO sync.snapshot_sessions (snapshot_id, user_pk, snapshot_bundle_seq, row_count, byte_count, expires_at)
         VALUES ($1, $2, $3, 0, 0, now() + make_interval(secs => $4)) RETURNING expires_at`,
        [snapshotId, scope.userPk, scope.latestBundleSeq, ctx.limits.snapshotSessionTtlSeconds],
      );
      const utf8 = (await tx.query<{ enc: string }>(`SELECT current_setting('server_encoding') AS enc`)).rows[0]!.enc === 'UTF8';
      const base = {
        snapshot_id: snapshotId,
        snapshot_bundle_seq: scope.latestBundleSeq,
        expires_at: header.rows[0]!.expires_at.toISOString(),
      };
      const pieceRows = ctx.limits.snapshotBuildPieceRows;
      if (ctx.db.kind === 'postgres' && pieceRows > 0 && ctx.limits.maxBytesPerSnapshotSession <= 0) {
        const tables = await countLiveRows(ctx, tx, scope.userPk);
        const rowCount = tables.reduce((n, t) => n + t.live, 0);
        if (rowCount > pieceRows) {
          const maxRows = ctx.limits.maxRowsPerSnapshotSession;
          if (maxRows > 0 && rowCount > maxRows)
            throw new Error(`snapshot has ${rowCount} rows, above max_rows_per_snapshot_session ${maxRows}`);
          await tx.query('UPDATE sync.snapshot_sessions SET row_count = $2 WHERE snapshot_id = $1::uuid', [snapshotId, rowCount]);
          rest = await startPiecewiseBuild(ctx, tx, { snapshotId, rowsTable, userPk: scope.userPk, userId, utf8, tables, rowCount });
          // byte_count is optional in the protocol and not known yet (both clients accept its absence).
          return { ...base, row_count: rowCount } as SnapshotSessionResponse;
        }
      }
      const { rowCount, byteCount } = await buildInOneTransaction(ctx, tx, { snapshotId, rowsTable, userPk: scope.userPk, userId, utf8 });
      // Last, so the tables it drops stay locked only until the commit that follows.
      await sweepSnapshots(tx);
      return { ...base, row_count: rowCount, byte_count: byteCount };
    });
    const build = rest as BackgroundBuild | null;
    if (build) {
      ctx.snapshotBuilds.track(build.run(release), () => build.interrupt());
      handedOver = true;
    }
    return answer;
  } finally {
    if (!handedOver) {
      const build = rest as BackgroundBuild | null;
      if (build) await build.abandon();
      release();
    }
  }
}

function checkHeader(h: { user_id: string; expired: boolean }, snapshotId: string, userId: string, checkExpiry: boolean): void {
  if (h.user_id !== userId)
    throw new SyncServerError('snapshot_session_forbidden', `snapshot session ${snapshotId} belongs to another user`);
  if (checkExpiry && h.expired)
    throw new SyncServerError('snapshot_session_expired', `snapshot session ${snapshotId} expired; create a new one`);
}

/**
 * A chunk of a session in one statement (so header and rows are one consistent
 * snapshot without a transaction): the rows after $2 by ordinal, at most $3 of them, cut where the
 * running byte total would pass $4 (at least one row: `cum = sz` holds only for the first, every
 * text being non-empty; one window instead of adding row_number() saves ~20% of the statement),
 * their texts joined with commas in SQL, so Node handles one string per chunk. Rows are read only
 * for the owner ($5) of a live session, and only once every row the request may get is built:
 * pieces commit in ordinal order, so the committed rows are a prefix and the request's last
 * possible row being visible (one primary-key lookup) says the whole range is. Not
 * `max(row_ordinal)`: during a build its backward index scan steps over every entry of the
 * pieces still being written (invisible, each checked in the heap), 100–200 ms of PostgreSQL CPU
 * per chunk read of a 1M-row hydrate (BENCHMARKS.md, session 18). When the row is not there,
 * `builder_gone` says whether the build's lock is free (its process is gone, or it just ended:
 * the caller asks again once to tell them apart).
 */
function chunkSql(rowsTable: string): string {
  return `
SELECT h.snapshot_bundle_seq::text AS snapshot_bundle_seq, h.row_count::text AS row_count, h.expires_at <= now() AS expired, u.user_id,
       h.build_error, b.ready,
       CASE WHEN NOT b.ready AND h.build_error IS NULL
            THEN pg_try_advisory_xact_lock_shared(${BUILD_LOCK_CLASS}, hashtext(h.snapshot_id::text)) END AS builder_gone,
       c.n, c.bytes, c.body, c.pending
  FROM sync.snapshot_sessions h JOIN sync.user_state u ON u.user_pk = h.user_pk
  CROSS JOIN LATERAL (SELECT least($2::bigint + $3::bigint, h.row_count) AS last) l
  CROSS JOIN LATERAL (SELECT l.last <= 0 OR EXISTS (SELECT 1 FROM ${rowsTable} WHERE row_ordinal = l.last) AS ready) b
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n, coalesce(sum(sz), 0)::text AS bytes, string_agg(row_text, ',' ORDER BY row_ordinal) AS body,
           (count(*) - count(row_text))::int AS pending
      FROM (SELECT row_ordinal, row_text, sz, sum(sz) OVER (ORDER BY row_ordinal ROWS UNBOUNDED PRECEDING) AS cum
              FROM (SELECT r.row_ordinal, r.row_text, octet_length(r.row_text) AS sz FROM ${rowsTable} r
                     WHERE r.row_ordinal > $2 AND u.user_id = $5 AND h.expires_at > now() AND h.build_error IS NULL
                       AND b.ready
                     ORDER BY r.row_ordinal LIMIT $3) r) w
     WHERE cum = sz OR cum <= $4) c
 WHERE h.snapshot_id = $1::uuid`;
}

/**
 * How often a chunk read waiting for a build another process runs looks again (a build in this
 * instance wakes it at once), and how long it waits in all before answering
 * `503 snapshot_chunk_capacity` with `Retry-After` (both clients retry that).
 */
const CHUNK_WAIT_POLL_MS = 50;

const CHUNK_WAIT_MAX_MS = 20_000;

/** `GET /sync/snapshot-sessions/{snapshot_id}`: rows with ordinal > after, bounded by rows and bytes (at least one row). */
export async function readSnapshotChunk(
  ctx: RuntimeContext,
  gate: CapacityGate,
  userId: string,
  sourceId: string,
  snapshotId: string,
  afterRowOrdinal: number,
  maxRows: number,
  maxBytes: number,
): Promise<EncodedJson<SnapshotChunkResponse> | SerializedJson<SnapshotChunkResponse>> {
  const id = snapshotId.toLowerCase();
  const deadline = Date.now() + CHUNK_WAIT_MAX_MS;
  let lockFreeOnce = false;
  for (;;) {
    // Listening before reading: a piece committed between the read and the wait still wakes it.
    const progress = ctx.snapshotBuilds.nextProgress(id);
    try {
      // The capacity slot is held for the read only, not while waiting for a build.
      const release = capacitySlot(ctx, gate, 'snapshot_chunk_capacity', 'snapshot chunk reads');
      let read: ChunkRead | { builderGone: boolean };
      try {
        read = await readChunkStrings(ctx, userId, snapshotId, afterRowOrdinal, maxRows, maxBytes);
        if (!('builderGone' in read)) {
          const dialect = await requesterDialectOfUser(ctx.db, ctx.wireDialect, userId, sourceId);
          return dialect === NUMBERS_DIALECT ? numbersSnapshotChunk(ctx.catalog, read) : stringsSnapshotChunk(read);
        }
      } finally {
        release();
      }
      if (read.builderGone) {
        // Free twice in a row (the second read's snapshot taken after the first saw it free):
        // no build holds it and the rows are still missing, so no one will write them.
        if (lockFreeOnce) {
          throw new SyncServerError(
            'snapshot_session_create_failed',
            `the build of snapshot session ${snapshotId} stopped before its rows were written; create a new session`,
          );
        }
        lockFreeOnce = true;
        continue;
      }
      lockFreeOnce = false;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw retryLaterError(
          'snapshot_chunk_capacity',
          `snapshot session ${snapshotId} is still being built; retry later`,
          ctx.limits.capacityRetryAfterSeconds,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([progress.promise, new Promise<void>((r) => (timer = setTimeout(r, Math.min(CHUNK_WAIT_POLL_MS, left))))]);
      clearTimeout(timer);
    } finally {
      progress.cancel();
    }
  }
}

/** A chunk as read in the strings dialect: its rows' texts as materialized, joined with commas. */
interface ChunkRead {
  snapshotId: string;
  snapshotBundleSeq: number;
  rowsText: string;
  nextRowOrdinal: number;
  byteCount: number;
  hasMore: boolean;
}

/**
 * A chunk in the strings dialect, byte for byte JSON.stringify of the SnapshotChunkResponse (each
 * row text is JSON.stringify of the row). The ~1 MB rows text is written straight into the bytes:
 * joined into one string first, it is a rope that sending has to flatten (a copy, and garbage).
 */
function stringsSnapshotChunk(c: ChunkRead): EncodedJson<SnapshotChunkResponse> {
  return new EncodedJson<SnapshotChunkResponse>(
    utf8OfParts([
      `{"snapshot_id":${JSON.stringify(c.snapshotId)},"snapshot_bundle_seq":${JSON.stringify(c.snapshotBundleSeq)},"rows":[`,
      c.rowsText,
      `],"next_row_ordinal":${JSON.stringify(c.nextRowOrdinal)},"byte_count":${JSON.stringify(c.byteCount)},` +
        `"has_more":${JSON.stringify(c.hasMore)}}`,
    ]),
  );
}

/**
 * A chunk for a go-json-numbers peer: the strings chunk with every row's numeric payload members
 * written as bare numbers (exact digits) and `byte_count` counting the rows as sent.
 */
function numbersSnapshotChunk(catalog: Catalog, c: ChunkRead): SerializedJson<SnapshotChunkResponse> {
  let bytes = 0;
  const rows = (JSON.parse(`[${c.rowsText}]`) as SnapshotChunkResponse['rows']).map((row) => {
    const table = catalog.byName.get(`${row.schema}.${row.table}`)!;
    const text =
      `{"schema":${JSON.stringify(row.schema)},"table":${JSON.stringify(row.table)},"key":${JSON.stringify(row.key)},` +
      `"row_version":${row.row_version},"payload":${numbersPayloadText(table, row.payload)}}`;
    bytes += Buffer.byteLength(text, 'utf8');
    return text;
  });
  return new SerializedJson<SnapshotChunkResponse>(
    `{"snapshot_id":${JSON.stringify(c.snapshotId)},"snapshot_bundle_seq":${c.snapshotBundleSeq},"rows":[${rows.join(',')}],` +
      `"next_row_ordinal":${c.nextRowOrdinal},"byte_count":${bytes},"has_more":${c.hasMore}}`,
  );
}

/** A chunk in the strings dialect (row texts as materialized), or whether the build its rows wait for is gone. */
async function readChunkStrings(
  ctx: RuntimeContext,
  userId: string,
  snapshotId: string,
  afterRowOrdinal: number,
  maxRows: number,
  maxBytes: number,
): Promise<ChunkRead | { builderGone: boolean }> {
  const id = snapshotId.toLowerCase();
  if (!isCanonicalUuid(id)) throw new SyncServerError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
  type ChunkRow = {
    snapshot_bundle_seq: string;
    row_count: string;
    expired: boolean;
    user_id: string;
    build_error: string | null;
    ready: boolean;
    builder_gone: boolean | null;
    n: number;
    bytes: string;
    body: string | null;
    pending: number;
  };
  let c: ChunkRow | undefined;
  try {
    c = (await ctx.db.query<ChunkRow>(chunkSql(sessionRowsTable(id)), [id, afterRowOrdinal, maxRows, maxBytes, userId])).rows[0];
  } catch (err) {
    // No rows table: no such session (or one deleted meanwhile).
    if (pgErrorCode(err) !== '42P01') throw err;
  }
  if (!c) throw new SyncServerError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
  checkHeader(c, snapshotId, userId, true);
  if (c.build_error !== null) throw new SyncServerError('snapshot_session_create_failed', c.build_error);
  if (!c.ready) return { builderGone: c.builder_gone === true };
  if (c.pending > 0) throw new Error(`snapshot session ${id} has rows without wire text`);
  const next = afterRowOrdinal + c.n;
  return {
    snapshotId: id,
    snapshotBundleSeq: Number(c.snapshot_bundle_seq),
    rowsText: c.body ?? '',
    nextRowOrdinal: next,
    byteCount: Number(c.bytes),
    hasMore: next < Number(c.row_count),
  };
}

/** `DELETE /sync/snapshot-sessions/{snapshot_id}` (expired sessions can be deleted too). */
export function deleteSnapshotSession(ctx: RuntimeContext, userId: string, snapshotId: string): Promise<void> {
  return inUserTransaction(ctx.db, userId, async (tx) => {
    const id = snapshotId.toLowerCase();
    if (!isCanonicalUuid(id)) throw new SyncServerError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
    const h = await tx.query<{ user_id: string }>(
      `SELECT u.user_id FROM sync.snapshot_sessions s JOIN sync.user_state u ON u.user_pk = s.user_pk WHERE s.snapshot_id = $1::uuid`,
      [id],
    );
    if (!h.rows[0]) throw new SyncServerError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
    checkHeader({ user_id: h.rows[0].user_id, expired: false }, snapshotId, userId, false);
    await tx.query(`DELETE FROM sync.snapshot_sessions WHERE snapshot_id = $1::uuid`, [id]);
    // A build still running stops now instead of the DROP waiting for its pieces in progress.
    if (ctx.db.kind === 'postgres') await cancelBuildPieces(tx, sessionRowsTable(id));
    await tx.query(`DROP TABLE IF EXISTS ${sessionRowsTable(id)}`);
  });
}
