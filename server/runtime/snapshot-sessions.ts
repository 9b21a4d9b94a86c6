/**
 * Frozen, chunked snapshot sessions: a materialized copy of a user's live rows at one
 * `snapshot_bundle_seq`, read in chunks bounded by rows and bytes, with a TTL, optional source
 * replacement (rotation) in the same transaction, and per-process build/read capacity limits.
 */
import { randomUUID } from 'node:crypto';
import { isCanonicalUuid } from '../../protocol/values.ts';
import type { JsonValue, SnapshotChunkResponse, SnapshotRow, SnapshotSessionResponse, SourceReplacementReason } from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, compactWirePayloadSql, keyTextSql, quoteIdent, quoteLiteral } from './catalog.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { CapacityGate } from './capacity.ts';
import type { RuntimeContext } from './context.ts';
import { ensureUserScope, requireInitialized } from './scope-state.ts';
import { readSourceState } from './source-state.ts';
import { SerializedJson } from './serialized-json.ts';
import { SyncError } from './sync-error.ts';
import { inReadSnapshot, inUserTransaction } from './transactions.ts';
import { finishPayload, wireKey } from './wire-rows.ts';

const REASONS: readonly SourceReplacementReason[] = ['history_pruned', 'source_sequence_out_of_order', 'source_sequence_changed', 'source_retired'];

/** A validated source replacement request. */
export interface SourceReplacement {
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
    throw new SyncError('snapshot_session_invalid', 'request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SyncError('snapshot_session_invalid', 'request body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => k !== 'source_replacement');
  if (unknown.length > 0) throw new SyncError('snapshot_session_invalid', `unknown field(s): ${unknown.join(', ')}`);
  const sr = (body as { source_replacement?: unknown }).source_replacement;
  if (sr === undefined || sr === null) return null;
  if (typeof sr !== 'object' || Array.isArray(sr)) throw new SyncError('snapshot_session_invalid', 'source_replacement must be an object');
  const { previous_source_id: prev, new_source_id: next, reason, ...rest } = sr as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new SyncError('snapshot_session_invalid', `unknown source_replacement field(s): ${Object.keys(rest).join(', ')}`);
  if (typeof prev !== 'string' || prev.trim() !== headerSourceId) {
    throw new SyncError('snapshot_session_invalid', 'source_replacement.previous_source_id must equal the Oversync-Source-ID header');
  }
  if (typeof next !== 'string' || next.trim() === '') throw new SyncError('snapshot_session_invalid', 'source_replacement.new_source_id must be a non-empty string');
  if (next.trim() === headerSourceId) throw new SyncError('snapshot_session_invalid', 'source_replacement.new_source_id must differ from the previous source');
  if (typeof reason !== 'string' || !REASONS.includes(reason as SourceReplacementReason)) {
    throw new SyncError('snapshot_session_invalid', `source_replacement.reason must be one of ${REASONS.join(', ')}`);
  }
  return { previousSourceId: headerSourceId, newSourceId: next.trim(), reason: reason as SourceReplacementReason };
}

/** Applies the rotation rules (retire previous, reserve new), idempotently for the same replacement. */
async function rotateSource(tx: SqlSession, userPk: string, r: SourceReplacement): Promise<void> {
  const prev = await readSourceState(tx, userPk, r.previousSourceId, true);
  const next = await readSourceState(tx, userPk, r.newSourceId, true);
  if (prev?.state === 'retired') {
    if (prev.replacedBySourceId !== r.newSourceId) {
      const extra: Record<string, unknown> = { source_id: r.previousSourceId };
      if (prev.replacedBySourceId) extra.replaced_by_source_id = prev.replacedBySourceId;
      throw new SyncError('source_retired', `source ${r.previousSourceId} is already retired and replaced by ${prev.replacedBySourceId || 'nothing'}`, extra);
    }
    if (!next) {
      await tx.query(`INSERT INTO sync.source_state (user_pk, source_id, state) VALUES ($1, $2, 'reserved')`, [userPk, r.newSourceId]);
    } else if (next.state === 'retired') {
      throw new SyncError('source_replacement_invalid', `replacement source ${r.newSourceId} is retired`);
    }
    return;
  }
  if (next) throw new SyncError('source_replacement_invalid', `replacement source ${r.newSourceId} already exists (${next.state}); use a fresh source id`);
  await tx.query(`INSERT INTO sync.source_state (user_pk, source_id, state) VALUES ($1, $2, 'reserved')`, [userPk, r.newSourceId]);
  await tx.query(
    `INSERT INTO sync.source_state (user_pk, source_id, state, replaced_by_source_id, retirement_reason) VALUES ($1, $2, 'retired', $3, $4)
     ON CONFLICT (user_pk, source_id) DO UPDATE SET state = 'retired', replaced_by_source_id = EXCLUDED.replaced_by_source_id,
       retirement_reason = EXCLUDED.retirement_reason`,
    [userPk, r.previousSourceId, r.newSourceId, r.reason],
  );
}

/** Deletes the snapshot sessions `selectIds` returns, with their rows, in one statement. */
function deleteSnapshotsSql(selectIds: string): string {
  return `WITH gone AS (DELETE FROM sync.snapshot_sessions WHERE snapshot_id IN (${selectIds}) RETURNING snapshot_id),
    rows_gone AS (DELETE FROM sync.snapshot_session_rows WHERE snapshot_id IN (SELECT snapshot_id FROM gone))
  SELECT count(*)::int AS n FROM gone`;
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
  return { schema: table.schema, table: table.table, key: wireKey(table, r.key_text), row_version: Number(r.bundle_seq), payload: finishPayload(table, r.payload) };
}

/** Base types whose `to_json` rendering is a JSON string (text-family columns may be enums, composites, ...). */
const SQL_SIZED_TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);

/**
 * How SQL can size a table's snapshot rows exactly, or null. A row travels as
 * `{"schema":S,"table":T,"key":{K:key},"row_version":N,"payload":P}` (JSON.stringify, whose length
 * is the canonical length, see snapshotRowBytes). The stored payload is compact `row_to_json` text
 * (compactWirePayloadSql); when every value in it is a JSON scalar that PostgreSQL renders as
 * JavaScript would (no json columns, whose stored text keeps its whitespace; floats, which Node
 * re-renders, only when not in exponent form, -0, NaN or infinite: `oddSql`), that text is
 * exactly JSON.stringify of the parsed payload: PostgreSQL escapes strings as JSON.stringify does
 * (UTF-8 databases only). Such a row's text is `prefix + JSON.stringify(key) + "},\"row_version\":"
 * + N + ",\"payload\":" + P + "}"` and its size octet_length(to_json(key)) + length(N) +
 * octet_length(P) + `perRow`.
 */
function sqlRowSizing(table: CatalogTable): RowSizing | null {
  if (!sizings.has(table)) sizings.set(table, computeRowSizing(table));
  return sizings.get(table)!;
}

interface RowSizing {
  perRow: number;
  /** How compact payload text starts: `{"first_column":`. */
  firstMember: string;
  oddSql: string;
  prefix: string;
}

const sizings = new WeakMap<CatalogTable, RowSizing | null>();

function computeRowSizing(table: CatalogTable): RowSizing | null {
  for (const c of table.columns) {
    if (c.family === 'json') return null;
    if (c.family === 'text' && !SQL_SIZED_TEXT_TYPES.has(c.baseType)) return null;
  }
  const prefix = `{"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)},"key":{${JSON.stringify(table.keyColumn)}:`;
  const frame = `${prefix}},"row_version":,"payload":}`;
  const odd = table.floatColumns.map((c) => `coalesce((payload->>${quoteLiteral(c)}) ~ '[eEnN]' OR (payload->>${quoteLiteral(c)}) = '-0', false)`);
  if (table.columns.length === 0) return null;
  return { perRow: Buffer.byteLength(frame, 'utf8'), firstMember: `{${JSON.stringify(table.columns[0]!.name)}:`, oddSql: odd.length > 0 ? odd.join(' OR ') : 'false', prefix };
}

/** SQL boolean over `r` (a snapshot_session_rows row): its payload text can be spliced as stored. */
function plainRowSql(catalog: Catalog): string {
  const arms = catalog.tables.map((t) => {
    const sizing = sqlRowSizing(t);
    return `WHEN ${t.tableId} THEN ${sizing ? (sizing.oddSql === 'false' ? 'true' : `NOT (${sizing.oddSql.replace(/payload->>/g, 'r.payload->>')})`) : 'false'}`;
  });
  return `(current_setting('server_encoding') = 'UTF8' AND CASE r.table_id ${arms.join(' ')} ELSE false END)`;
}

/** `POST /sync/snapshot-sessions`. */
export async function createSnapshotSession(
  ctx: RuntimeContext,
  gate: CapacityGate,
  userId: string,
  replacement: SourceReplacement | null,
): Promise<SnapshotSessionResponse> {
  const release = gate.tryAcquire();
  if (!release) {
    throw new SyncError('snapshot_build_capacity', 'too many snapshot builds in progress; retry later', {}, { 'Retry-After': String(ctx.limits.capacityRetryAfterSeconds) });
  }
  try {
    return await inUserTransaction(ctx.db, userId, async (tx) => {
      await tx.query(deleteSnapshotsSql(`SELECT snapshot_id FROM sync.snapshot_sessions WHERE expires_at < now() FOR UPDATE SKIP LOCKED`));
      const scope = await ensureUserScope(tx, userId);
      requireInitialized(scope);
      if (replacement) await rotateSource(tx, scope.userPk, replacement);
      const snapshotId = randomUUID();
      const header = await tx.query<{ expires_at: Date }>(
        `INSERT INTO sync.snapshot_sessions (snapshot_id, user_pk, snapshot_bundle_seq, row_count, byte_count, expires_at)
         VALUES ($1, $2, $3, 0, 0, now() + make_interval(secs => $4)) RETURNING expires_at`,
        [snapshotId, scope.userPk, scope.latestBundleSeq, ctx.limits.snapshotSessionTtlSeconds],
      );
      // Materialize set-based, in snapshot order: table_id, then key bytes (C collation = byte order).
      // Each join below pairs every live row of the user with its row_state, so a hash join is
      // always right; on freshly written tables (no statistics yet) the planner estimates one row
      // and picks a nested loop that rescans the business table per row_state row: 20,000 rows
      // took 100+ s that way, 25 ms hashed (found by the pull benchmark).
      await tx.query('SET LOCAL enable_nestloop = off');
      const utf8 = (await tx.query<{ enc: string }>(`SELECT current_setting('server_encoding') AS enc`)).rows[0]!.enc === 'UTF8';
      let rowCount = 0;
      let byteCount = 0;
      // Ordinal ranges whose rows are sized in Node (tables whose sizes SQL cannot compute exactly).
      const sizeInNode: { first: number; last: number }[] = [];
      for (const table of ctx.catalog.tables) {
        const sizing = utf8 ? sqlRowSizing(table) : null;
        const insertSql = `INSERT INTO sync.snapshot_session_rows (snapshot_id, row_ordinal, table_id, key_text, bundle_seq, payload)
           SELECT $1::uuid, $2::bigint + row_number() OVER (ORDER BY k COLLATE "C"), $3, k, bundle_seq, payload FROM (
             SELECT ${keyTextSql(table, 'n')} AS k, rs.bundle_seq, ${compactWirePayloadSql(table, 'n')} AS payload
               FROM ${table.sqlName} n
               JOIN sync.row_state rs ON rs.user_pk = $4 AND rs.table_id = $3 AND rs.key_text = ${keyTextSql(table, 'n')} AND NOT rs.deleted
              WHERE n.${quoteIdent(SCOPE_COLUMN)} = $5) s`;
        const params = [snapshotId, rowCount, table.tableId, scope.userPk, userId];
        let inserted: number;
        if (sizing) {
          // Sized in the same statement, without reading the rows back (see sqlRowSizing).
          const r = await tx.query<{ n: string; bytes: string; max: string; odd: boolean }>(
            `WITH ins AS (${insertSql} RETURNING key_text, bundle_seq, payload)
             SELECT count(*)::text AS n, coalesce(sum(sz), 0)::text AS bytes, coalesce(max(sz), 0)::text AS max, coalesce(bool_or(odd), false) AS odd
               FROM (SELECT octet_length(to_json(key_text)::text) + length(bundle_seq::text) + octet_length(payload::text) AS sz, ${sizing.oddSql} AS odd FROM ins) s`,
            params,
          );
          inserted = Number(r.rows[0]!.n);
          if (inserted > 0 && (r.rows[0]!.odd || Number(r.rows[0]!.max) + sizing.perRow > ctx.limits.maxBytesPerSnapshotRow)) {
            sizeInNode.push({ first: rowCount + 1, last: rowCount + inserted }); // exact sizes, and the offending row's error
          } else {
            byteCount += Number(r.rows[0]!.bytes) + inserted * sizing.perRow;
          }
        } else {
          inserted = (await tx.query(insertSql, params)).rowCount;
          if (inserted > 0) sizeInNode.push({ first: rowCount + 1, last: rowCount + inserted });
        }
        const live = await tx.query<{ n: string }>(`SELECT count(*)::text AS n FROM sync.row_state WHERE user_pk = $1 AND table_id = $2 AND NOT deleted`, [scope.userPk, table.tableId]);
        if (Number(live.rows[0]!.n) !== inserted) {
          throw new Error(`snapshot of ${table.qualifiedName}: ${inserted} live rows but ${live.rows[0]!.n} live row versions; refusing an inconsistent snapshot`);
        }
        rowCount += inserted;
      }
      const maxRows = ctx.limits.maxRowsPerSnapshotSession;
      if (maxRows > 0 && rowCount > maxRows) throw new Error(`snapshot has ${rowCount} rows, above max_rows_per_snapshot_session ${maxRows}`);
      const batch = ctx.limits.snapshotMaterializationBatchRows;
      for (const range of sizeInNode) {
        for (let after = range.first - 1; after < range.last; after += batch) {
          const r = await tx.query<StoredSnapshotRow>(
            `SELECT r.row_ordinal::text AS row_ordinal, r.table_id, r.key_text, r.bundle_seq::text AS bundle_seq, r.payload FROM sync.snapshot_session_rows r
              WHERE r.snapshot_id = $1::uuid AND r.row_ordinal > $2 AND r.row_ordinal <= $3 ORDER BY r.row_ordinal`,
            [snapshotId, after, Math.min(after + batch, range.last)],
          );
          for (const stored of r.rows) {
            const size = snapshotRowBytes(toSnapshotRow(ctx.catalog, stored));
            if (size > ctx.limits.maxBytesPerSnapshotRow) {
              throw new Error(`snapshot row ${stored.row_ordinal} has ${size} bytes, above max_bytes_per_snapshot_row ${ctx.limits.maxBytesPerSnapshotRow}`);
            }
            byteCount += size;
          }
        }
      }
      const maxBytes = ctx.limits.maxBytesPerSnapshotSession;
      if (maxBytes > 0 && byteCount > maxBytes) throw new Error(`snapshot has ${byteCount} bytes, above max_bytes_per_snapshot_session ${maxBytes}`);
      await tx.query('UPDATE sync.snapshot_sessions SET row_count = $2, byte_count = $3 WHERE snapshot_id = $1::uuid', [snapshotId, rowCount, byteCount]);
      return {
        snapshot_id: snapshotId,
        snapshot_bundle_seq: scope.latestBundleSeq,
        row_count: rowCount,
        byte_count: byteCount,
        expires_at: header.rows[0]!.expires_at.toISOString(),
      };
    });
  } finally {
    release();
  }
}

interface SessionHeader {
  snapshot_id: string;
  snapshot_bundle_seq: string;
  row_count: string;
  expired: boolean;
  user_id: string;
}

async function loadSnapshotHeader(tx: SqlSession, snapshotId: string, userId: string, checkExpiry: boolean): Promise<SessionHeader> {
  const id = snapshotId.toLowerCase();
  if (!isCanonicalUuid(id)) throw new SyncError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
  const r = await tx.query<SessionHeader>(
    `SELECT s.snapshot_id::text AS snapshot_id, s.snapshot_bundle_seq::text AS snapshot_bundle_seq, s.row_count::text AS row_count,
            s.expires_at <= now() AS expired, u.user_id
       FROM sync.snapshot_sessions s JOIN sync.user_state u ON u.user_pk = s.user_pk WHERE s.snapshot_id = $1::uuid`,
    [id],
  );
  const h = r.rows[0];
  if (!h) throw new SyncError('snapshot_session_not_found', `snapshot session ${snapshotId} not found`);
  if (h.user_id !== userId) throw new SyncError('snapshot_session_forbidden', `snapshot session ${snapshotId} belongs to another user`);
  if (checkExpiry && h.expired) throw new SyncError('snapshot_session_expired', `snapshot session ${snapshotId} expired; create a new one`);
  return h;
}

/** `GET /sync/snapshot-sessions/{snapshot_id}`: rows with ordinal > after, bounded by rows and bytes (at least one row). */
export async function readSnapshotChunk(
  ctx: RuntimeContext,
  gate: CapacityGate,
  userId: string,
  snapshotId: string,
  afterRowOrdinal: number,
  maxRows: number,
  maxBytes: number,
): Promise<SerializedJson<SnapshotChunkResponse>> {
  const release = gate.tryAcquire();
  if (!release) {
    throw new SyncError('snapshot_chunk_capacity', 'too many snapshot chunk reads in progress; retry later', {}, { 'Retry-After': String(ctx.limits.capacityRetryAfterSeconds) });
  }
  try {
    return await inReadSnapshot(ctx.db, async (tx) => {
      const h = await loadSnapshotHeader(tx, snapshotId, userId, true);
      // Rows whose stored text needs no re-rendering (see sqlRowSizing) come as text and are
      // spliced as they are; the others are parsed and serialized here.
      const r = await tx.query<StoredSnapshotRow & { plain_payload: string | null }>(
        `SELECT r.row_ordinal::text AS row_ordinal, r.table_id, r.key_text, r.bundle_seq::text AS bundle_seq,
                CASE WHEN r.plain THEN NULL ELSE r.payload END AS payload, CASE WHEN r.plain THEN r.payload::text END AS plain_payload
           FROM (SELECT r.*, ${plainRowSql(ctx.catalog)} AS plain FROM (
                  SELECT r.row_ordinal, r.table_id, r.key_text, r.bundle_seq, r.payload FROM sync.snapshot_session_rows r
                   WHERE r.snapshot_id = $1::uuid AND r.row_ordinal > $2 ORDER BY r.row_ordinal LIMIT $3) r OFFSET 0) r
          ORDER BY r.row_ordinal`,
        [h.snapshot_id, afterRowOrdinal, maxRows],
      );
      // Each row is serialized once: its text gives its size (see snapshotRowBytes) and is spliced
      // into the body, which is byte for byte JSON.stringify of the SnapshotChunkResponse.
      const texts: string[] = [];
      let bytes = 0;
      for (const stored of r.rows) {
        let text: string;
        if (stored.plain_payload === null) text = JSON.stringify(toSnapshotRow(ctx.catalog, stored));
        else {
          const sizing = sqlRowSizing(ctx.catalog.byId.get(stored.table_id)!)!;
          // A session materialized by an older server version stored json_build_object text
          // (`{"a" : ...`): that is parsed and serialized like the other rows.
          text = stored.plain_payload.startsWith(sizing.firstMember)
            ? `${sizing.prefix}${JSON.stringify(stored.key_text)}},"row_version":${Number(stored.bundle_seq)},"payload":${stored.plain_payload}}`
            : JSON.stringify(toSnapshotRow(ctx.catalog, { ...stored, payload: JSON.parse(stored.plain_payload) as Record<string, JsonValue> }));
        }
        const size = Buffer.byteLength(text, 'utf8');
        if (texts.length > 0 && bytes + size > maxBytes) break;
        texts.push(text);
        bytes += size;
      }
      const next = afterRowOrdinal + texts.length;
      return new SerializedJson<SnapshotChunkResponse>(
        `{"snapshot_id":${JSON.stringify(h.snapshot_id)},"snapshot_bundle_seq":${JSON.stringify(Number(h.snapshot_bundle_seq))},` +
          `"rows":[${texts.join(',')}],"next_row_ordinal":${JSON.stringify(next)},"byte_count":${JSON.stringify(bytes)},` +
          `"has_more":${JSON.stringify(next < Number(h.row_count))}}`,
      );
    });
  } finally {
    release();
  }
}

/** `DELETE /sync/snapshot-sessions/{snapshot_id}` (expired sessions can be deleted too). */
export function deleteSnapshotSession(ctx: RuntimeContext, userId: string, snapshotId: string): Promise<void> {
  return inUserTransaction(ctx.db, userId, async (tx) => {
    const h = await loadSnapshotHeader(tx, snapshotId, userId, false);
    await tx.query(deleteSnapshotsSql('SELECT $1::uuid'), [h.snapshot_id]);
  });
}
