/**
 * Frozen, chunked snapshot sessions: a materialized copy of a user's live rows at one
 * `snapshot_bundle_seq`, read in chunks bounded by rows and bytes, with a TTL, optional source
 * replacement (rotation) in the same transaction, and per-process build/read capacity limits.
 */
import { randomUUID } from 'node:crypto';
import { isCanonicalUuid } from '../../protocol/values.ts';
import type {
  JsonValue,
  SnapshotChunkResponse,
  SnapshotRow,
  SnapshotSessionResponse,
  SourceReplacementReason,
} from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, compactWirePayloadSql, keyTextSql, quoteLiteral, wirePayloadTextSql, wireValueSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { CapacityGate } from './capacity.ts';
import type { RuntimeContext } from './context.ts';
import { ensureUserScope, requireInitialized } from './scope-state.ts';
import { readSourceState } from './source-state.ts';
import { SerializedJson } from './serialized-json.ts';
import { SyncServerError, pgErrorCode, retryLaterError } from './sync-error.ts';
import { checkSnapshotSessionQuota } from './user-quotas.ts';
import { inUserTransaction } from './transactions.ts';
import { finishPayload, wireKey } from './wire-rows.ts';
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

/**
 * The table holding one session's rows: a table per session, so the build writes it
 * in bulk (CREATE TABLE AS), indexes it once at the end, and deletion is a DROP instead of
 * deleting a million rows. `id` is a validated canonical uuid.
 */
function sessionRowsTable(id: string): string {
  return `sync.${quoteIdent(`snapshot_rows_${id.replace(/-/g, '')}`)}`;
}

/**
 * Storage options of a session table: written once, read, dropped; autovacuum would otherwise
 * rescan each freshly built table (a million inserts pass its insert threshold) while it is read.
 */
const SESSION_TABLE_OPTIONS = 'WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)';

/** Name pattern of the session row tables (LIKE), to find tables left without a session. */
const SESSION_ROWS_TABLE_LIKE = 'snapshot\\_rows\\_%';

/**
 * Session tables dropped by one sweep at most: each DROP holds a few locks until the commit, and
 * thousands of them (sessions piled up while nobody built one) could exhaust the shared lock
 * table; every build sweeps, so a backlog drains over the next builds.
 */
const SWEEP_BATCH = 16;

/**
 * Deletes the sessions that expired, and row tables without a session (a crash empties the
 * UNLOGGED header table but leaves the tables, emptied).
 * Runs at the end of each build. The session being built has its header, so it is no orphan.
 */
async function sweepSnapshots(tx: SqlSession): Promise<void> {
  const gone = await tx.query<{ snapshot_id: string }>(
    `DELETE FROM sync.snapshot_sessions WHERE snapshot_id IN (
       SELECT snapshot_id FROM sync.snapshot_sessions WHERE expires_at < now() ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)
     RETURNING snapshot_id::text AS snapshot_id`,
  );
  const orphans = await tx.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'sync'::regnamespace AND c.relkind = 'r' AND c.relname LIKE '${SESSION_ROWS_TABLE_LIKE}'
        AND NOT EXISTS (SELECT 1 FROM sync.snapshot_sessions s WHERE replace(s.snapshot_id::text, '-', '') = substr(c.relname, 15))
      ORDER BY c.relname LIMIT ${SWEEP_BATCH}`,
  );
  // In name order, so two concurrent sweeps meeting the same orphans wait rather than deadlock.
  const tables = [
    ...new Set([...gone.rows.map((r) => sessionRowsTable(r.snapshot_id)), ...orphans.rows.map((r) => `sync.${quoteIdent(r.relname)}`)]),
  ].sort();
  for (const t of tables) await tx.query(`DROP TABLE IF EXISTS ${t}`);
}

/**
 * Canonical byte size of a snapshot row as it travels (the unit of `byte_count` and `max_bytes`).
 * Canonical JSON differs from `JSON.stringify` only in the order of object members (values are
 * written alike, see `protocol/canonical-json.ts`), so the plain serialization has the same length.
 */
export function snapshotRowBytes(row: SnapshotRow): number {
  return Buffer.byteLength(JSON.stringify(row), 'utf8');
}

interface StoredSnapshotRow {
  row_ordinal: string;
  table_id: number;
  key_text: string;
  bundle_seq: string;
  payload: Record<string, JsonValue>;
}

function toSnapshotRow(catalog: Catalog, r: StoredSnapshotRow): SnapshotRow {
  const table = catalog.byId.get(r.table_id)!;
  return {
    schema: table.schema,
    table: table.table,
    key: wireKey(table, r.key_text),
    row_version: Number(r.bundle_seq),
    payload: finishPayload(table, r.payload),
  };
}

/** Base types whose `to_json` rendering is a JSON string (text-family columns may be enums, composites, ...). */
const SQL_SIZED_TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);

/**
 * The start of a table's snapshot row text when SQL can render its rows exactly, or null. A row
 * travels as `{"schema":S,"table":T,"key":{K:key},"row_version":N,"payload":P}` (JSON.stringify,
 * whose length is the canonical length, see snapshotRowBytes). P is compact `row_to_json` text
 * (wirePayloadTextSql builds the same text); when every value in it is a JSON scalar that PostgreSQL renders as
 * JavaScript would (no json columns, whose text keeps its whitespace; floats, which Node
 * re-renders, only when not in exponent form, -0, NaN or infinite: oddFloatsSql), that text is
 * exactly JSON.stringify of the parsed payload: PostgreSQL escapes strings as JSON.stringify does
 * (UTF-8 databases only). Such a row's text is `prefix + to_json(key) + "},\"row_version\":" + N +
 * ",\"payload\":" + P + "}"`, built so by materializeSelectSql.
 */
function sqlRowPrefix(table: CatalogTable): string | null {
  if (!prefixes.has(table)) prefixes.set(table, computeRowPrefix(table));
  return prefixes.get(table)!;
}

const prefixes = new WeakMap<CatalogTable, string | null>();

function computeRowPrefix(table: CatalogTable): string | null {
  if (table.columns.length === 0) return null;
  for (const c of table.columns) {
    if (c.family === 'json') return null;
    if (c.family === 'text' && !SQL_SIZED_TEXT_TYPES.has(c.baseType)) return null;
  }
  return `{"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)},"key":{${JSON.stringify(table.keyColumn)}:`;
}

/** SQL boolean over business row `n`: a float value PostgreSQL renders unlike Node (see sqlRowPrefix). */
function oddFloatsSql(table: CatalogTable): string {
  const odd = table.floatColumns.map((name) => {
    const v = wireValueSql(table.columnsByName.get(name)!, 'n');
    return `coalesce(${v} ~ '[eEnN]' OR ${v} = '-0', false)`;
  });
  return odd.length > 0 ? odd.join(' OR ') : 'false';
}

/**
 * The SELECT of a table's live rows for a user in snapshot order (key bytes) as session rows:
 * `row_ordinal` from $2 + 1, `row_text` the row's final wire text built once here (see
 * sqlRowPrefix), so chunk reads only concatenate stored text. Rows whose text SQL cannot produce
 * exactly get a NULL text and keep their parts (table_id, key_text, bundle_seq, payload) for Node
 * to render.
 *
 * The text is built in the inner SELECT, whose ORDER BY keeps it a separate query level: there
 * the text is computed where the rows are joined, before the sort, so parallel workers build
 * and sort their share, and the leader only merges, numbers and writes. (Flattened into the
 * window's level, PostgreSQL computes such expressions above the window, in the leader alone:
 * building the texts was most of the time of a 1M-row build.)
 */
function materializeSelectSql(table: CatalogTable, prefix: string | null, range: KeyRangeParams = {}): string {
  const key = keyTextSql(table, 'n');
  // A key range bounds both sides: row_state through its primary key, the business rows as a
  // filter of their scan (so only the range's rows are hashed and sorted).
  let bounds = '';
  if (range.after) bounds += ` AND rs.key_text > ${range.after} AND ${key} COLLATE "C" > ${range.after}`;
  if (range.through) bounds += ` AND rs.key_text <= ${range.through} AND ${key} COLLATE "C" <= ${range.through}`;
  const rows = `FROM ${table.sqlName} n
              JOIN sync.row_state rs ON rs.user_pk = $4 AND rs.table_id = $3 AND rs.key_text = ${key} AND NOT rs.deleted${bounds}
             WHERE n.${quoteIdent(SCOPE_COLUMN)} = $5`;
  const numbered = (parts: string) => `SELECT $2::bigint + row_number() OVER (ORDER BY s.k) AS row_ordinal, s.row_text,
           s.table_id, s.key_text, s.bundle_seq, s.payload
      FROM (SELECT ${key} COLLATE "C" AS k, ${parts} ${rows} ORDER BY 1) s`;
  if (!prefix) {
    return numbered(`NULL::text AS row_text, $3::integer AS table_id, ${key} COLLATE "C" AS key_text, rs.bundle_seq,
           ${compactWirePayloadSql(table, 'n')} AS payload`);
  }
  const payload = wirePayloadTextSql(table, 'n');
  const odd = oddFloatsSql(table);
  const text = `concat(${quoteLiteral(prefix)}, to_json(${key})::text, '},"row_version":', rs.bundle_seq::text, ',"payload":', ${payload}, '}')`;
  return numbered(`CASE WHEN ${odd} THEN NULL ELSE ${text} END AS row_text, CASE WHEN ${odd} THEN $3::integer END AS table_id,
           CASE WHEN ${odd} THEN ${key} END COLLATE "C" AS key_text, CASE WHEN ${odd} THEN rs.bundle_seq END AS bundle_seq,
           CASE WHEN ${odd} THEN (${payload})::json END AS payload`);
}

/** Parameters (`$n`, text) bounding a build's rows by key (bytes, "C"): after (exclusive) and through (inclusive). */
interface KeyRangeParams {
  after?: string;
  through?: string;
}

/**
 * Sort memory of a build, per live row of the table being written: the rows are sorted by key
 * with their texts, split among the parallel workers (two by default) and the leader, so this
 * keeps rows of up to ~600 bytes of text in memory. A sort spilled to disk costs the leader
 * most: it then merges the workers' runs from temporary files (1M rows of ~300 B: the merge took
 * 3.8 s from disk, 1.1 s from memory, under load). Between 4 MB (PostgreSQL's default) and
 * BUILD_SORT_MAX_KB; larger sorts spill.
 */
const BUILD_SORT_BYTES_PER_ROW = 256;

/** The most work_mem a build sets, in kB (256 MB; per sorting process, see docs/server.md). */
const BUILD_SORT_MAX_KB = 256 * 1024;

/**
 * Live rows of a table from which its build always gets a parallel plan (parallel setup and
 * tuple costs 0 for its statements). Right after the rows were pushed (the pull benchmark's 1M
 * hydrate) the tables have no statistics yet: the planner estimates a few hundred rows, judges
 * workers not worth their setup, and one process joins, builds every text and sorts every row
 * (1M rows: a 316 MB sort on disk; the build 9.3 → 6.0 s with the workers, session 16 in
 * BENCHMARKS.md). Below this many rows the session's own costs decide: a small user's build on
 * large shared tables would otherwise start workers for a few milliseconds of work.
 */
const BUILD_PARALLEL_MIN_ROWS = 10_000;

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

/**
 * Settings of every build transaction. The materializing joins pair every live row of the user
 * with its row_state, so a hash or merge join is always right; on freshly written tables (no
 * statistics yet) the planner estimates one row and picks a nested loop that rescans the business
 * table per row_state row: 20,000 rows took 100+ s that way, 25 ms hashed (found by the pull
 * benchmark). JIT compilation costs more than it saves on these one-pass statements (parallel
 * plans: see BUILD_PARALLEL_MIN_ROWS). Row texts over ~2 kB are compressed into TOAST: lz4 where
 * the server has it, since pglz costs ~13 ns a byte (50,000 rows of 6.7 kB: 4.3 s with pglz,
 * 0.95 s with lz4; compressible text 0.94 / 0.15 s).
 */
const BUILD_SETTINGS_SQL = `SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true),
   (SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))`;

/** Columns of a session table (as CREATE TABLE AS gives them from materializeSelectSql). */
const SESSION_COLUMNS = 'row_ordinal bigint, row_text text, table_id integer, key_text text COLLATE "C", bundle_seq bigint, payload json';

/**
 * Advisory lock class (the two-int4 key space, apart from the users' bigint locks) held, with the
 * hash of the session id, by a build still running after its create was answered: a chunk read
 * that finds the lock free and the rows not built knows the build died with its process.
 */
const BUILD_LOCK_CLASS = 1_870_033_774;

/**
 * Sort memory of a piece, per row: one process sorts the whole piece with its texts (an INSERT
 * gets no parallel workers), ~380 B a row for the bench's ~300 B texts; spilled to disk, a
 * 200,000-row piece took 1.57 s, in memory 1.03–1.29 s.
 */
const PIECE_SORT_BYTES_PER_ROW = 512;

/**
 * Connections building pieces at once after the answer (besides the holder's): one process per
 * piece (an INSERT gets no parallel workers), so two keep up with a client on two cores where
 * one fell behind under load (BENCHMARKS.md, session 17).
 */
const BUILD_CONNECTIONS = 2;

/** Each background piece is twice the previous one, at most this many times the first. */
const MAX_PIECE_FACTOR = 4;

/** Live rows of each registered table of the user, in catalog order, with the ordinal its rows start after. */
interface LiveTable {
  table: CatalogTable;
  live: number;
  offset: number;
}

async function countLiveRows(ctx: RuntimeContext, tx: SqlSession, userPk: string): Promise<LiveTable[]> {
  const r = await tx.query<{ table_id: number; n: string }>(
    'SELECT table_id, count(*)::text AS n FROM sync.row_state WHERE user_pk = $1 AND NOT deleted GROUP BY table_id',
    [userPk],
  );
  const counts = new Map(r.rows.map((x) => [x.table_id, Number(x.n)]));
  let offset = 0;
  return ctx.catalog.tables.map((table) => {
    const live = counts.get(table.tableId) ?? 0;
    const t = { table, live, offset };
    offset += live;
    return t;
  });
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
      ctx.snapshotBuilds.track(build.run(release));
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

/** What a build needs to know about its session. */
interface BuildTarget {
  snapshotId: string;
  rowsTable: string;
  userPk: string;
  userId: string;
  utf8: boolean;
}

/** The whole session in the create's transaction (CREATE TABLE AS, parallel plans), sized and checked. */
async function buildInOneTransaction(
  ctx: RuntimeContext,
  tx: SqlSession,
  { snapshotId, rowsTable, userPk, userId, utf8 }: BuildTarget,
): Promise<{ rowCount: number; byteCount: number }> {
  // The first table creates the session table (CREATE TABLE AS writes in bulk), the others append.
  const tables = ctx.catalog.tables;
  if (tables.length === 0) await tx.query(`CREATE UNLOGGED TABLE ${rowsTable} (${SESSION_COLUMNS}) ${SESSION_TABLE_OPTIONS}`);
  // Each table's ordinals follow the previous tables' live row counts; the total is checked
  // against the rows written below (the driver's row count of CREATE TABLE AS is not portable).
  let rowCount = 0;
  for (const [i, table] of tables.entries()) {
    // work_mem for this table's sort, from its live rows (see BUILD_SORT_BYTES_PER_ROW), and
    // parallel plans for a large table (BUILD_PARALLEL_MIN_ROWS; else the session's own costs).
    const live = await tx.query<{ n: string }>(
      `SELECT n::text AS n, set_config('work_mem', least(greatest(n * $3 / 1024, 4096), $4)::text || 'kB', true),
              set_config('parallel_setup_cost', CASE WHEN n >= $5 THEN '0' ELSE p.setup END, true),
              set_config('parallel_tuple_cost', CASE WHEN n >= $5 THEN '0' ELSE p.tuple END, true)
         FROM (SELECT count(*) AS n FROM sync.row_state WHERE user_pk = $1 AND table_id = $2 AND NOT deleted) c,
              (SELECT max(reset_val) FILTER (WHERE name = 'parallel_setup_cost') AS setup,
                      max(reset_val) FILTER (WHERE name = 'parallel_tuple_cost') AS tuple
                 FROM pg_settings WHERE name IN ('parallel_setup_cost', 'parallel_tuple_cost')) p`,
      [userPk, table.tableId, BUILD_SORT_BYTES_PER_ROW, BUILD_SORT_MAX_KB, BUILD_PARALLEL_MIN_ROWS],
    );
    const select = materializeSelectSql(table, utf8 ? sqlRowPrefix(table) : null);
    // $1 is not needed by the SELECT; bound anyway so the statements take the same parameters.
    const rows = `SELECT * FROM (${select}) s WHERE $1::uuid IS NOT NULL`;
    await tx.query(
      i === 0 ? `CREATE UNLOGGED TABLE ${rowsTable} ${SESSION_TABLE_OPTIONS} AS ${rows}` : `INSERT INTO ${rowsTable} ${rows}`,
      [snapshotId, rowCount, table.tableId, userPk, userId],
    );
    rowCount += Number(live.rows[0]!.n);
  }
  // Indexed once, after the rows are in (a sorted build instead of a million index inserts).
  await tx.query(`ALTER TABLE ${rowsTable} ADD PRIMARY KEY (row_ordinal)`);
  const sized = await tx.query<{ n: string; plain: string; bytes: string; max: string }>(
    `SELECT count(*)::text AS n, count(row_text)::text AS plain, coalesce(sum(octet_length(row_text)), 0)::text AS bytes,
            coalesce(max(octet_length(row_text)), 0)::text AS max FROM ${rowsTable}`,
  );
  const s0 = sized.rows[0]!;
  if (Number(s0.n) !== rowCount) {
    throw new Error(`snapshot has ${s0.n} live rows but ${rowCount} live row versions; refusing an inconsistent snapshot`);
  }
  checkRowBytes(ctx, Number(s0.max));
  let byteCount = Number(s0.bytes);
  const maxRows = ctx.limits.maxRowsPerSnapshotSession;
  if (maxRows > 0 && rowCount > maxRows) throw new Error(`snapshot has ${rowCount} rows, above max_rows_per_snapshot_session ${maxRows}`);
  if (Number(s0.plain) < rowCount) byteCount += await renderRowsInNode(ctx, tx, rowsTable);
  const maxBytes = ctx.limits.maxBytesPerSnapshotSession;
  if (maxBytes > 0 && byteCount > maxBytes)
    throw new Error(`snapshot has ${byteCount} bytes, above max_bytes_per_snapshot_session ${maxBytes}`);
  await tx.query('UPDATE sync.snapshot_sessions SET row_count = $2, byte_count = $3 WHERE snapshot_id = $1::uuid', [
    snapshotId,
    rowCount,
    byteCount,
  ]);
  return { rowCount, byteCount };
}

function checkRowBytes(ctx: RuntimeContext, max: number): void {
  if (max > ctx.limits.maxBytesPerSnapshotRow) {
    throw new SyncServerError(
      'snapshot_session_create_failed',
      `snapshot has a ${max}-byte row, above max_bytes_per_snapshot_row ${ctx.limits.maxBytesPerSnapshotRow} (written by the server, or the limit was lowered after the row was committed)`,
    );
  }
}

/** One piece: the key range (after, through] of a table, its first ordinal (exclusive) and its row count. */
interface PieceSpec {
  index: number;
  table: LiveTable;
  after: string | null;
  through: string | null;
  first: number;
  rows: number;
}

/**
 * Where a piecewise build is: the table it is in, the last key claimed there, and the rows
 * claimed (so the next piece's first ordinal is `claimed + 1`). Pieces are claimed one at a time
 * (their bounds follow each other) and may then be built at once on several connections.
 */
class PieceCursor {
  #index = 0;
  #afterKey: string | null = null;
  #doneInTable = 0;
  #pieces = 0;
  #claiming: Promise<unknown> = Promise.resolve();

  /** The index the next claimed piece gets. */
  get nextIndex(): number {
    return this.#pieces;
  }
  claimed = 0;
  bytes = 0;

  constructor(private readonly tables: readonly LiveTable[]) {
    this.#skipEmpty();
  }

  get done(): boolean {
    return this.#index >= this.tables.length;
  }

  #skipEmpty(): void {
    while (this.#index < this.tables.length && this.#doneInTable >= this.tables[this.#index]!.live) {
      this.#index++;
      this.#afterKey = null;
      this.#doneInTable = 0;
    }
  }

  /**
   * Claims the next at most `limit` rows of the current table, reading the session's snapshot in
   * `tx`: the key range after the last one claimed through the `limit`-th live key after it in
   * row_state's key order, so the range holds exactly that many live rows and its ordinals follow
   * on. Null when every row is claimed. Claims run one after another.
   */
  claim(tx: SqlSession, userPk: string, limit: number, lockTable?: string): Promise<PieceSpec | null> {
    const claimed = this.#claiming.then(() => this.#claim(tx, userPk, limit, lockTable));
    this.#claiming = claimed.catch(() => undefined);
    return claimed;
  }

  async #claim(tx: SqlSession, userPk: string, limit: number, lockTable: string | undefined): Promise<PieceSpec | null> {
    if (this.done) return null;
    // Pieces built at once take the session table's lock in their order: a DROP (DELETE, sweep)
    // queued between them then waits only for earlier pieces, never for one that waits to commit
    // after a piece queued behind the DROP.
    if (lockTable) await tx.query(`LOCK TABLE ${lockTable} IN ROW EXCLUSIVE MODE`);
    const t = this.tables[this.#index]!;
    const remaining = t.live - this.#doneInTable;
    let through: string | null = null;
    let rows = remaining;
    if (remaining > limit) {
      const after = this.#afterKey === null ? '' : ' AND key_text > $4';
      const boundary = await tx.query<{ k: string }>(
        `SELECT key_text AS k FROM sync.row_state WHERE user_pk = $1 AND table_id = $2 AND NOT deleted${after} ORDER BY key_text OFFSET $3 LIMIT 1`,
        this.#afterKey === null ? [userPk, t.table.tableId, limit - 1] : [userPk, t.table.tableId, limit - 1, this.#afterKey],
      );
      through = boundary.rows[0]?.k ?? null;
      if (through === null) throw new Error(`snapshot piece of ${t.table.qualifiedName}: fewer live row versions than counted`);
      rows = limit;
    }
    const spec: PieceSpec = { index: this.#pieces++, table: t, after: this.#afterKey, through, first: t.offset + this.#doneInTable, rows };
    this.claimed += rows;
    this.#doneInTable += rows;
    this.#afterKey = through;
    this.#skipEmpty();
    return spec;
  }
}

/**
 * Writes piece `spec` into the session table in `tx` (which reads the session's snapshot), checks
 * its row count, sizes its rows and renders those SQL left to Node; returns its bytes.
 */
async function buildPiece(ctx: RuntimeContext, tx: SqlSession, target: BuildTarget, spec: PieceSpec): Promise<number> {
  const t = spec.table;
  const params: unknown[] = [target.snapshotId, spec.first, t.table.tableId, target.userPk, target.userId];
  const range: KeyRangeParams = {};
  if (spec.after !== null) range.after = `$${params.push(spec.after)}::text`;
  if (spec.through !== null) range.through = `$${params.push(spec.through)}::text`;
  await tx.query(`SELECT set_config('work_mem', $1::text || 'kB', true)`, [
    Math.min(Math.max(Math.ceil((spec.rows * PIECE_SORT_BYTES_PER_ROW) / 1024), 4096), BUILD_SORT_MAX_KB),
  ]);
  const select = materializeSelectSql(t.table, target.utf8 ? sqlRowPrefix(t.table) : null, range);
  const written = await tx.query(`INSERT INTO ${target.rowsTable} SELECT * FROM (${select}) s WHERE $1::uuid IS NOT NULL`, params);
  if (written.rowCount !== spec.rows) {
    throw new Error(
      `snapshot piece of ${t.table.qualifiedName} has ${written.rowCount} live rows but ${spec.rows} live row versions; refusing an inconsistent snapshot`,
    );
  }
  const sized = await tx.query<{ plain: string; bytes: string; max: string }>(
    `SELECT count(row_text)::text AS plain, coalesce(sum(octet_length(row_text)), 0)::text AS bytes,
            coalesce(max(octet_length(row_text)), 0)::text AS max FROM ${target.rowsTable} WHERE row_ordinal > $1 AND row_ordinal <= $2`,
    [spec.first, spec.first + spec.rows],
  );
  const s0 = sized.rows[0]!;
  checkRowBytes(ctx, Number(s0.max));
  let bytes = Number(s0.bytes);
  if (Number(s0.plain) < spec.rows) bytes += await renderRowsInNode(ctx, tx, target.rowsTable, spec.first);
  return bytes;
}

/**
 * Lets pieces built at once commit in their order, so the session's highest committed ordinal
 * always ends a prefix of built rows (what chunk reads rely on). After a failure no later piece
 * commits.
 */
class CommitOrder {
  constructor(next: number) {
    this.#next = next;
  }

  #next: number;
  #waiting = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  #failure: { err: unknown } | null = null;

  /** Resolves when piece `index` may commit (every earlier piece has). */
  turn(index: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.err);
    if (index === this.#next) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.set(index, { resolve, reject }));
  }

  committed(index: number): void {
    this.#next = index + 1;
    const w = this.#waiting.get(this.#next);
    this.#waiting.delete(this.#next);
    w?.resolve();
  }

  fail(err: unknown): void {
    if (!this.#failure) this.#failure = { err };
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}

/**
 * Starts a build answered before its end, in the create's transaction (which holds the user's
 * lock, so the user's rows do not move while it runs): creates the session table with its
 * primary key, exports the transaction's snapshot and has a holder transaction on another
 * connection import it (and take the build's lock) before this one commits, then builds the
 * first `snapshotBuildPieceRows` rows here. The rest is built by `BackgroundBuild.run` in pieces
 * that each import the holder's snapshot, so every piece reads the same rows as this
 * transaction did, consistent with the session's `snapshot_bundle_seq`.
 */
async function startPiecewiseBuild(
  ctx: RuntimeContext,
  tx: SqlSession,
  target: BuildTarget & { tables: LiveTable[]; rowCount: number },
): Promise<BackgroundBuild> {
  await tx.query(`CREATE UNLOGGED TABLE ${target.rowsTable} (${SESSION_COLUMNS}, PRIMARY KEY (row_ordinal)) ${SESSION_TABLE_OPTIONS}`);
  const exported = (await tx.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
  const holder = await holdSnapshot(ctx, exported, target.snapshotId);
  try {
    const cursor = new PieceCursor(target.tables);
    const first = ctx.limits.snapshotBuildPieceRows;
    for (let spec; cursor.claimed < first && (spec = await cursor.claim(tx, target.userPk, first - cursor.claimed));)
      cursor.bytes += await buildPiece(ctx, tx, target, spec);
    return new BackgroundBuild(ctx, target, holder, cursor);
  } catch (err) {
    await holder.close();
    throw err;
  }
}

/** A transaction on a connection of its own keeping a build's snapshot importable and its lock held. */
interface SnapshotHolder {
  /** The snapshot as exported by the holder (importable while it runs). */
  name: string;
  close(): Promise<void>;
}

/**
 * Opens the holder of snapshot `imported` (exported by a transaction still running) for session
 * `snapshotId`. A second pooled connection, taken while the create's is held: builds are few
 * (`maxConcurrentSnapshotBuilds`) and the pool's checkout times out, so this cannot wait forever.
 */
function holdSnapshot(ctx: RuntimeContext, imported: string, snapshotId: string): Promise<SnapshotHolder> {
  return new Promise<SnapshotHolder>((resolve, reject) => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    let opened = false;
    const held = ctx.db.withConnection(async (c) => {
      await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${quoteLiteral(imported)}`);
      try {
        const r = await c.query<{ s: string }>(
          `SELECT pg_export_snapshot() AS s, pg_advisory_xact_lock(${BUILD_LOCK_CLASS}, hashtext(${quoteLiteral(snapshotId)}))::text`,
        );
        opened = true;
        resolve({
          name: r.rows[0]!.s,
          close: async () => {
            finish();
            await held.catch(() => {});
          },
        });
        await finished;
      } finally {
        await c.query('ROLLBACK').catch(() => {});
      }
    });
    held.catch((err: unknown) => {
      if (!opened) reject(err);
    });
  });
}

/** Error text stored for a build that stopped for a reason not meant for clients (logged instead). */
const BUILD_FAILED_MESSAGE = 'the snapshot build failed after the session was created; create a new session';

/** The part of a piecewise build after the create was answered. */
class BackgroundBuild {
  constructor(
    private readonly ctx: RuntimeContext,
    private readonly target: BuildTarget & { rowCount: number },
    private readonly holder: SnapshotHolder,
    private readonly cursor: PieceCursor,
  ) {}

  /** Gives up before the create committed (its transaction rolls back the session). */
  abandon(): Promise<void> {
    return this.holder.close();
  }

  /**
   * Builds the remaining pieces, each in a transaction of its own that imports the holder's
   * snapshot and commits (waking this instance's chunk reads), then records `byte_count` and
   * sweeps. A failure is stored as the session's `build_error`, which chunk reads answer with;
   * a session deleted or swept meanwhile just ends the build. Never rejects. `release` frees the
   * build's capacity slot at the end.
   */
  async run(release: () => void): Promise<void> {
    const { ctx, target, cursor } = this;
    const id = target.snapshotId;
    let size = ctx.limits.snapshotBuildPieceRows;
    const largest = size * MAX_PIECE_FACTOR;
    const order = new CommitOrder(cursor.nextIndex);
    // Each builder claims the next piece, builds it, waits for the pieces before it to commit, commits.
    const builder = () =>
      ctx.db.withConnection(async (c) => {
        for (;;) {
          if (ctx.snapshotBuilds.stopping)
            throw new SyncServerError('snapshot_session_create_failed', 'the server is shutting down; create a new snapshot session');
          await c.query(
            `BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT ${quoteLiteral(this.holder.name)}; ` +
              `SELECT set_config('TimeZone', 'UTC', true); ${BUILD_SETTINGS_SQL}`,
          );
          try {
            size = Math.min(size * 2, largest);
            const spec = await cursor.claim(c, target.userPk, size, target.rowsTable);
            if (!spec) {
              await c.query('ROLLBACK');
              return;
            }
            const bytes = await buildPiece(ctx, c, target, spec);
            await order.turn(spec.index);
            await c.query('COMMIT');
            cursor.bytes += bytes;
            order.committed(spec.index);
          } catch (err) {
            order.fail(err);
            await c.query('ROLLBACK').catch(() => {});
            throw err;
          }
          ctx.snapshotBuilds.progressed(id);
        }
      });
    try {
      const results = await Promise.allSettled(Array.from({ length: BUILD_CONNECTIONS }, builder));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (cursor.claimed !== target.rowCount) throw new Error(`snapshot build wrote ${cursor.claimed} rows of ${target.rowCount}`);
      await ctx.db.query('UPDATE sync.snapshot_sessions SET byte_count = $2 WHERE snapshot_id = $1::uuid', [id, cursor.bytes]);
      await ctx.db.withConnection(async (c) => {
        await c.query('BEGIN');
        try {
          await sweepSnapshots(c);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    } catch (err) {
      await this.#fail(err);
    } finally {
      await this.holder.close();
      ctx.snapshotBuilds.progressed(id);
      release();
    }
  }

  async #fail(err: unknown): Promise<void> {
    const { ctx, target } = this;
    // The session was deleted (or swept) while a piece ran: nothing is left to build for.
    if (pgErrorCode(err) === '42P01') return;
    const message = err instanceof SyncServerError ? err.message : BUILD_FAILED_MESSAGE;
    try {
      const r = await ctx.db.query('UPDATE sync.snapshot_sessions SET build_error = $2 WHERE snapshot_id = $1::uuid', [
        target.snapshotId,
        message,
      ]);
      if (r.rowCount === 0) return;
    } catch (recordErr) {
      // Unrecorded, the chunk reads find the build's lock free and fail the same way.
      ctx.onInternalError(recordErr, 'snapshot build failure record');
    }
    if (!(err instanceof SyncServerError)) ctx.onInternalError(err, `snapshot build ${target.snapshotId}`);
  }
}

/**
 * Renders in Node the session rows after `fromOrdinal` SQL left without text, stores their text
 * (dropping the parts) and returns their bytes. Batches of `snapshotMaterializationBatchRows`, in ordinal order.
 */
async function renderRowsInNode(ctx: RuntimeContext, tx: SqlSession, rowsTable: string, fromOrdinal = 0): Promise<number> {
  let bytes = 0;
  for (let after = fromOrdinal; ;) {
    const r = await tx.query<StoredSnapshotRow>(
      `SELECT r.row_ordinal::text AS row_ordinal, r.table_id, r.key_text, r.bundle_seq::text AS bundle_seq, r.payload FROM ${rowsTable} r
        WHERE r.row_ordinal > $1 AND r.row_text IS NULL ORDER BY r.row_ordinal LIMIT $2`,
      [after, ctx.limits.snapshotMaterializationBatchRows],
    );
    if (r.rows.length === 0) return bytes;
    const ordinals: string[] = [];
    const texts: string[] = [];
    for (const stored of r.rows) {
      const text = JSON.stringify(toSnapshotRow(ctx.catalog, stored));
      const size = Buffer.byteLength(text, 'utf8');
      if (size > ctx.limits.maxBytesPerSnapshotRow) {
        throw new SyncServerError(
          'snapshot_session_create_failed',
          `snapshot row ${stored.row_ordinal} has ${size} bytes, above max_bytes_per_snapshot_row ${ctx.limits.maxBytesPerSnapshotRow} (written by the server, or the limit was lowered after the row was committed)`,
        );
      }
      bytes += size;
      ordinals.push(stored.row_ordinal);
      texts.push(text);
    }
    await tx.query(
      `UPDATE ${rowsTable} w SET row_text = u.t, table_id = NULL, key_text = NULL, bundle_seq = NULL, payload = NULL
         FROM unnest($1::bigint[], $2::text[]) AS u(o, t) WHERE w.row_ordinal = u.o`,
      [ordinals, texts],
    );
    after = Number(ordinals[ordinals.length - 1]);
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
 * `built`, the highest ordinal committed (pieces commit in ordinal order), must reach the
 * request's last possible row. When it does not, `builder_gone` says whether the build's lock is
 * free (its process is gone, or it just ended: the caller asks again once to tell them apart).
 */
function chunkSql(rowsTable: string): string {
  return `
SELECT h.snapshot_bundle_seq::text AS snapshot_bundle_seq, h.row_count::text AS row_count, h.expires_at <= now() AS expired, u.user_id,
       h.build_error, b.built >= least($2::bigint + $3::bigint, h.row_count) AS ready,
       CASE WHEN b.built < least($2::bigint + $3::bigint, h.row_count) AND h.build_error IS NULL
            THEN pg_try_advisory_xact_lock_shared(${BUILD_LOCK_CLASS}, hashtext(h.snapshot_id::text)) END AS builder_gone,
       c.n, c.bytes, c.body, c.pending
  FROM sync.snapshot_sessions h JOIN sync.user_state u ON u.user_pk = h.user_pk
  CROSS JOIN LATERAL (SELECT coalesce(max(row_ordinal), 0) AS built FROM ${rowsTable}) b
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n, coalesce(sum(sz), 0)::text AS bytes, string_agg(row_text, ',' ORDER BY row_ordinal) AS body,
           (count(*) - count(row_text))::int AS pending
      FROM (SELECT row_ordinal, row_text, sz, sum(sz) OVER (ORDER BY row_ordinal ROWS UNBOUNDED PRECEDING) AS cum
              FROM (SELECT r.row_ordinal, r.row_text, octet_length(r.row_text) AS sz FROM ${rowsTable} r
                     WHERE r.row_ordinal > $2 AND u.user_id = $5 AND h.expires_at > now() AND h.build_error IS NULL
                       AND b.built >= least($2::bigint + $3::bigint, h.row_count)
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
): Promise<SerializedJson<SnapshotChunkResponse>> {
  const id = snapshotId.toLowerCase();
  const deadline = Date.now() + CHUNK_WAIT_MAX_MS;
  let lockFreeOnce = false;
  for (;;) {
    // Listening before reading: a piece committed between the read and the wait still wakes it.
    const progress = ctx.snapshotBuilds.nextProgress(id);
    try {
      // The capacity slot is held for the read only, not while waiting for a build.
      const release = capacitySlot(ctx, gate, 'snapshot_chunk_capacity', 'snapshot chunk reads');
      let read: SerializedJson<SnapshotChunkResponse> | { builderGone: boolean };
      try {
        read = await readChunkStrings(ctx, userId, snapshotId, afterRowOrdinal, maxRows, maxBytes);
        if (read instanceof SerializedJson) {
          const dialect = await requesterDialectOfUser(ctx.db, ctx.wireDialect, userId, sourceId);
          return dialect === NUMBERS_DIALECT ? numbersSnapshotChunk(ctx.catalog, read) : read;
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

/**
 * A chunk for a go-json-numbers peer: the strings chunk with every row's numeric payload members
 * written as bare numbers (exact digits) and `byte_count` counting the rows as sent.
 */
function numbersSnapshotChunk(catalog: Catalog, chunk: SerializedJson<SnapshotChunkResponse>): SerializedJson<SnapshotChunkResponse> {
  const parsed = JSON.parse(chunk.text) as SnapshotChunkResponse;
  let bytes = 0;
  const rows = parsed.rows.map((row) => {
    const table = catalog.byName.get(`${row.schema}.${row.table}`)!;
    const text =
      `{"schema":${JSON.stringify(row.schema)},"table":${JSON.stringify(row.table)},"key":${JSON.stringify(row.key)},` +
      `"row_version":${row.row_version},"payload":${numbersPayloadText(table, row.payload)}}`;
    bytes += Buffer.byteLength(text, 'utf8');
    return text;
  });
  return new SerializedJson<SnapshotChunkResponse>(
    `{"snapshot_id":${JSON.stringify(parsed.snapshot_id)},"snapshot_bundle_seq":${parsed.snapshot_bundle_seq},"rows":[${rows.join(',')}],` +
      `"next_row_ordinal":${parsed.next_row_ordinal},"byte_count":${bytes},"has_more":${parsed.has_more}}`,
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
): Promise<SerializedJson<SnapshotChunkResponse> | { builderGone: boolean }> {
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
  // Byte for byte JSON.stringify of the SnapshotChunkResponse (each row text is JSON.stringify of the row).
  return new SerializedJson<SnapshotChunkResponse>(
    `{"snapshot_id":${JSON.stringify(id)},"snapshot_bundle_seq":${JSON.stringify(Number(c.snapshot_bundle_seq))},` +
      `"rows":[${c.body ?? ''}],"next_row_ordinal":${JSON.stringify(next)},"byte_count":${JSON.stringify(Number(c.bytes))},` +
      `"has_more":${JSON.stringify(next < Number(c.row_count))}}`,
  );
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
    await tx.query(`DROP TABLE IF EXISTS ${sessionRowsTable(id)}`);
  });
}
