/**
 * Chunked push sessions: create (idempotent on (user, source, source_bundle_id)), stage chunks
 * (one set-based INSERT per chunk), commit (conflict check, apply grouped by table/op/columns,
 * finalize the captured bundle — one transaction), and delete.
 */
import { isJsonObject } from '../../protocol/canonical-json.ts';
import { randomUUID } from 'node:crypto';
import type {
  CommittedBundleMeta,
  PushSessionAlreadyCommittedResponse,
  PushSessionCreateResponse,
  PushChunkResponse,
} from '../../protocol/wire.ts';
import type { WireDialect } from '../../protocol/dialect.ts';
import { isCanonicalUuid } from '../../protocol/values.ts';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, decodeValueSql, keyFromTextSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import { finalizeCapturedBundle } from './bundle-finalize.ts';
import type { RuntimeContext } from './context.ts';
import { payloadNumberTexts } from './chunk-number-texts.ts';
import type { PayloadNumberTexts } from './chunk-number-texts.ts';
import { explainPushRejection } from './push-rejections.ts';
import { conflictError, findFirstConflict, firstConflictSql, jsonRows, stagedRows } from './push-conflicts.ts';
import type { ConflictRow, PushRowSource } from './push-conflicts.ts';
import { OPEN_PUSH_SESSIONS_SQL, checkPushSessionQuota, pushSessionsCounted } from './user-quotas.ts';
import type { OpenPushSessions } from './user-quotas.ts';
import { validatePushRows } from './push-validation.ts';
import type { JsonNumberInput, ValidatedPushRow } from './push-validation.ts';
import { SCOPE_COLUMNS, ScopeCode, ensureUserScope, markInitialized, scopeForPush } from './scope-state.ts';
import type { ScopeRow, UserScope } from './scope-state.ts';
import { bundleContextSqlOf, recordSourceCommitSql, expectedSourceBundleId, sourceStateColumns, sourceStateOfRow } from './source-state.ts';
import type { SourceStateColumns } from './source-state.ts';
import { SyncServerError, pgErrorCode } from './sync-error.ts';
import { inUserTransaction } from './transactions.ts';
import { STRINGS_DIALECT, pushSessionDialect, storedDialect } from './wire-dialect.ts';
import { OpCode } from './wire-rows.ts';

const HASH = /^[0-9a-f]{64}$/;

function positiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

/** Parsed `POST /sync/push-sessions` body. */
export interface PushCreateInput {
  sourceBundleId: number;
  plannedRowCount: number;
  initializationId: string | null;
  canonicalRequestHash: string | null;
}

/** Validates a push-session create body; throws `push_session_invalid`. */
export function parsePushCreate(body: unknown): PushCreateInput {
  if (!isJsonObject(body)) throw new SyncServerError('push_session_invalid', 'request body must be a JSON object');
  if (!positiveInt(body.source_bundle_id)) throw new SyncServerError('push_session_invalid', 'source_bundle_id must be an integer >= 1');
  if (!positiveInt(body.planned_row_count)) throw new SyncServerError('push_session_invalid', 'planned_row_count must be an integer >= 1');
  const init = body.initialization_id;
  if (init !== undefined && init !== null && init !== '' && (typeof init !== 'string' || !isCanonicalUuid(init.toLowerCase()))) {
    throw new SyncServerError('push_session_invalid', 'initialization_id must be a UUID');
  }
  const hash = body.canonical_request_hash;
  if (hash !== undefined && hash !== null && hash !== '' && (typeof hash !== 'string' || !HASH.test(hash))) {
    throw new SyncServerError('push_session_invalid', 'canonical_request_hash must be 64 lowercase hex characters');
  }
  return {
    sourceBundleId: body.source_bundle_id,
    plannedRowCount: body.planned_row_count,
    initializationId: typeof init === 'string' && init !== '' ? init.toLowerCase() : null,
    canonicalRequestHash: typeof hash === 'string' && hash !== '' ? hash : null,
  };
}

/** Checks an initialization session against the scope lease and refreshes the lease. */
async function checkInitializationLease(
  tx: SqlSession,
  scope: UserScope,
  sourceId: string,
  initializationId: string,
  ttlSeconds: number,
): Promise<void> {
  if (scope.state === ScopeCode.uninitialized) {
    throw new SyncServerError('initialization_expired', 'the initialization lease expired; connect again');
  }
  if (scope.state === ScopeCode.initialized || scope.initializationId !== initializationId || scope.initializerSourceId !== sourceId) {
    throw new SyncServerError('initialization_stale', "initialization_id does not match the scope's active initialization");
  }
  await tx.query(`UPDATE sync.scope_state SET lease_expires_at = now() + make_interval(secs => $2) WHERE user_pk = $1`, [
    scope.userPk,
    ttlSeconds,
  ]);
}

/** Raises work_mem for the rest of the transaction to `wm.bytes` (see {@link workMemBytesSql}) when it is lower. */
const RAISE_WORK_MEM_COLUMN = `CASE WHEN pg_size_bytes(current_setting('work_mem')) < wm.bytes THEN set_config('work_mem', (wm.bytes / 1024)::text || 'kB', true) END AS work_mem`;

/** The state of source `sourceId` of user `userPk` (SQL expressions), locked for a commit, joined as `ss`. */
function lockedSourceStateJoin(userPk: string, sourceId: string): string {
  return `LEFT JOIN LATERAL (SELECT x.state, x.max_committed_source_bundle_id, x.replaced_by_source_id FROM sync.source_state x
                           WHERE x.user_pk = ${userPk} AND x.source_id = ${sourceId} FOR UPDATE) ss ON true`;
}

/**
 * What a push-session create reads, in one statement: the user's scope (see `scopeForPush`), the
 * committed bundle of (source, source_bundle_id) when there is one, and the source's state. With
 * `commitRows` (the one-request push, which commits in the same transaction) it also does what a
 * commit's read does ({@link COMMIT_READS}): locks the source's state, sets the bundle context and
 * raises work_mem for that many rows; with `countOpen` too, it counts the user's open push
 * sessions but one under the same (source, source_bundle_id), for the quota.
 */
async function readForCreate(
  tx: SqlSession,
  userId: string,
  sourceId: string,
  sourceBundleId: number,
  commitRows?: number,
  countOpen = false,
): Promise<{
  scope: UserScope | null;
  committed: (CommittedBundleMeta & { pruned: boolean }) | null;
  source: ReturnType<typeof sourceStateOfRow>;
  openSessions: OpenPushSessions | null;
}> {
  const commit =
    commitRows === undefined
      ? null
      : {
          columns: `, ${bundleContextSqlOf('$1', 'u.user_pk::text', '$2', '$3::bigint::text')}, ${RAISE_WORK_MEM_COLUMN}${
            countOpen ? ', o.n AS open_n, o.rows AS open_rows' : ''
          }`,
          joins: `${lockedSourceStateJoin('u.user_pk', '$2')}
       CROSS JOIN LATERAL (SELECT ${workMemBytesSql('$4::bigint')} AS bytes) wm${
         countOpen
           ? `
       CROSS JOIN LATERAL (SELECT count(*)::int AS n, coalesce(sum(p.planned_row_count), 0)::text AS rows FROM sync.push_sessions p
                            WHERE p.user_pk = u.user_pk AND p.expires_at > now() AND NOT (p.source_id = $2 AND p.source_bundle_id = $3)) o`
           : ''
       }`,
        };
  const r = await tx.query<
    ScopeRow & {
      bundle_seq: string | null;
      row_count: number;
      bundle_hash: string;
      canonical_request_hash: string | null;
      open_n?: number;
      open_rows?: string;
    } & SourceStateColumns
  >(
    `SELECT ${SCOPE_COLUMNS}, b.bundle_seq::text AS bundle_seq, b.row_count, b.bundle_hash, b.canonical_request_hash, ${sourceStateColumns('ss')}${commit?.columns ?? ''}
       FROM sync.user_state u
       LEFT JOIN sync.scope_state s ON s.user_pk = u.user_pk
       LEFT JOIN sync.bundle_log b ON b.user_pk = u.user_pk AND b.source_id = $2 AND b.source_bundle_id = $3
       ${commit?.joins ?? 'LEFT JOIN sync.source_state ss ON ss.user_pk = u.user_pk AND ss.source_id = $2'}
      WHERE u.user_id = $1`,
    commitRows === undefined ? [userId, sourceId, sourceBundleId] : [userId, sourceId, sourceBundleId, commitRows],
  );
  const row = r.rows[0];
  const scope = scopeForPush(row);
  const openSessions = row?.open_n !== undefined ? { n: row.open_n, rows: row.open_rows! } : null;
  if (!row || !scope) return { scope, committed: null, source: null, openSessions };
  const source = sourceStateOfRow(row);
  if (row.bundle_seq === null) return { scope, committed: null, source, openSessions };
  const meta: CommittedBundleMeta & { pruned: boolean } = {
    bundle_seq: Number(row.bundle_seq),
    source_id: sourceId,
    source_bundle_id: sourceBundleId,
    row_count: row.row_count,
    bundle_hash: row.bundle_hash,
    pruned: Number(row.bundle_seq) <= scope.retainedFloor,
  };
  if (row.canonical_request_hash) meta.canonical_request_hash = row.canonical_request_hash;
  return { scope, committed: meta, source, openSessions };
}

/**
 * Deletes push sessions chosen by `selectIds` (an SQL query returning push_id) with their staged
 * rows and segments, in one statement (the child tables carry no FK: per-row RI checks on every
 * staged row would cost more than this explicit cleanup). `ctes` (`name AS (statement), …`) run
 * in the same statement after the deletion's; `select` reads `gone` (push_id, planned_row_count,
 * open) and defaults to the count deleted.
 */
function deleteSessionsSql(selectIds: string, options: { ctes?: string; select?: string } = {}): string {
  return `WITH ${deleteSessionsCtes(selectIds)}${options.ctes ? `, ${options.ctes}` : ''}
  ${options.select ?? 'SELECT count(*)::int AS n FROM gone'}`;
}

/** {@link deleteSessionsSql}'s CTEs (`gone` returns push_id, planned_row_count, open). */
function deleteSessionsCtes(selectIds: string): string {
  return `gone AS (DELETE FROM sync.push_sessions WHERE push_id IN (${selectIds})
      RETURNING push_id, planned_row_count, expires_at > now() AS open),
    rows_gone AS (DELETE FROM sync.push_session_rows WHERE push_id IN (SELECT push_id FROM gone)),
    segments_gone AS (DELETE FROM sync.push_session_segments WHERE push_id IN (SELECT push_id FROM gone))`;
}

/**
 * CTEs `staged` and `added`: a push's rows (the JSON array `rowsParam`, see {@link stagedRowsJson};
 * row ordinals from `firstOrdinal`) and its new segments (`segmentsParam`, {@link segmentsJson})
 * written under the session `pushId`. The rows travel as one JSON document, which PostgreSQL
 * parses once (cheaper than array literals).
 */
function stageRowsCtes(pushId: string, firstOrdinal: string, rowsParam: string, segmentsParam: string): string {
  return `staged AS (
       INSERT INTO sync.push_session_rows (push_id, row_ordinal, table_id, key_text, op_code, base_bundle_seq, payload)
       SELECT ${pushId}, ${firstOrdinal} + e.ord - 1, (e.v->>0)::int, e.v->>1, (e.v->>2)::smallint, (e.v->>3)::bigint, nullif(e.v->4, 'null'::jsonb)
         FROM jsonb_array_elements(${rowsParam}::jsonb) WITH ORDINALITY AS e(v, ord)
     ), added AS (
       INSERT INTO sync.push_session_segments (push_id, start_ordinal, end_ordinal, table_id, op_code, columns)
       SELECT ${pushId}, (g.v->>0)::bigint, (g.v->>1)::bigint, (g.v->>2)::int, (g.v->>3)::smallint,
              ARRAY(SELECT jsonb_array_elements_text(g.v->4))
         FROM jsonb_array_elements(${segmentsParam}::jsonb) AS g(v)
     )`;
}

/** {@link stageRowsCtes}'s rows parameter. */
function stagedRowsJson(rows: readonly ValidatedPushRow[]): string {
  return JSON.stringify(rows.map((r) => [r.table.tableId, r.keyText, r.op, r.baseRowVersion, r.payload]));
}

/** {@link stageRowsCtes}'s segments parameter. */
function segmentsJson(segments: readonly Segment[]): string {
  return JSON.stringify(segments.map((g) => [g.start, g.end, g.tableId, g.op, g.columns]));
}

/**
 * The work_mem a commit of `rows` planned rows raises the transaction's to (SQL of a bigint
 * expression). The commit sorts and materializes the bundle's rows a few times (~1 KB each with
 * their payloads): enough work_mem keeps that in memory (100,000 rows spilled to temporary files:
 * the commit took twice as long); 1 KB a planned row, 16–128 MB, only ever raised.
 */
function workMemBytesSql(rows: string): string {
  return `least(134217728, greatest(16777216, ${rows} * 1024))`;
}

/**
 * Everyone's expired push sessions are swept by a push-session create at most this often per
 * server. Sweeping on every create was the costliest statement of a create (~0.7 ms of PostgreSQL
 * time against 0.1–0.4 ms for each of the others, bench/probes/small-sync-trace.ts); expired
 * sessions count for nothing meanwhile (quotas and chunk/commit check `expires_at`).
 */
const EXPIRED_SWEEP_INTERVAL_MS = 5_000;
const lastExpiredSweep = new WeakMap<RuntimeContext, number>();

/** `POST /sync/push-sessions`. */
export async function createPushSession(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  input: PushCreateInput,
): Promise<PushSessionCreateResponse> {
  const created = await inUserTransaction(ctx.db, userId, (tx) => createPushSessionIn(tx, ctx, userId, sourceId, input));
  // A re-sent push that finds its bundle committed announces it again: the hint the committing
  // process may have died before sending (see RuntimeContext.announceCommitted).
  if (created.status === 'already_committed') ctx.announceCommitted(userId, created);
  return created;
}

/** A push-session create inside the caller's user transaction. */
async function createPushSessionIn(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  input: PushCreateInput,
): Promise<PushSessionCreateResponse> {
  await sweepExpiredSessions(tx, ctx);
  const admitted = await admitCreate(tx, ctx, sourceId, input, await readForCreate(tx, userId, sourceId, input.sourceBundleId));
  if (admitted.status === 'already_committed') return admitted;
  const { scope } = admitted;
  // The session this one replaces (same source_bundle_id: a retry) goes; the user's other open
  // sessions are counted for the quota by the same statement.
  const replaced = await tx.query<OpenPushSessions>(
    deleteSessionsSql(`SELECT push_id FROM sync.push_sessions WHERE user_pk = $1 AND source_id = $2 AND source_bundle_id = $3`, {
      select: pushSessionsCounted(ctx.limits) ? OPEN_PUSH_SESSIONS_SQL : undefined,
    }),
    [scope.userPk, sourceId, input.sourceBundleId],
  );
  checkPushSessionQuota(ctx.limits, input.plannedRowCount, pushSessionsCounted(ctx.limits) ? replaced.rows[0]! : null);
  const pushId = randomUUID();
  await tx.query(
    `INSERT INTO sync.push_sessions (push_id, user_pk, source_id, source_bundle_id, planned_row_count, initialization_id, canonical_request_hash, expires_at, wire_dialect)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8), $9)`,
    [
      pushId,
      scope.userPk,
      sourceId,
      input.sourceBundleId,
      input.plannedRowCount,
      input.initializationId,
      input.canonicalRequestHash,
      ctx.limits.pushSessionTtlSeconds,
      pushSessionDialect(ctx.wireDialect, input.canonicalRequestHash),
    ],
  );
  const response: PushSessionCreateResponse = {
    status: 'staging',
    push_id: pushId,
    planned_row_count: input.plannedRowCount,
    next_expected_row_ordinal: 0,
  };
  if (input.canonicalRequestHash) response.canonical_request_hash = input.canonicalRequestHash;
  return response;
}

/** Housekeeping: expired sessions of anyone (skipping sessions another transaction holds), at most every few seconds. */
async function sweepExpiredSessions(tx: SqlSession, ctx: RuntimeContext): Promise<void> {
  const now = Date.now();
  if (now - (lastExpiredSweep.get(ctx) ?? Number.NEGATIVE_INFINITY) >= EXPIRED_SWEEP_INTERVAL_MS) {
    lastExpiredSweep.set(ctx, now);
    await tx.query(deleteSessionsSql(`SELECT push_id FROM sync.push_sessions WHERE expires_at < now() FOR UPDATE SKIP LOCKED`));
  }
}

/**
 * A create's checks on what {@link readForCreate} read: the scope and its initialization lease, a
 * bundle already committed under the tuple (answered `already_committed`), the source's sequence.
 */
async function admitCreate(
  tx: SqlSession,
  ctx: RuntimeContext,
  sourceId: string,
  input: PushCreateInput,
  { scope, committed, source }: Awaited<ReturnType<typeof readForCreate>>,
): Promise<PushSessionAlreadyCommittedResponse | { status: 'admitted'; scope: UserScope }> {
  if (!scope || scope.state === ScopeCode.uninitialized) {
    if (input.initializationId) throw new SyncServerError('initialization_expired', 'the initialization lease expired; connect again');
    throw new SyncServerError('scope_uninitialized', 'scope is not initialized; call POST /sync/connect first');
  }
  if (scope.state === ScopeCode.initializing) {
    if (!input.initializationId)
      throw new SyncServerError('push_session_invalid', 'initialization_id is required while the scope is initializing');
    await checkInitializationLease(tx, scope, sourceId, input.initializationId, ctx.limits.initializationLeaseTtlSeconds);
  } else if (input.initializationId) {
    throw new SyncServerError('push_session_invalid', 'initialization_id must be absent once the scope is initialized');
  }
  if (committed && !committed.pruned) {
    const { pruned: _pruned, ...meta } = committed;
    await tx.query(`SELECT nextval('sync.accepted_push_replay_seq')`);
    return { status: 'already_committed', ...meta };
  }
  const expected = expectedSourceBundleId(sourceId, source);
  if (input.sourceBundleId < expected) {
    await tx.query(`SELECT nextval('sync.history_pruned_error_seq')`);
    throw new SyncServerError(
      'history_pruned',
      `source_bundle_id ${input.sourceBundleId} was committed and its history is pruned; expected ${expected}`,
    );
  }
  if (input.sourceBundleId > expected) {
    throw new SyncServerError(
      'source_sequence_out_of_order',
      `source_bundle_id ${input.sourceBundleId} is out of order; expected ${expected}`,
    );
  }
  return { status: 'admitted', scope };
}

interface SessionRow {
  push_id: string;
  user_pk: string;
  source_id: string;
  source_bundle_id: string;
  planned_row_count: string;
  next_expected_row_ordinal: string;
  initialization_id: string | null;
  canonical_request_hash: string | null;
  wire_dialect: string | null;
  expired: boolean;
  owner_user_id: string;
  /** The session's last segment (continued by the next chunk when the shape matches). */
  seg_start: string | null;
  seg_table: number | null;
  seg_op: number | null;
  seg_columns: string | null;
}

/** What a commit reads along with its session (see {@link lockSession}). */
interface CommitReads extends ScopeRow, SourceStateColumns {
  /** Staged rows, keys staged more than once, and whether all are base-0 INSERTs (text counts). */
  staged_n: string;
  staged_dupes: string;
  new_keys_only: boolean;
  /** The session's segments in ordinal order: [start, end, table_id, op_code, columns] (null: none). */
  segments: Array<[string, string, number, number, string[]]> | null;
}

/**
 * A commit's reads besides the session, in the same statement: the user's scope, the staged rows'
 * counts (one scan), the source's state (locked), the segments to apply; and on the way the
 * bundle context the capture triggers need ($2: the user id; the rest from the session, which the
 * checks after it compare with the request), and work_mem raised for the transaction (see
 * {@link workMemBytesSql}).
 */
const COMMIT_READS = {
  columns: `, ${SCOPE_COLUMNS}, st.staged_n, st.staged_dupes, st.new_keys_only, ${sourceStateColumns('ss')},
            (SELECT json_agg(json_build_array(a.start_ordinal::text, a.end_ordinal::text, a.table_id, a.op_code, a.columns) ORDER BY a.start_ordinal)
               FROM sync.push_session_segments a WHERE a.push_id = p.push_id) AS segments,
            ${bundleContextSqlOf('$2', 'u.user_pk::text', 'p.source_id', 'p.source_bundle_id::text')},
            ${RAISE_WORK_MEM_COLUMN}`,
  joins: `
       LEFT JOIN sync.scope_state s ON s.user_pk = u.user_pk
       LEFT JOIN LATERAL (SELECT coalesce(sum(g.c), 0)::text AS staged_n, count(*) FILTER (WHERE g.c > 1)::text AS staged_dupes,
                                 coalesce(bool_and(g.new_key), false) AS new_keys_only
                            FROM (SELECT count(*) AS c, bool_and(r.op_code = 1 AND r.base_bundle_seq = 0) AS new_key
                                    FROM sync.push_session_rows r WHERE r.push_id = p.push_id GROUP BY r.table_id, r.key_text) g) st ON true
       ${lockedSourceStateJoin('p.user_pk', 'p.source_id')}
       CROSS JOIN LATERAL (SELECT ${workMemBytesSql('p.planned_row_count')} AS bytes) wm`,
};

/**
 * Loads and locks a session, enforcing existence (404), ownership (403) and expiry (410); with
 * `forCommit`, also what the commit reads ({@link COMMIT_READS}).
 */
async function lockSession(tx: SqlSession, pushId: string, userId: string, sourceId: string): Promise<SessionRow>;
async function lockSession(
  tx: SqlSession,
  pushId: string,
  userId: string,
  sourceId: string,
  forCommit: true,
): Promise<SessionRow & CommitReads>;
async function lockSession(tx: SqlSession, pushId: string, userId: string, sourceId: string, forCommit = false): Promise<SessionRow> {
  if (!isCanonicalUuid(pushId.toLowerCase())) throw new SyncServerError('push_session_not_found', `push session ${pushId} not found`);
  const r = await tx.query<SessionRow>(
    `SELECT p.push_id::text AS push_id, p.user_pk::text AS user_pk, p.source_id, p.source_bundle_id::text AS source_bundle_id,
            p.planned_row_count::text AS planned_row_count, p.next_expected_row_ordinal::text AS next_expected_row_ordinal,
            p.initialization_id::text AS initialization_id, p.canonical_request_hash, p.wire_dialect, p.expires_at <= now() AS expired,
            u.user_id AS owner_user_id, ls.start_ordinal::text AS seg_start, ls.table_id AS seg_table, ls.op_code AS seg_op,
            array_to_string(ls.columns, ',') AS seg_columns${forCommit ? COMMIT_READS.columns : ''}
       FROM sync.push_sessions p JOIN sync.user_state u ON u.user_pk = p.user_pk
       LEFT JOIN LATERAL (SELECT g.start_ordinal, g.table_id, g.op_code, g.columns FROM sync.push_session_segments g
                           WHERE g.push_id = p.push_id ORDER BY g.start_ordinal DESC LIMIT 1) ls ON true${forCommit ? COMMIT_READS.joins : ''}
      WHERE p.push_id = $1::uuid FOR UPDATE OF p`,
    forCommit ? [pushId.toLowerCase(), userId] : [pushId.toLowerCase()],
  );
  const s = r.rows[0];
  if (!s) throw new SyncServerError('push_session_not_found', `push session ${pushId} not found`);
  if (s.owner_user_id !== userId || s.source_id !== sourceId) {
    throw new SyncServerError('push_session_forbidden', `push session ${pushId} belongs to another user or source`);
  }
  if (s.expired) throw new SyncServerError('push_session_expired', `push session ${pushId} expired; create a new one`);
  return s;
}

/** Parsed chunk body. */
export interface PushChunkInput {
  startRowOrdinal: number;
  rows: ValidatedPushRow[];
  /**
   * The chunk carried JSON numbers in numeric columns (go-json-numbers dialect, already turned
   * into exact strings): the error a strings-dialect session answers instead; null when none.
   */
  jsonNumberError: SyncServerError | null;
}

/**
 * Validates a chunk body entirely before any database work; throws `push_chunk_invalid`.
 * `bodyText` is the body's JSON text, read for the exact digits of JSON numbers.
 */
export function parsePushChunk(ctx: RuntimeContext, body: unknown, bodyText: string): PushChunkInput {
  if (!isJsonObject(body)) throw new SyncServerError('push_chunk_invalid', 'request body must be a JSON object');
  const start = body.start_row_ordinal;
  if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) {
    throw new SyncServerError('push_chunk_invalid', 'start_row_ordinal must be a non-negative integer');
  }
  let texts: PayloadNumberTexts | null = null;
  const numbers: JsonNumberInput = {
    texts: () => (texts ??= payloadNumberTexts(bodyText)),
    first: null,
  };
  const rows = validatePushRows(body.rows, ctx.catalog, ctx.limits.maxRowsPerPushChunk, numbers);
  // Only a body larger than the limit can hold a row that is: the per-row sizing is rarely needed.
  if (Buffer.byteLength(bodyText, 'utf8') > ctx.limits.maxBytesPerSnapshotRow)
    refuseRowsTooLargeToServe(rows, ctx.limits.maxBytesPerSnapshotRow);
  return { startRowOrdinal: start, rows, jsonNumberError: numbers.first };
}

/**
 * Refuses a pushed row whose snapshot row would exceed `max_bytes_per_snapshot_row`: committed,
 * it would make every later snapshot of the user fail, so a new device could never hydrate.
 * Sized as its snapshot row with the widest possible `row_version`.
 */
function refuseRowsTooLargeToServe(rows: readonly ValidatedPushRow[], limit: number): void {
  rows.forEach((row, i) => {
    if (row.payload === null) return;
    const { schema, table } = row.table;
    const text = JSON.stringify({
      key: { [row.table.keyColumn]: row.keyText },
      payload: row.payload,
      row_version: '9223372036854775807',
      schema,
      table,
    });
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limit) {
      throw new SyncServerError(
        'push_chunk_invalid',
        `rows[${i}]: ${row.table.qualifiedName} key ${JSON.stringify(row.keyText)} is ${size} bytes as a snapshot row, above max_bytes_per_snapshot_row ${limit}; the server could not serve it to a new device`,
      );
    }
  });
}

/** `POST /sync/push-sessions/{push_id}/chunks`. */
export function uploadPushChunk(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
  input: PushChunkInput,
): Promise<PushChunkResponse> {
  return inUserTransaction(ctx.db, userId, (tx) => uploadPushChunkIn(tx, ctx, userId, sourceId, pushId, input));
}

/** A chunk upload inside the caller's user transaction. */
async function uploadPushChunkIn(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
  input: PushChunkInput,
): Promise<PushChunkResponse> {
  const s = await lockSession(tx, pushId, userId, sourceId);
  if (s.initialization_id) {
    const scope = await ensureUserScope(tx, userId);
    await checkInitializationLease(tx, scope, sourceId, s.initialization_id, ctx.limits.initializationLeaseTtlSeconds);
  }
  // JSON numbers for numeric columns are the go-json-numbers dialect only.
  if (input.jsonNumberError && storedDialect(s.wire_dialect) === STRINGS_DIALECT) throw input.jsonNumberError;
  const expected = Number(s.next_expected_row_ordinal);
  if (input.startRowOrdinal !== expected) {
    throw new SyncServerError(
      'push_chunk_out_of_order',
      `start_row_ordinal ${input.startRowOrdinal} does not match next_expected_row_ordinal ${expected}`,
    );
  }
  const end = input.startRowOrdinal + input.rows.length;
  if (end > Number(s.planned_row_count)) {
    throw new SyncServerError('push_chunk_invalid', `chunk ends at row ${end}, beyond planned_row_count ${s.planned_row_count}`);
  }
  const rows = input.rows;
  const { continued, segments } = chunkSegments(s, input.startRowOrdinal, rows);
  // Rows, segments and the session cursor in one statement.
  await tx.query(
    `WITH ${stageRowsCtes('$1::uuid', '$2::bigint', '$3', '$6')}, extended AS (
       UPDATE sync.push_session_segments SET end_ordinal = $5 WHERE push_id = $1::uuid AND start_ordinal = $4::bigint
     )
     UPDATE sync.push_sessions SET next_expected_row_ordinal = $7, expires_at = now() + make_interval(secs => $8) WHERE push_id = $1::uuid`,
    [
      s.push_id,
      input.startRowOrdinal,
      stagedRowsJson(rows),
      continued?.start ?? null,
      continued?.end ?? null,
      segmentsJson(segments),
      end,
      ctx.limits.pushSessionTtlSeconds,
    ],
  );
  return { push_id: s.push_id, next_expected_row_ordinal: end };
}

interface Segment {
  start: number;
  end: number;
  tableId: number;
  op: number;
  columns: string[];
}

/**
 * Run-length groups of consecutive rows that one statement can apply (same table, op and column
 * set). When the chunk's first group has the shape of the session's last segment, that segment
 * is `continued` up to the group's end instead of starting a new one.
 */
function chunkSegments(
  s: SessionRow,
  start: number,
  rows: ValidatedPushRow[],
): { continued: { start: string; end: number } | null; segments: Segment[] } {
  const segments = rowSegments(start, rows);
  const first = segments[0]!;
  if (s.seg_start !== null && s.seg_table === first.tableId && s.seg_op === first.op && (s.seg_columns ?? '') === first.columns.join(',')) {
    segments.shift();
    return { continued: { start: s.seg_start, end: first.end }, segments };
  }
  return { continued: null, segments };
}

/** The run-length groups of `rows` (see {@link chunkSegments}), the first row at ordinal `start`. */
function rowSegments(start: number, rows: readonly ValidatedPushRow[]): Segment[] {
  const segments: Segment[] = [];
  let sigOfLast = '';
  rows.forEach((row, i) => {
    const sig = `${row.table.tableId}|${row.op}|${row.columnSignature}`;
    const last = segments[segments.length - 1];
    if (last && sig === sigOfLast) last.end = start + i;
    else
      segments.push({
        start: start + i,
        end: start + i,
        tableId: row.table.tableId,
        op: row.op,
        columns: row.columnSignature ? row.columnSignature.split(',') : [],
      });
    sigOfLast = sig;
  });
  return segments;
}

/** Applies one segment of staged rows with a single set-based statement. */
async function applySegment(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  pushId: string,
  seg: { start_ordinal: string; end_ordinal: string; table_id: number; op_code: number; columns: string[] },
): Promise<void> {
  await applyRows(tx, ctx, userId, stagedRows(pushId, { from: seg.start_ordinal, to: seg.end_ordinal }), seg);
}

/**
 * Applies `rows`, one segment's (same table, op and columns), with a single set-based statement.
 * With `check`, the same statement first looks for the first conflict among `check.rows` (the
 * whole bundle's) and applies nothing when it finds one, which it returns (see
 * {@link firstConflictSql}; null: none).
 */
async function applyRows(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  rows: PushRowSource,
  seg: { table_id: number; op_code: number; columns: string[] },
  check?: { rows: PushRowSource; userPk: string },
): Promise<ConflictRow | null> {
  const table = ctx.catalog.byId.get(seg.table_id)!;
  const scope = quoteIdent(SCOPE_COLUMN);
  const key = quoteIdent(table.keyColumn);
  const rowsSql = `FROM ${rows.sql(2)}`;
  const params: unknown[] = [userId, ...rows.params];
  let head = '';
  let gate = '';
  let tail = '';
  if (check) {
    params.push(check.userPk);
    const userPk = `$${params.length}`;
    let first = 2;
    if (check.rows !== rows) {
      first = params.length + 1;
      params.push(...check.rows.params);
    }
    head = `WITH c AS (${firstConflictSql(check.rows, userPk, first)}), applied AS (`;
    // Uncorrelated: a one-time filter, so no row is even read when there is a conflict.
    gate = ' AND NOT EXISTS (SELECT 1 FROM c)';
    tail = ') SELECT * FROM c';
  }
  const cols = seg.columns.map((c) => table.columnsByName.get(c)!);
  let sql: string;
  if (seg.op_code === OpCode.INSERT) {
    sql = `INSERT INTO ${table.sqlName} (${scope}, ${cols.map((c) => quoteIdent(c.name)).join(', ')})
       SELECT $1, ${cols.map((c) => decodeValueSql(c, 'r.payload')).join(', ')} ${rowsSql}${check ? ` WHERE true${gate}` : ''} ORDER BY r.row_ordinal`;
  } else if (seg.op_code === OpCode.UPDATE) {
    sql = `UPDATE ${table.sqlName} t SET ${cols.map((c) => `${quoteIdent(c.name)} = d.${quoteIdent(c.name)}`).join(', ')}
         FROM (SELECT r.key_text AS _k, ${cols.map((c) => `${decodeValueSql(c, 'r.payload')} AS ${quoteIdent(c.name)}`).join(', ')} ${rowsSql}) d
        WHERE t.${scope} = $1 AND t.${key} = ${keyFromTextSql(table, 'd._k')}${gate}`;
  } else {
    sql = `DELETE FROM ${table.sqlName} t USING (SELECT r.key_text AS _k ${rowsSql}) d
        WHERE t.${scope} = $1 AND t.${key} = ${keyFromTextSql(table, 'd._k')}${gate}`;
  }
  const r = await tx.query<ConflictRow>(`${head}${sql}${tail}`, params);
  return check ? (r.rows[0] ?? null) : null;
}

/**
 * The savepoint a commit rolls back to when a deferred conflict check has to run against the rows
 * as they were before the apply; whoever opens the transaction sets it before
 * {@link commitPushSessionIn} runs.
 */
export const APPLY_SAVEPOINT = 'oversync_apply';

/** `POST /sync/push-sessions/{push_id}/commit`. */
export async function commitPushSession(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
): Promise<CommittedBundleMeta> {
  try {
    const meta = await inUserTransaction(ctx.db, userId, (tx) => commitPushSessionIn(tx, ctx, userId, sourceId, pushId), {
      deferConstraints: true,
      savepoint: APPLY_SAVEPOINT,
    });
    ctx.announceCommitted(userId, meta);
    return meta;
  } catch (err) {
    if (err instanceof SyncServerError) throw err;
    // Refused because of the pushed data (casts, NOT NULL, references, CHECK/UNIQUE rules): a
    // rejection naming the row in protocol terms; anything else stays the server's problem.
    throw (await explainPushRejection(ctx, userId, sourceId, pushId, err, applySegment)) ?? err;
  }
}

/**
 * A commit inside the caller's user transaction, which was begun with deferred constraints and
 * has {@link APPLY_SAVEPOINT} set after the session's rows were staged.
 */
async function commitPushSessionIn(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
): Promise<CommittedBundleMeta> {
  const s = await lockSession(tx, pushId, userId, sourceId, true);
  const planned = Number(s.planned_row_count);
  if (Number(s.next_expected_row_ordinal) !== planned || Number(s.staged_n) !== planned) {
    throw new SyncServerError('push_commit_invalid', `push session has ${s.staged_n} of ${planned} planned rows staged`);
  }
  if (Number(s.staged_dupes) > 0) throw stagedTwiceError();
  const scope = scopeForPush(s);
  if (s.initialization_id) {
    if (!scope) throw new SyncServerError('initialization_expired', 'the initialization lease expired; connect again');
    await checkInitializationLease(tx, scope, sourceId, s.initialization_id, ctx.limits.initializationLeaseTtlSeconds);
  } else if (!scope || scope.state !== ScopeCode.initialized) {
    throw new SyncServerError(
      scope?.state === ScopeCode.initializing ? 'scope_initializing' : 'scope_uninitialized',
      'scope is not initialized',
    );
  }
  const sourceBundleId = Number(s.source_bundle_id);
  const expected = expectedSourceBundleId(sourceId, sourceStateOfRow(s));
  if (expected !== sourceBundleId) {
    throw new SyncServerError(
      'source_sequence_changed',
      `source sequence changed since the session was created: expected ${expected}, session has ${sourceBundleId}`,
    );
  }
  return applyStagedBundle(tx, ctx, userId, sourceId, scope, {
    sourceBundleId,
    initializationId: s.initialization_id,
    canonicalRequestHash: s.canonical_request_hash,
    dialect: storedDialect(s.wire_dialect),
    newKeysOnly: s.new_keys_only,
    checkInApply: false,
    rowCount: planned,
    rows: stagedRows(s.push_id),
    segments: (s.segments ?? []).map(([start, end, tableId, op, columns]) => ({
      rows: stagedRows(s.push_id, { from: start, to: end }),
      table_id: tableId,
      op_code: op,
      columns,
    })),
    sessionsDone: { sql: (n) => `SELECT $${n}::uuid`, params: [s.push_id] },
  });
}

function stagedTwiceError(): SyncServerError {
  return new SyncServerError('push_commit_invalid', 'push session stages more than one row for the same table and key');
}

/**
 * A bundle as its commit applies it: a staged session's (read by {@link lockSession}) or the rows
 * of a one-request push, as they came.
 */
interface StagedBundle {
  sourceBundleId: number;
  initializationId: string | null;
  canonicalRequestHash: string | null;
  dialect: WireDialect;
  /** Every row inserts a key with base 0 (see the deferred conflict check below). */
  newKeysOnly: boolean;
  /** Rows in hand and few ({@link SMALL_BUNDLE_ROWS}): the first apply statement checks conflicts. */
  checkInApply: boolean;
  rowCount: number;
  /** All the bundle's rows (the conflict check reads them). */
  rows: PushRowSource;
  /** The rows by segment, in ordinal order (one statement each). */
  segments: Array<{ rows: PushRowSource; table_id: number; op_code: number; columns: string[] }>;
  /** Selects the push sessions the commit deletes (push_id), parameters numbered from `first`. */
  sessionsDone: { sql: (first: number) => string; params: readonly unknown[] };
}

/**
 * Bundles of up to this many rows save round trips where the statements' cost does not grow with
 * the rows: their deferred foreign keys are checked by COMMIT (a larger bundle checks them while
 * Node hashes it, which hides that round trip); a one-request push of so many checks its
 * conflicts in its first apply statement and finalizes in one statement (a larger bundle of only
 * new keys leaves its conflict check to a failure, and finalizes its plain inserts faster).
 */
const SMALL_BUNDLE_ROWS = 256;

/**
 * A commit's work once its checks passed, with the bundle context set: the conflict check, the
 * apply, the finalize, the source's new watermark and the session's deletion.
 */
async function applyStagedBundle(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  scope: UserScope,
  b: StagedBundle,
): Promise<CommittedBundleMeta> {
  // The first conflict in ordinal order, as an error (null: none).
  const firstConflict = async (): Promise<SyncServerError | null> => {
    const c = await findFirstConflict(tx, b.rows, scope.userPk);
    return c ? conflictError(tx, ctx, userId, c, b.dialect) : null;
  };
  // A bundle that only inserts keys with base 0 (a bulk upload) conflicts exactly when one of
  // its keys has a row version: a live one makes the business INSERT fail on the (scope, key)
  // unique index, a tombstone makes finalize's plain row-version INSERT fail (or finalize
  // calls beforeRowStateUpsert). Both, and any other failure of the apply, are caught below
  // and answered by the full check, against row versions and business rows as they were, so
  // the check's 10,000 index probes are only paid when something fails. Any other bundle is
  // checked up front.
  // A small bundle of rows in hand is checked by its first apply statement (nothing is applied
  // when a row conflicts), whatever it holds.
  const deferCheck = b.newKeysOnly && !b.checkInApply;
  if (b.checkInApply) {
    for (const [i, seg] of b.segments.entries()) {
      const c = await applyRows(tx, ctx, userId, seg.rows, seg, i === 0 ? { rows: b.rows, userPk: scope.userPk } : undefined);
      if (c) throw await conflictError(tx, ctx, userId, c, b.dialect);
    }
  } else {
    if (!deferCheck) {
      const conflict = await firstConflict();
      if (conflict) throw conflict;
    }
    // The savepoint was set before the apply: after rolling back to it, the conflict check reads
    // the row versions and business rows as they were before the apply.
    try {
      for (const seg of b.segments) await applyRows(tx, ctx, userId, seg.rows, seg);
    } catch (err) {
      // Any database rejection (not only the unique violation a live key causes): a conflict
      // anywhere in the bundle is what the up-front check would have reported instead.
      if (!deferCheck || !pgErrorCode(err)) throw err;
      await tx.query(`ROLLBACK TO SAVEPOINT ${APPLY_SAVEPOINT}`);
      throw (await firstConflict()) ?? err;
    }
  }

  const meta = await finalizeCapturedBundle(
    tx,
    ctx.catalog,
    {
      userId,
      userPk: scope.userPk,
      sourceId,
      sourceBundleId: b.sourceBundleId,
      canonicalRequestHash: b.canonicalRequestHash,
      dialect: b.dialect,
    },
    ctx.retention,
    {
      // Checked in the apply: the stage needs no shape read before its one statement.
      conflictsChecked: b.checkInApply,
      beforeRowStateUpsert: deferCheck
        ? async () => {
            const conflict = await firstConflict();
            if (conflict) throw conflict;
          }
        : undefined,
      // The deferred foreign-key checks, due at COMMIT, run now, while Node hashes the bundle
      // (nothing after this writes business tables, so they check the same rows and fail alike).
      whileHashing: b.rowCount > SMALL_BUNDLE_ROWS ? () => tx.query('SET CONSTRAINTS ALL IMMEDIATE') : undefined,
      // The source's new watermark and the session's deletion, in the statement logging the bundle.
      alsoWhenLogged: {
        sql: (first) => `recorded AS (${recordSourceCommitSql(first)}), ${deleteSessionsCtes(b.sessionsDone.sql(first + 4))}`,
        params: [scope.userPk, sourceId, b.sourceBundleId, b.dialect, ...b.sessionsDone.params],
      },
    },
  );
  if (!meta) throw new SyncServerError('push_commit_invalid', 'the pushed rows produced no effective change');
  if (b.initializationId) await markInitialized(tx, scope.userPk, sourceId);
  return meta;
}

/**
 * The one-request push (see one-request-push.ts) in the caller's user transaction, begun with
 * deferred constraints and {@link APPLY_SAVEPOINT} set: what the create, the chunk and the commit
 * each check, in fewer round trips. The create's read also locks the source, sets the bundle
 * context and counts the user's open sessions for the quota; the commit's checks of the rows are
 * made on the rows in hand, and the rows are checked for conflicts and applied as they came (one
 * JSON parameter per statement), never staged: nothing but this transaction could read them.
 * A session the client left open under the same (source, source_bundle_id) is deleted with the
 * commit, as a create replacing it would have.
 */
export async function pushWholeBundleIn(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  create: PushCreateInput,
  chunk: PushChunkInput,
): Promise<CommittedBundleMeta | PushSessionAlreadyCommittedResponse> {
  await sweepExpiredSessions(tx, ctx);
  const counted = pushSessionsCounted(ctx.limits);
  const reads = await readForCreate(tx, userId, sourceId, create.sourceBundleId, create.plannedRowCount, counted);
  const admitted = await admitCreate(tx, ctx, sourceId, create, reads);
  if (admitted.status === 'already_committed') return admitted;
  const { scope } = admitted;
  const rows = chunk.rows;
  const dialect = pushSessionDialect(ctx.wireDialect, create.canonicalRequestHash);
  // In the order the three requests check: the create's quota, the chunk's numbers, the commit's keys.
  checkPushSessionQuota(ctx.limits, create.plannedRowCount, reads.openSessions);
  if (chunk.jsonNumberError && storedDialect(dialect) === STRINGS_DIALECT) throw chunk.jsonNumberError;
  const keys = new Set<string>();
  let newKeysOnly = true;
  for (const r of rows) {
    const key = `${r.table.tableId}\u0000${r.keyText}`;
    if (keys.has(key)) throw stagedTwiceError();
    keys.add(key);
    if (r.op !== OpCode.INSERT || r.baseRowVersion !== 0) newKeysOnly = false;
  }
  const segments = rowSegments(0, rows);
  const all = jsonRows(stagedRowsJson(rows));
  // The scope and the source's sequence were checked by the create in this transaction.
  return applyStagedBundle(tx, ctx, userId, sourceId, scope, {
    sourceBundleId: create.sourceBundleId,
    initializationId: create.initializationId,
    canonicalRequestHash: create.canonicalRequestHash,
    dialect: storedDialect(dialect),
    newKeysOnly,
    checkInApply: rows.length <= SMALL_BUNDLE_ROWS,
    rowCount: rows.length,
    rows: all,
    segments: segments.map((g) => ({
      // Each statement parses its own rows only, numbered from 0 (the ordinal orders them within
      // the statement; an offset in its text would make each segment's a statement of its own).
      rows: segments.length === 1 ? all : jsonRows(stagedRowsJson(rows.slice(g.start, g.end + 1))),
      table_id: g.tableId,
      op_code: g.op,
      columns: g.columns,
    })),
    sessionsDone: {
      sql: (n) => `SELECT push_id FROM sync.push_sessions WHERE user_pk = $${n} AND source_id = $${n + 1} AND source_bundle_id = $${n + 2}`,
      params: [scope.userPk, sourceId, create.sourceBundleId],
    },
  });
}

/** `DELETE /sync/push-sessions/{push_id}`. */
export function deletePushSession(ctx: RuntimeContext, userId: string, sourceId: string, pushId: string): Promise<void> {
  return inUserTransaction(ctx.db, userId, async (tx) => {
    const s = await lockSession(tx, pushId, userId, sourceId);
    await tx.query(deleteSessionsSql('SELECT $1::uuid'), [s.push_id]);
  });
}
