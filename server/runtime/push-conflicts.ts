/**
 * Push conflicts: the first staged row of a push session whose base version does not match the
 * server's row version (see the conflict table of the protocol), answered as `409 push_conflict`
 * with the live server row.
 */
import type { JsonValue, PushConflictDetail } from '../../protocol/wire.ts';
import type { WireDialect } from '../../protocol/dialect.ts';
import type { SqlSession } from '../database/types.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import { SCOPE_COLUMN, keyFromTextSql, wirePayloadSql } from './catalog.ts';
import type { CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { numbersPayloadJson } from './numbers-dialect.ts';
import { SyncServerError } from './sync-error.ts';
import { NUMBERS_DIALECT } from './wire-dialect.ts';
import { finishPayload, opName, wireKey } from './wire-rows.ts';

export interface ConflictRow {
  table_id: number;
  key_text: string;
  op_code: number;
  base: string;
  present: boolean;
  deleted: boolean;
  version: string;
}

/**
 * The rows a conflict check or an apply reads, as an SQL subquery aliased `r` (columns
 * row_ordinal, table_id, key_text COLLATE "C", op_code, base_bundle_seq, payload jsonb) whose
 * parameters are numbered from `first`: a staged session's rows, or rows passed in as JSON.
 */
export interface PushRowSource {
  sql(first: number): string;
  params: readonly unknown[];
}

/** The staged rows of push session `pushId` (ordinals `from`..`to` when given). */
export function stagedRows(pushId: string, range?: { from: string; to: string }): PushRowSource {
  return {
    sql: (first) =>
      `(SELECT row_ordinal, table_id, key_text, op_code, base_bundle_seq, payload FROM sync.push_session_rows
         WHERE push_id = $${first}::uuid${range ? ` AND row_ordinal BETWEEN $${first + 1} AND $${first + 2}` : ''}) r`,
    params: range ? [pushId, range.from, range.to] : [pushId],
  };
}

/**
 * Rows passed in as one JSON array of `[table_id, key_text, op_code, base_bundle_seq, payload]`
 * (the staging's own form, see push-sessions.ts), ordinals from 0: what a
 * one-request push checks and applies without staging its rows first.
 */
export function jsonRows(rowsJson: string): PushRowSource {
  return {
    sql: (first) => `(SELECT e.ord - 1 AS row_ordinal, (e.v->>0)::int AS table_id, (e.v->>1) COLLATE "C" AS key_text,
                         (e.v->>2)::smallint AS op_code, (e.v->>3)::bigint AS base_bundle_seq, nullif(e.v->4, 'null'::jsonb) AS payload
                    FROM jsonb_array_elements($${first}::jsonb) WITH ORDINALITY AS e(v, ord)) r`,
    params: [rowsJson],
  };
}

/**
 * The first conflicting row of `rows` in ordinal order (see the conflict table of the protocol)
 * as a query of {@link ConflictRow}; `userPk` is the SQL of the user's user_pk, the rows'
 * parameters are numbered from `first`.
 */
export function firstConflictSql(rows: PushRowSource, userPk: string, first: number): string {
  return `SELECT r.table_id, r.key_text, r.op_code, r.base_bundle_seq::text AS base,
            rs.key_text IS NOT NULL AS present, coalesce(rs.deleted, false) AS deleted, coalesce(rs.bundle_seq, 0)::text AS version
       FROM ${rows.sql(first)}
       LEFT JOIN sync.row_state rs ON rs.user_pk = ${userPk} AND rs.table_id = r.table_id AND rs.key_text = r.key_text
      WHERE NOT (
              (r.op_code = 1 AND ((rs.key_text IS NULL AND r.base_bundle_seq = 0)
                                  OR (rs.key_text IS NOT NULL AND rs.deleted AND r.base_bundle_seq = rs.bundle_seq)))
           OR (r.op_code <> 1 AND rs.key_text IS NOT NULL AND NOT rs.deleted AND r.base_bundle_seq = rs.bundle_seq))
      ORDER BY r.row_ordinal LIMIT 1`;
}

/** First conflicting row of `rows` in ordinal order, or null. */
export async function findFirstConflict(tx: SqlSession, rows: PushRowSource, userPk: string): Promise<ConflictRow | null> {
  const r = await tx.query<ConflictRow>(firstConflictSql(rows, '$1', 2), [userPk, ...rows.params]);
  return r.rows[0] ?? null;
}

/** The live server row of a key in wire form, or null. */
async function readLiveRow(
  tx: SqlSession,
  table: CatalogTable,
  userId: string,
  keyText: string,
): Promise<Record<string, JsonValue> | null> {
  const r = await tx.query<{ payload: Record<string, JsonValue> }>(
    `SELECT ${wirePayloadSql(table, 'n')} AS payload FROM ${table.sqlName} n
      WHERE n.${quoteIdent(SCOPE_COLUMN)} = $1 AND n.${quoteIdent(table.keyColumn)} = ${keyFromTextSql(table, '$2')}`,
    [userId, keyText],
  );
  return r.rows[0] ? finishPayload(table, r.rows[0].payload) : null;
}

export async function conflictError(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  c: ConflictRow,
  dialect: WireDialect,
): Promise<SyncServerError> {
  const table = ctx.catalog.byId.get(c.table_id)!;
  const live = c.present && !c.deleted;
  const serverRow = live ? await readLiveRow(tx, table, userId, c.key_text) : null;
  const detail: PushConflictDetail = {
    schema: table.schema,
    table: table.table,
    key: wireKey(table, c.key_text),
    op: opName(c.op_code),
    base_row_version: Number(c.base),
    server_row_version: Number(c.version),
    server_row_deleted: c.deleted,
    server_row: serverRow && dialect === NUMBERS_DIALECT ? numbersPayloadJson(table, serverRow) : serverRow,
  };
  const state = !c.present ? 'does not exist' : c.deleted ? `is deleted at version ${c.version}` : `is live at version ${c.version}`;
  return new SyncServerError(
    'push_conflict',
    `${detail.op.toLowerCase()} conflict on ${table.qualifiedName} ${JSON.stringify(c.key_text)}: base_row_version ${c.base}, server row ${state}`,
    { conflict: detail },
  );
}
