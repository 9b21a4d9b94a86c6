/**
 * `GET /sync/committed-bundles/{bundle_seq}/rows` and `GET /sync/pull`: reads of retained history.
 */
import type { CommittedBundleRowsResponse, JsonValue, PullResponse } from '../../protocol/wire.ts';
import type { SqlDatabase, SqlSession } from '../database/types.ts';
import { canonicalPrefix } from './canonical-payload.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { COUNT_HISTORY_PRUNED, SCOPE_COLUMNS, readPathScope, readUserScope, requireInitialized } from './scope-state.ts';
import type { ScopeRow } from './scope-state.ts';
import { SyncServerError } from './sync-error.ts';
import { inReadSnapshot } from './transactions.ts';
import { SerializedJson, StreamedJson, utf8OfParts } from './serialized-json.ts';
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

/** The log rows a page takes: at most `limit` bundles and, past the first, at most `maxRows` rows (0: any). */
function pageMetas(logs: readonly LogRow[], limit: number, maxRows: number): { metas: LogRow[]; hasMore: boolean } {
  // The response is built in memory (or queued there, when streamed), so its size is bounded too.
  let take = Math.min(limit, logs.length);
  if (maxRows > 0) {
    for (let i = 0, rows = 0; i < take; i++) {
      rows += logs[i]!.row_count;
      if (i > 0 && rows > maxRows) take = i;
    }
  }
  return { metas: logs.slice(0, take), hasMore: logs.length > take };
}

/**
 * Wire texts of complete bundles (metadata plus every row), in seq order, in `dialect`, read row by
 * row (the numbers dialect, a bundle logged in another dialect than the page's, json columns).
 * Null when `verify` finds a bundle's rows incomplete (pruned by retention since its log row was read).
 */
async function loadBundles(
  tx: SqlSession,
  catalog: Catalog,
  userPk: string,
  metas: readonly LogRow[],
  dialect: WireDialect,
  verify: boolean,
): Promise<string[] | null> {
  const rows = await tx.query<StoredRow>(
    `SELECT r.bundle_seq::text AS bundle_seq, r.row_ordinal, r.table_id, r.key_text, r.op_code, r.payload::text AS payload FROM sync.bundle_rows r
      WHERE r.user_pk = $1 AND r.bundle_seq >= $2 AND r.bundle_seq <= $3 ORDER BY r.bundle_seq, r.row_ordinal`,
    [userPk, metas[0]!.bundle_seq, metas[metas.length - 1]!.bundle_seq],
  );
  const bySeq = new Map<string, StoredRow[]>(metas.map((m) => [m.bundle_seq, []]));
  for (const r of rows.rows) bySeq.get(r.bundle_seq)?.push(r);
  if (verify && metas.some((m) => bySeq.get(m.bundle_seq)!.length !== m.row_count)) return null;
  return metas.map((m) => {
    const stored = bySeq.get(m.bundle_seq)!;
    return `${bundleHead(m, bundleHashIn(catalog, m, stored, dialect))}${stored.map((r) => rowText(catalog, r, dialect)).join(',')}]}`;
  });
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

/** Per-table frame values as arrays indexed by table id, the parameters of {@link readRowPiece}. */
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
 * Rows per piece of {@link readRowPiece}: each piece is aggregated on its own (~0.5 MB of text at
 * ~450 B a row; one aggregate per bundle, sorted, spilled a whole 10,000-row bundle to disk), and
 * a page of more rows is streamed, piece by piece.
 */
const JOINED_PIECE_ROWS = 1000;

/** One bundle's share of a piece: the joined wire text of its rows. */
interface PieceGroup {
  bundleSeq: string;
  count: number;
  text: string;
}

/** A position in a user's history: (bundle_seq, row_ordinal), as the primary key orders rows. */
type RowPosition = readonly [bundleSeq: string, rowOrdinal: number];

/**
 * Where the pieces of the bundles of `metas` start, and where the last ends: cut every
 * {@link JOINED_PIECE_ROWS} rows, counting each bundle's ordinals from 0 up to its row count (as
 * pushes number them). The pieces cover every position between the first and the last bundle
 * once, so rows numbered otherwise still come once each; only the pieces' sizes would differ.
 */
function pieceBounds(metas: readonly LogRow[]): RowPosition[] {
  const bounds: RowPosition[] = [[metas[0]!.bundle_seq, 0]];
  let rows = 0;
  for (const m of metas) {
    let ordinal = 0;
    while (rows + m.row_count - ordinal > JOINED_PIECE_ROWS) {
      ordinal += JOINED_PIECE_ROWS - rows;
      bounds.push([m.bundle_seq, ordinal]);
      rows = 0;
    }
    rows += m.row_count - ordinal;
  }
  bounds.push([String(BigInt(metas[metas.length - 1]!.bundle_seq) + 1n), 0]);
  return bounds;
}

/**
 * The rows from `from` up to (not including) `to`, one joined wire text per bundle, in (bundle,
 * ordinal) order, built by PostgreSQL: `bundleRowText` in SQL (the table's frame, the key as
 * `to_json` text — PostgreSQL escapes strings as JSON.stringify does — the op member, the version,
 * the stored canonical payload), so no row crosses node-postgres on its own: a 10,000-row pull was
 * mostly row decoding. The rows are a range scan of the primary key in its order (the bundle_seq
 * bounds repeat the row comparisons' for the planner, which otherwise plans a bitmap scan and a
 * sort: PostgreSQL CPU per 10k page −2 to −5 ms, BENCHMARKS.md session 19), aggregated per bundle in the
 * order of that ordered subquery rather than with `string_agg(... ORDER BY)`, which PostgreSQL 15
 * sorts (the whole text) even when its input is in order already: ~40% of the query. That order is
 * what PostgreSQL does but does not promise, so each bundle's ordinals come back aggregated
 * alongside; a share out of order, or with a payload that is not canonical text (json columns,
 * rows of an older server version: they need `finishPayload`), is read again row by row.
 */
async function readRowPiece(
  db: SqlSession,
  catalog: Catalog,
  frames: IndexedFrames,
  userPk: string,
  from: RowPosition,
  to: RowPosition,
): Promise<PieceGroup[]> {
  const r = await db.query<{
    bundle_seq: string;
    row_count: number;
    first_ordinal: number;
    last_ordinal: number;
    all_canonical: boolean | null;
    rows_text: string | null;
    ordinals: string | null;
  }>(
    `SELECT bundle_seq::text AS bundle_seq, count(*)::int AS row_count, min(row_ordinal) AS first_ordinal, max(row_ordinal) AS last_ordinal,
            bool_and(head IS NOT NULL AND (payload IS NULL OR (prefix IS NOT NULL AND starts_with(payload, prefix)))) AS all_canonical,
            string_agg(head || CASE WHEN uuid_key THEN '"' || key_text || '"' ELSE to_json(key_text)::text END || ($6::text[])[op_code] ||
                       bundle_seq::text || CASE WHEN payload IS NULL THEN '}' ELSE ',"payload":' || payload || '}' END, ',') AS rows_text,
            string_agg(row_ordinal::text, ',') AS ordinals
       FROM (SELECT r.bundle_seq, r.row_ordinal, r.key_text, r.op_code, r.payload::text AS payload,
                    ($7::text[])[r.table_id] AS head, ($8::text[])[r.table_id] AS prefix, ($9::boolean[])[r.table_id] AS uuid_key
               FROM sync.bundle_rows r
              WHERE r.user_pk = $1 AND (r.bundle_seq, r.row_ordinal) >= ($2::bigint, $3::int) AND (r.bundle_seq, r.row_ordinal) < ($4::bigint, $5::int)
                AND r.bundle_seq BETWEEN $2::bigint AND $4::bigint
              ORDER BY r.bundle_seq, r.row_ordinal) rows
      GROUP BY bundle_seq`,
    [userPk, from[0], from[1], to[0], to[1], OP_MEMBER.slice(1), frames.heads, frames.prefixes, frames.uuidKeys],
  );
  // No ORDER BY in SQL: sorting the groups there would sort their whole text once more.
  const groups = r.rows.sort((a, b) => Number(a.bundle_seq) - Number(b.bundle_seq));
  const out: PieceGroup[] = [];
  for (const g of groups) {
    if (g.all_canonical && ascending(g.ordinals!)) {
      out.push({ bundleSeq: g.bundle_seq, count: g.row_count, text: g.rows_text! });
      continue;
    }
    const rows = await db.query<StoredRow>(
      `SELECT r.bundle_seq::text AS bundle_seq, r.row_ordinal, r.table_id, r.key_text, r.op_code, r.payload::text AS payload FROM sync.bundle_rows r
        WHERE r.user_pk = $1 AND r.bundle_seq = $2 AND r.row_ordinal >= $3 AND r.row_ordinal <= $4 ORDER BY r.row_ordinal`,
      [userPk, g.bundle_seq, g.first_ordinal, g.last_ordinal],
    );
    out.push({ bundleSeq: g.bundle_seq, count: rows.rows.length, text: rows.rows.map((row) => bundleRowText(catalog, row)).join(',') });
  }
  return out;
}

/** Pieces of a streamed page read at once (on as many pooled connections): PostgreSQL builds one while the last is sent. */
const PIECES_IN_FLIGHT = 2;

/**
 * The bundles of `metas` (logged in the strings dialect) as wire text, read piece by piece
 * ({@link readRowPiece}, `db` a pool when several may run at once): `emit` gets each piece's text
 * in order, as the parts that make it up (joined, they are the piece), the first starting with the
 * first bundle's head, the last ending with the last bundle's `]}`. False when a bundle's rows do
 * not add up to its logged count (pruned by retention since its log row was read).
 */
async function emitBundles(
  db: SqlSession,
  catalog: Catalog,
  frames: IndexedFrames,
  userPk: string,
  metas: readonly LogRow[],
  inFlight: number,
  emit: (parts: readonly string[]) => void,
): Promise<boolean> {
  let complete = true;
  let i = 0;
  let count = 0;
  // Kept as parts, not concatenated: a piece's text is ~0.5 MB from PostgreSQL, and appending to
  // it makes a rope that encoding to bytes has to flatten first (a copy costing more than the encode).
  let parts: string[] = [bundleHead(metas[0]!, metas[0]!.bundle_hash)];
  const next = (): void => {
    if (count !== metas[i]!.row_count) complete = false;
    if (++i >= metas.length) throw new Error(`pull: stored rows of bundle ${metas[i - 1]!.bundle_seq} are out of order`);
    count = 0;
    parts.push(`]},${bundleHead(metas[i]!, metas[i]!.bundle_hash)}`);
  };
  const bounds = pieceBounds(metas);
  const reads: Promise<PieceGroup[]>[] = [];
  const read = (k: number): void => {
    if (k + 1 >= bounds.length) return;
    const piece = readRowPiece(db, catalog, frames, userPk, bounds[k]!, bounds[k + 1]!);
    // Awaited in order below; one failing while an earlier one is awaited must not go unhandled.
    piece.catch(() => undefined);
    reads.push(piece);
  };
  for (let k = 0; k < inFlight; k++) read(k);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const groups = await reads[k]!;
    read(k + inFlight);
    for (const g of groups) {
      while (metas[i]!.bundle_seq !== g.bundleSeq) next();
      if (count > 0 && g.count > 0) parts.push(',');
      parts.push(g.text);
      count += g.count;
    }
    if (k + 2 < bounds.length) {
      emit(parts);
      parts = [];
    }
  }
  while (i < metas.length - 1) next();
  if (count !== metas[i]!.row_count) complete = false;
  parts.push(']}');
  emit(parts);
  return complete;
}

/**
 * A page of more than {@link JOINED_PIECE_ROWS} rows, sent as it is read: the client decodes (and
 * the network carries) the first pieces while PostgreSQL builds the next. Each piece is a
 * statement of its own on a pooled connection, queued in memory as it comes (whatever the
 * client's pace, as a page built whole would be), so no connection waits on a slow client.
 * Bundles pruned meanwhile (retention) error the stream: the client sees the body cut short and
 * asks again, and then gets `history_pruned`.
 */
function streamedPage(
  ctx: RuntimeContext,
  frames: IndexedFrames,
  userPk: string,
  stable: number,
  metas: readonly LogRow[],
  hasMore: boolean,
): StreamedJson<PullResponse> {
  let cancelled = false;
  return new StreamedJson<PullResponse>(
    new ReadableStream<Uint8Array>({
      start(controller) {
        const emit = (parts: readonly string[]): void => {
          if (cancelled) throw new Error('pull: the client went away');
          controller.enqueue(utf8OfParts(parts));
        };
        emit([`{"stable_bundle_seq":${stable},"bundles":[`]);
        emitBundles(pieceStatements(ctx.db), ctx.catalog, frames, userPk, metas, PIECES_IN_FLIGHT, emit)
          .then((complete) => {
            if (!complete) throw new SyncServerError('history_pruned', 'bundles of this pull page were pruned while it was sent');
            emit([`],"has_more":${hasMore}}`]);
            controller.close();
          })
          .catch((err: unknown) => {
            if (!cancelled) controller.error(err);
          });
      },
      cancel() {
        cancelled = true;
      },
    }),
  );
}

/**
 * Statements on `db` each on a pooled connection of its own, as `db.query` runs them, but through
 * `withConnection`, whose sessions keep a connection's statements prepared (postgres.ts): the
 * piece statement is the same text for every piece of every page, and run unnamed PostgreSQL
 * parsed and planned it each time (~0.2–0.6 ms of a 1,000-row piece's ~2–3 ms).
 */
function pieceStatements(db: SqlDatabase): SqlSession {
  return { query: (text, params) => db.withConnection((session) => session.query(text, params)) };
}

/** Whether a comma-separated list of non-negative integers is strictly ascending (read in place: no split, no substrings). */
function ascending(list: string): boolean {
  let prev = -1;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= list.length; i++) {
    const c = i < list.length ? list.charCodeAt(i) : 44;
    if (c === 44) {
      if (digits === 0 || !(n > prev)) return false;
      prev = n;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
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
 * the page is read again in a REPEATABLE READ snapshot. A page of many rows is streamed (see
 * {@link streamedPage}): there, counts short of the log cut the body instead.
 */
export async function pullBundles(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  after: number,
  maxBundles: number,
  target: number,
): Promise<PullResponse | SerializedJson<PullResponse> | StreamedJson<PullResponse>> {
  const page = (tx: SqlSession, verify: boolean) => pullPage(tx, ctx, userId, sourceId, after, maxBundles, target, verify);
  try {
    const read =
      (await ctx.db.withConnection((session) => page(session, true))) ?? (await inReadSnapshot(ctx.db, (tx) => page(tx, false)))!;
    // A streamed page reads its pieces on pooled connections: it starts only once this request's
    // own connection is back (PGlite has just the one, and refuses a query meanwhile).
    return typeof read === 'function' ? read() : read;
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

/** One pull page (a streamed one as the function that starts it); null when `verify` finds the history changed under it (retention). */
async function pullPage(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  after: number,
  maxBundles: number,
  target: number,
  verify: boolean,
): Promise<PullResponse | SerializedJson<PullResponse> | (() => StreamedJson<PullResponse>) | null> {
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
  const { metas, hasMore } = pageMetas(logs.rows, maxBundles, ctx.limits.maxRowsPerPull);
  if (metas.length === 0) return { stable_bundle_seq: stable, bundles: [], has_more: false };
  const page = (bundles: string): SerializedJson<PullResponse> =>
    new SerializedJson<PullResponse>(`{"stable_bundle_seq":${stable},"bundles":[${bundles}],"has_more":${hasMore}}`);
  const frames = indexedFrames(ctx.catalog);
  if (frames === null || dialect === NUMBERS_DIALECT || metas.some((m) => storedDialect(m.wire_dialect) !== dialect)) {
    const bundles = await loadBundles(tx, ctx.catalog, scope.userPk, metas, dialect, verify);
    return bundles && page(bundles.join(','));
  }
  if (metas.reduce((n, m) => n + m.row_count, 0) > JOINED_PIECE_ROWS)
    return () => streamedPage(ctx, frames, scope.userPk, stable, metas, hasMore);
  const parts: string[] = [];
  const complete = await emitBundles(tx, ctx.catalog, frames, scope.userPk, metas, 1, (piece) => parts.push(...piece));
  return !complete && verify ? null : page(parts.join(''));
}
