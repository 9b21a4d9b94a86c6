/**
 * A snapshot session's rows as the server materializes them: one UNLOGGED table per session,
 * each row numbered in key order and, where SQL can render it exactly, holding its final wire
 * text (chunk reads only concatenate). `buildInOneTransaction` writes a whole session in the
 * create's transaction; the piecewise build (`snapshot-piecewise-build.ts`) writes the same rows
 * key range by key range with the same SELECT. Also the sweep of expired and orphaned sessions.
 */
import type { JsonValue, SnapshotRow } from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, compactWirePayloadSql, keyTextSql, quoteLiteral, wirePayloadTextSql, wireValueSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { SyncServerError } from './sync-error.ts';
import { finishPayload, wireKey } from './wire-rows.ts';

/**
 * The table holding one session's rows: a table per session, so the build writes it
 * in bulk (CREATE TABLE AS), indexes it once at the end, and deletion is a DROP instead of
 * deleting a million rows. `id` is a validated canonical uuid.
 */
export function sessionRowsTable(id: string): string {
  return `sync.${quoteIdent(`snapshot_rows_${id.replace(/-/g, '')}`)}`;
}

/**
 * Storage options of a session table: written once, read, dropped; autovacuum would otherwise
 * rescan each freshly built table (a million inserts pass its insert threshold) while it is read.
 */
export const SESSION_TABLE_OPTIONS = 'WITH (autovacuum_enabled = false, toast.autovacuum_enabled = false)';

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
export async function sweepSnapshots(tx: SqlSession): Promise<void> {
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
export function sqlRowPrefix(table: CatalogTable): string | null {
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
export function materializeSelectSql(table: CatalogTable, prefix: string | null, range: KeyRangeParams = {}): string {
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
export interface KeyRangeParams {
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
export const BUILD_SORT_MAX_KB = 256 * 1024;

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
export const BUILD_SETTINGS_SQL = `SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true),
   (SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))`;

/** Columns of a session table (as CREATE TABLE AS gives them from materializeSelectSql). */
export const SESSION_COLUMNS =
  'row_ordinal bigint, row_text text, table_id integer, key_text text COLLATE "C", bundle_seq bigint, payload json';

/** What a build needs to know about its session. */
export interface BuildTarget {
  snapshotId: string;
  rowsTable: string;
  userPk: string;
  userId: string;
  utf8: boolean;
}

/** The whole session in the create's transaction (CREATE TABLE AS, parallel plans), sized and checked. */
export async function buildInOneTransaction(
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
  const sized = await sizeSessionRows(tx, rowsTable);
  if (sized.rows !== rowCount) {
    throw new Error(`snapshot has ${sized.rows} live rows but ${rowCount} live row versions; refusing an inconsistent snapshot`);
  }
  checkRowBytes(ctx, sized.max);
  let byteCount = sized.bytes;
  const maxRows = ctx.limits.maxRowsPerSnapshotSession;
  if (maxRows > 0 && rowCount > maxRows) throw new Error(`snapshot has ${rowCount} rows, above max_rows_per_snapshot_session ${maxRows}`);
  if (sized.plain < rowCount) byteCount += await renderRowsInNode(ctx, tx, rowsTable);
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

/**
 * The rows of session table `rowsTable`, or of its ordinals (after, through]: how many, how many
 * have their text built by SQL (the others wait for {@link renderRowsInNode}), those texts' bytes
 * and the largest.
 */
export async function sizeSessionRows(
  tx: SqlSession,
  rowsTable: string,
  range?: { after: number; through: number },
): Promise<{ rows: number; plain: number; bytes: number; max: number }> {
  const r = await tx.query<{ n: string; plain: string; bytes: string; max: string }>(
    `SELECT count(*)::text AS n, count(row_text)::text AS plain, coalesce(sum(octet_length(row_text)), 0)::text AS bytes,
            coalesce(max(octet_length(row_text)), 0)::text AS max FROM ${rowsTable}${range ? ' WHERE row_ordinal > $1 AND row_ordinal <= $2' : ''}`,
    range ? [range.after, range.through] : [],
  );
  const s = r.rows[0]!;
  return { rows: Number(s.n), plain: Number(s.plain), bytes: Number(s.bytes), max: Number(s.max) };
}

export function checkRowBytes(ctx: RuntimeContext, max: number): void {
  if (max > ctx.limits.maxBytesPerSnapshotRow) {
    throw new SyncServerError(
      'snapshot_session_create_failed',
      `snapshot has a ${max}-byte row, above max_bytes_per_snapshot_row ${ctx.limits.maxBytesPerSnapshotRow} (written by the server, or the limit was lowered after the row was committed)`,
    );
  }
}

/**
 * Renders in Node the session rows after `fromOrdinal` SQL left without text, stores their text
 * (dropping the parts) and returns their bytes. Batches of `snapshotMaterializationBatchRows`, in ordinal order.
 */
export async function renderRowsInNode(ctx: RuntimeContext, tx: SqlSession, rowsTable: string, fromOrdinal = 0): Promise<number> {
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
