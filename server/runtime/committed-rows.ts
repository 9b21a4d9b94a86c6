/**
 * `GET /sync/committed-bundles/{bundle_seq}/rows` and `GET /sync/pull`: reads of retained history.
 */
import type { CommittedBundleRowsResponse, JsonValue, PullResponse } from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import { canonicalPrefix } from './canonical-payload.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { COUNT_HISTORY_PRUNED, SCOPE_COLUMNS, readPathScope, readUserScope, requireInitialized } from './scope-state.ts';
import type { ScopeRow } from './scope-state.ts';
import { SyncServerError } from './sync-error.ts';
import { inReadSnapshot } from './transactions.ts';
import { SerializedJson } from './serialized-json.ts';
import { finishPayload } from './wire-rows.ts';
import { hashStoredRows } from './bundle-hash.ts';
import { goJsonHashStoredRows, numbersBundleRowText } from './numbers-dialect.ts';
import type { WireDialect } from '../../protocol/dialect.ts';
import { NUMBERS_DIALECT, storedDialect } from './wire-dialect.ts';

interface StoredRow {
  bundle_seq: string;
  row_ordinal: number;
  table_id: number;
  key_text: string;
  op_code: number;
  /** Stored payload JSON text (null for DELETE). */
  payload: string | null;
}

/** How a table's rows start on the wire, and its canonical payload prefix (see canonical-payload.ts). */
interface RowFrame {
  head: string;
  prefix: string | null;
}

const frames = new WeakMap<CatalogTable, RowFrame>();

function frameOf(table: CatalogTable): RowFrame {
  let f = frames.get(table);
  if (!f) {
    f = {
      head: `{"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)},"key":{${JSON.stringify(table.keyColumn)}:`,
      prefix: canonicalPrefix(table),
    };
    frames.set(table, f);
  }
  return f;
}

const OP_MEMBER = ['', '},"op":"INSERT","row_version":', '},"op":"UPDATE","row_version":', '},"op":"DELETE","row_version":'];

/**
 * The wire text of a stored row: byte for byte `JSON.stringify` of its BundleRow. A canonical
 * payload is spliced in as stored (it is exactly what JSON.stringify of the parsed, finished
 * payload gives); other payloads (json columns, rows stored by an older server version) are
 * parsed and serialized.
 */
function bundleRowText(catalog: Catalog, r: StoredRow): string {
  const table = catalog.byId.get(r.table_id)!;
  const f = frameOf(table);
  const start = `${f.head}${JSON.stringify(r.key_text)}${OP_MEMBER[r.op_code]}${Number(r.bundle_seq)}`;
  if (r.payload === null) return `${start}}`;
  if (f.prefix !== null && r.payload.startsWith(f.prefix)) return `${start},"payload":${r.payload}}`;
  return `${start},"payload":${JSON.stringify(finishPayload(table, JSON.parse(r.payload) as Record<string, JsonValue>))}}`;
}

interface LogRow {
  bundle_seq: string;
  source_id: string;
  source_bundle_id: string;
  row_count: number;
  bundle_hash: string;
  canonical_request_hash: string | null;
  wire_dialect: string;
}

const LOG_COLUMNS = `bundle_seq::text AS bundle_seq, source_id, source_bundle_id::text AS source_bundle_id, row_count, bundle_hash, canonical_request_hash, wire_dialect`;

/** Wire text of a stored row in `dialect`. */
function rowText(catalog: Catalog, r: StoredRow, dialect: WireDialect): string {
  return dialect === NUMBERS_DIALECT ? numbersBundleRowText(catalog, r, Number(r.bundle_seq)) : bundleRowText(catalog, r);
}

/** `bundle_hash` of a logged bundle in `dialect`: as logged when it was pushed in it, else recomputed from its rows. */
function bundleHashIn(catalog: Catalog, meta: LogRow, rows: readonly StoredRow[], dialect: WireDialect): string {
  if (storedDialect(meta.wire_dialect) === dialect) return meta.bundle_hash;
  const seq = Number(meta.bundle_seq);
  return (dialect === NUMBERS_DIALECT ? goJsonHashStoredRows(catalog, rows, seq) : hashStoredRows(catalog, rows, seq)).bundleHash;
}

async function countPruned(ctx: RuntimeContext): Promise<void> {
  await ctx.db.query(COUNT_HISTORY_PRUNED).catch(() => {});
}

/** Reads one page of a committed bundle's rows (0-based ordinals; `next_row_ordinal` = last returned). */
export async function readCommittedRows(
  ctx: RuntimeContext,
  userId: string,
  bundleSeq: number,
  afterRowOrdinal: number | null,
  maxRows: number,
): Promise<SerializedJson<CommittedBundleRowsResponse>> {
  try {
    return await inReadSnapshot(ctx.db, async (tx) => {
      const scope = await readUserScope(tx, userId);
      if (!scope) throw new SyncServerError('committed_bundle_not_found', `bundle ${bundleSeq} not found`);
      if (bundleSeq <= scope.retainedFloor) {
        throw new SyncServerError('history_pruned', `bundle ${bundleSeq} is at or below the retained floor ${scope.retainedFloor}`);
      }
      const log = await tx.query<LogRow>(`SELECT ${LOG_COLUMNS} FROM sync.bundle_log WHERE user_pk = $1 AND bundle_seq = $2`, [
        scope.userPk,
        bundleSeq,
      ]);
      const meta = log.rows[0];
      if (!meta) throw new SyncServerError('committed_bundle_not_found', `bundle ${bundleSeq} not found`);
      const from = afterRowOrdinal === null ? 0 : afterRowOrdinal + 1;
      const r = await tx.query<StoredRow>(
        `SELECT bundle_seq::text AS bundle_seq, row_ordinal, table_id, key_text, op_code, payload::text AS payload FROM sync.bundle_rows
          WHERE user_pk = $1 AND bundle_seq = $2 AND row_ordinal >= $3 ORDER BY row_ordinal LIMIT $4`,
        [scope.userPk, bundleSeq, from, maxRows + 1],
      );
      const hasMore = r.rows.length > maxRows;
      const page = hasMore ? r.rows.slice(0, maxRows) : r.rows;
      const next = page.length > 0 ? page[page.length - 1]!.row_ordinal : (afterRowOrdinal ?? 0);
      // The pushing peer replays these rows: they are served in the bundle's own dialect.
      const dialect = storedDialect(meta.wire_dialect);
      // Member order of the CommittedBundleRowsResponse as JSON.stringify would write it.
      return new SerializedJson<CommittedBundleRowsResponse>(
        `{"bundle_seq":${Number(meta.bundle_seq)},"source_id":${JSON.stringify(meta.source_id)},"source_bundle_id":${Number(meta.source_bundle_id)},` +
          `"row_count":${meta.row_count},"bundle_hash":${JSON.stringify(meta.bundle_hash)},"rows":[${page.map((row) => rowText(ctx.catalog, row, dialect)).join(',')}],` +
          `"next_row_ordinal":${next},"has_more":${hasMore}` +
          `${meta.canonical_request_hash ? `,"canonical_request_hash":${JSON.stringify(meta.canonical_request_hash)}` : ''}}`,
      );
    });
  } catch (err) {
    if (err instanceof SyncServerError && err.code === 'history_pruned') await countPruned(ctx);
    throw err;
  }
}

/**
 * Wire texts of complete bundles by seq (metadata plus every row), in seq order, in `dialect`,
 * from their log rows (`limit` + 1 of them read, when there are). Null when `verify` finds a
 * bundle's rows incomplete (pruned by retention since its log row was read).
 */
async function loadBundles(
  tx: SqlSession,
  catalog: Catalog,
  userPk: string,
  logs: { rows: LogRow[] },
  limit: number,
  dialect: WireDialect,
  maxRows: number,
  verify: boolean,
): Promise<{ bundles: string[]; hasMore: boolean } | null> {
  // A page holds whole bundles, at most `limit` of them and, past the first, at most
  // `maxRows` rows: the response is built in memory, so its size is bounded too.
  let take = Math.min(limit, logs.rows.length);
  if (maxRows > 0) {
    for (let i = 0, rows = 0; i < take; i++) {
      rows += logs.rows[i]!.row_count;
      if (i > 0 && rows > maxRows) take = i;
    }
  }
  const hasMore = logs.rows.length > take;
  const metas = logs.rows.slice(0, take);
  if (metas.length === 0) return { bundles: [], hasMore: false };
  const joined =
    dialect === NUMBERS_DIALECT || metas.some((m) => storedDialect(m.wire_dialect) !== dialect)
      ? null
      : await joinedRowTexts(tx, catalog, userPk, metas);
  if (joined) {
    if (verify && metas.some((m) => (joined.get(m.bundle_seq)?.count ?? 0) !== m.row_count)) return null;
    return { bundles: metas.map((m) => `${bundleHead(m, m.bundle_hash)}${joined.get(m.bundle_seq)?.text ?? ''}]}`), hasMore };
  }
  const rows = await tx.query<StoredRow>(
    `SELECT r.bundle_seq::text AS bundle_seq, r.row_ordinal, r.table_id, r.key_text, r.op_code, r.payload::text AS payload FROM sync.bundle_rows r
      WHERE r.user_pk = $1 AND r.bundle_seq >= $2 AND r.bundle_seq <= $3 ORDER BY r.bundle_seq, r.row_ordinal`,
    [userPk, metas[0]!.bundle_seq, metas[metas.length - 1]!.bundle_seq],
  );
  const bySeq = new Map<string, StoredRow[]>(metas.map((m) => [m.bundle_seq, []]));
  for (const r of rows.rows) bySeq.get(r.bundle_seq)?.push(r);
  if (verify && metas.some((m) => bySeq.get(m.bundle_seq)!.length !== m.row_count)) return null;
  const bundles = metas.map((m) => {
    const stored = bySeq.get(m.bundle_seq)!;
    return `${bundleHead(m, bundleHashIn(catalog, m, stored, dialect))}${stored.map((r) => rowText(catalog, r, dialect)).join(',')}]}`;
  });
  return { bundles, hasMore };
}

/** Table ids above this take the row-by-row path (the joined one indexes arrays by id). */
const MAX_INDEXED_TABLE_ID = 10_000;

/** A PullBundle's text up to its rows array's opening bracket, in JSON.stringify's member order. */
function bundleHead(m: LogRow, bundleHash: string): string {
  return (
    `{"bundle_seq":${Number(m.bundle_seq)},"source_id":${JSON.stringify(m.source_id)},"source_bundle_id":${Number(m.source_bundle_id)},` +
    `"row_count":${m.row_count},"bundle_hash":${JSON.stringify(bundleHash)},"rows":[`
  );
}

/** Per-table frame values as arrays indexed by table id, the parameters of {@link joinedRowTexts}. */
interface IndexedFrames {
  heads: (string | null)[];
  prefixes: (string | null)[];
  uuidKeys: (boolean | null)[];
}

const indexedFramesOf = new WeakMap<Catalog, IndexedFrames | null>();

/**
 * The catalog's frames as arrays indexed by table id (ids are small: one per registered table),
 * so each row picks its frame by subscript rather than through a join; built once per catalog.
 * Null when an id is not a small positive integer.
 */
function indexedFrames(catalog: Catalog): IndexedFrames | null {
  let frames = indexedFramesOf.get(catalog);
  if (frames !== undefined) return frames;
  const ids = [...catalog.byId.keys()];
  if (ids.some((id) => !Number.isInteger(id) || id < 1 || id > MAX_INDEXED_TABLE_ID)) {
    frames = null;
  } else {
    const size = Math.max(0, ...ids);
    frames = { heads: Array(size).fill(null), prefixes: Array(size).fill(null), uuidKeys: Array(size).fill(null) };
    for (const [id, table] of catalog.byId) {
      const f = frameOf(table);
      frames.heads[id - 1] = f.head;
      frames.prefixes[id - 1] = f.prefix;
      // A UUID's text needs no JSON escaping: quoting it is enough.
      frames.uuidKeys[id - 1] = table.keyKind === 'uuid';
    }
  }
  indexedFramesOf.set(catalog, frames);
  return frames;
}

/**
 * Rows per piece of {@link joinedRowTexts}: each piece is aggregated on its own (~0.5 MB of text at
 * ~450 B a row). One aggregate per bundle, sorted, spilled a whole 10,000-row bundle to disk.
 */
const JOINED_PIECE_ROWS = 1000;

/**
 * The rows of each bundle of `metas` as one joined wire text per bundle (with its row count),
 * built by PostgreSQL: `bundleRowText` in SQL (the table's frame, the key as `to_json` text —
 * PostgreSQL escapes strings as JSON.stringify does — the op member, the version, the stored
 * canonical payload), so no row crosses node-postgres on its own: a 10,000-row pull was mostly
 * row decoding. Each bundle is read in pieces of {@link JOINED_PIECE_ROWS} ordinals, from 0 up to
 * its highest (a range scan of the primary key each, which yields them in ordinal order), and the
 * pieces are joined here in (bundle, first ordinal) order. Each piece is aggregated in the order
 * of its ordered subquery rather than with `string_agg(... ORDER BY)`, which PostgreSQL 15 sorts
 * (the piece's whole text) even when its input is in order already: ~40% of the query. That order
 * is what PostgreSQL does but does not promise, so each piece also returns its ordinals, aggregated
 * alongside, and a piece out of order takes the row-by-row path. Null then, or when a row of these
 * bundles has a payload that is not canonical text (json columns, rows of an older server
 * version): those need `finishPayload`, the row-by-row path.
 */
async function joinedRowTexts(
  tx: SqlSession,
  catalog: Catalog,
  userPk: string,
  metas: readonly LogRow[],
): Promise<Map<string, { text: string; count: number }> | null> {
  const frames = indexedFrames(catalog);
  if (!frames) return null;
  const r = await tx.query<{
    bundle_seq: string;
    lo: number;
    all_canonical: boolean | null;
    row_count: number;
    rows_text: string | null;
    ordinals: string | null;
  }>(
    `SELECT b.bundle_seq::text AS bundle_seq, p.lo, x.row_count, x.all_canonical, x.rows_text, x.ordinals
       FROM unnest($2::bigint[]) AS b(bundle_seq)
      CROSS JOIN LATERAL generate_series(0, (SELECT max(m.row_ordinal) FROM sync.bundle_rows m WHERE m.user_pk = $1 AND m.bundle_seq = b.bundle_seq),
                                         $7::int) AS p(lo)
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS row_count,
               bool_and(head IS NOT NULL AND (payload IS NULL OR (prefix IS NOT NULL AND starts_with(payload, prefix)))) AS all_canonical,
               string_agg(head || CASE WHEN uuid_key THEN '"' || key_text || '"' ELSE to_json(key_text)::text END || ($3::text[])[op_code] ||
                          bundle_seq::text || CASE WHEN payload IS NULL THEN '}' ELSE ',"payload":' || payload || '}' END, ',') AS rows_text,
               string_agg(row_ordinal::text, ',') AS ordinals
          FROM (SELECT r.bundle_seq, r.row_ordinal, r.key_text, r.op_code, r.payload::text AS payload,
                       ($4::text[])[r.table_id] AS head, ($5::text[])[r.table_id] AS prefix, ($6::boolean[])[r.table_id] AS uuid_key
                  FROM sync.bundle_rows r
                 WHERE r.user_pk = $1 AND r.bundle_seq = b.bundle_seq AND r.row_ordinal >= p.lo AND r.row_ordinal < p.lo + $7::int
                 ORDER BY r.row_ordinal) rows) x`,
    [userPk, metas.map((m) => m.bundle_seq), OP_MEMBER.slice(1), frames.heads, frames.prefixes, frames.uuidKeys, JOINED_PIECE_ROWS],
  );
  // No ORDER BY in SQL: sorting the pieces there would sort their whole text once more.
  const pieces = r.rows.sort((a, b) => (a.bundle_seq === b.bundle_seq ? a.lo - b.lo : Number(a.bundle_seq) - Number(b.bundle_seq)));
  const out = new Map<string, { text: string; count: number }>();
  const texts = new Map<string, string[]>();
  for (const piece of pieces) {
    if (piece.row_count === 0) continue;
    if (!piece.all_canonical || !ascending(piece.ordinals!)) return null;
    let parts = texts.get(piece.bundle_seq);
    if (!parts) texts.set(piece.bundle_seq, (parts = []));
    parts.push(piece.rows_text!);
    const seen = out.get(piece.bundle_seq);
    out.set(piece.bundle_seq, { text: '', count: (seen?.count ?? 0) + piece.row_count });
  }
  for (const [seq, parts] of texts) out.get(seq)!.text = parts.join(',');
  return out;
}

/** Whether a comma-separated list of integers is strictly ascending. */
function ascending(list: string): boolean {
  let prev = -1;
  for (const item of list.split(',')) {
    const n = Number(item);
    if (!(n > prev)) return false;
    prev = n;
  }
  return true;
}

/**
 * Pull of complete bundles above `after` up to a stable ceiling (`target`, or the latest bundle
 * when 0), as of one consistent view, in the dialect of the requesting source.
 *
 * Read first without a transaction (2 statements instead of 6 with BEGIN and COMMIT; a sync of a
 * few rows is mostly round trips): the scope, the source's dialect and the page's bundles in one
 * statement, then their rows. Committed bundles never change, so the rows are those a snapshot
 * would have given unless retention pruned some of them meanwhile, which their counts show; then
 * the page is read again in a REPEATABLE READ snapshot.
 */
export async function pullBundles(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  after: number,
  maxBundles: number,
  target: number,
): Promise<PullResponse | SerializedJson<PullResponse>> {
  const page = (tx: SqlSession, verify: boolean) => pullPage(tx, ctx, userId, sourceId, after, maxBundles, target, verify);
  try {
    return (await ctx.db.withConnection((session) => page(session, true))) ?? (await inReadSnapshot(ctx.db, (tx) => page(tx, false)))!;
  } catch (err) {
    if (err instanceof SyncServerError && err.code === 'history_pruned') await countPruned(ctx);
    throw err;
  }
}

/** A log row as {@link readScopeAndLogs} reads it beside the scope (all null when no bundle is in the page). */
type OptionalLogRow = { [K in keyof LogRow]: LogRow[K] | null };

/**
 * The user's scope (null: unknown user), the stored wire dialect of `sourceId` and the log rows of
 * up to `limit` bundles above `after` up to the ceiling (`target`, or the latest bundle when 0),
 * in one statement: the bundles are those of the scope's snapshot.
 */
async function readScopeAndLogs(tx: SqlSession, userId: string, sourceId: string, after: number, target: number, limit: number) {
  const r = await tx.query<ScopeRow & { source_wire_dialect: string | null } & OptionalLogRow>(
    `SELECT ${SCOPE_COLUMNS}, ss.wire_dialect AS source_wire_dialect,
            b.bundle_seq::text AS bundle_seq, b.source_id, b.source_bundle_id::text AS source_bundle_id, b.row_count, b.bundle_hash,
            b.canonical_request_hash, b.wire_dialect
       FROM sync.user_state u
       LEFT JOIN sync.scope_state s ON s.user_pk = u.user_pk
       LEFT JOIN sync.source_state ss ON ss.user_pk = u.user_pk AND ss.source_id = $2
       LEFT JOIN LATERAL (SELECT * FROM sync.bundle_log l
                           WHERE l.user_pk = u.user_pk AND l.bundle_seq > $3::bigint
                             AND l.bundle_seq <= CASE WHEN $4::bigint > 0 THEN $4::bigint ELSE u.next_bundle_seq - 1 END
                           ORDER BY l.bundle_seq LIMIT $5) b ON true
      WHERE u.user_id = $1
      ORDER BY b.bundle_seq`,
    [userId, sourceId, after, target, limit],
  );
  const first = r.rows[0];
  return {
    scope: first ? readPathScope(first) : null,
    sourceDialect: first?.source_wire_dialect ?? null,
    logs: { rows: r.rows.filter((row) => row.bundle_seq !== null) as LogRow[] },
  };
}

/** One pull page; null when `verify` finds the history changed under it (retention). */
async function pullPage(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  after: number,
  maxBundles: number,
  target: number,
  verify: boolean,
): Promise<PullResponse | SerializedJson<PullResponse> | null> {
  const { scope, sourceDialect, logs } = await readScopeAndLogs(tx, userId, sourceId, after, target, maxBundles + 1);
  requireInitialized(scope);
  const latest = scope.latestBundleSeq;
  const dialect = ctx.wireDialect === 'auto' ? storedDialect(sourceDialect) : ctx.wireDialect;
  // go-oversync answers a checkpoint past the latest bundle with an empty page at the latest.
  if (after > latest && target === 0 && dialect === NUMBERS_DIALECT) return { stable_bundle_seq: latest, bundles: [], has_more: false };
  if (after > latest) {
    throw new SyncServerError('checkpoint_ahead', `requested checkpoint ${after} is ahead of current committed bundle sequence ${latest}`);
  }
  if (target > latest) {
    throw new SyncServerError('checkpoint_ahead', `target_bundle_seq ${target} is ahead of current committed bundle sequence ${latest}`);
  }
  if (after < scope.retainedFloor) {
    throw new SyncServerError('history_pruned', `after_bundle_seq ${after} is below retained floor ${scope.retainedFloor}`);
  }
  if (target > 0 && target <= scope.retainedFloor) {
    throw new SyncServerError('history_pruned', `target_bundle_seq ${target} is at or below retained floor ${scope.retainedFloor}`);
  }
  const stable = target > 0 ? target : latest;
  if (after >= stable) return { stable_bundle_seq: stable, bundles: [], has_more: false };
  const loaded = await loadBundles(tx, ctx.catalog, scope.userPk, logs, maxBundles, dialect, ctx.limits.maxRowsPerPull, verify);
  if (!loaded) return null;
  const { bundles, hasMore } = loaded;
  return new SerializedJson<PullResponse>(`{"stable_bundle_seq":${stable},"bundles":[${bundles.join(',')}],"has_more":${hasMore}}`);
}
