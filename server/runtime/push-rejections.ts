/**
 * Turns a database refusal of a push commit caused by the pushed data (a value PostgreSQL cannot
 * cast, a missing NOT NULL value, a reference to a row that does not exist, a CHECK or UNIQUE
 * rule) into a protocol rejection that names the row in protocol terms: schema, table, key, op,
 * column(s), reason. Never SQL, relation, constraint or stack text.
 *
 * PostgreSQL reports most of these without saying which row (a failed cast names neither row nor
 * column), and the commit applies whole segments in one statement. So, only when a commit has
 * failed this way, the session is replayed in a separate transaction that is always rolled back:
 * segments in order, each under a savepoint; the failing segment is bisected down to its first
 * failing row; a failed cast is narrowed to its column; deferred foreign keys are checked at the
 * end and the referencing (or still referenced) pushed row is looked up. Cost, on the failure path
 * only: the segments before the failing one once, then about twice the failing segment's rows in
 * log2(n) statements.
 */
import type { WireDialect } from '../../protocol/dialect.ts';
import type { PushRejectionDetail, PushRejectionReason } from '../../protocol/errors.ts';
import type { SqlSession } from '../database/types.ts';
import { SCOPE_COLUMN, decodeValueSql } from './catalog.ts';
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { CatalogTable } from './catalog.ts';
import type { RuntimeContext } from './context.ts';
import { setBundleContext } from './source-state.ts';
import { SyncServerError, pgErrorCode } from './sync-error.ts';
import { inUserTransaction } from './transactions.ts';
import { storedDialect } from './wire-dialect.ts';
import { opName } from './wire-rows.ts';

/** Longest key text echoed in a rejection message (the `rejection.key` carries it whole). */
const MAX_ECHOED_KEY = 120;

/** SQLSTATEs that pushed data can cause, with the reason they are reported as. */
function reasonOf(code: string | undefined): PushRejectionReason | null {
  if (!code) return null;
  switch (code) {
    case '22001':
    case '54000': // e.g. a value too large for a unique index of the table
      return 'value_too_long';
    case '22003':
    case '22008':
      return 'value_out_of_range';
    case '23502':
      return 'missing_value';
    case '23503':
      return 'missing_reference';
    case '23505':
      return 'unique_violation';
    case '23514':
      return 'check_violation';
    case 'P0001':
      return 'rejected_by_rule';
    default:
      return code.startsWith('22') ? 'invalid_value' : null;
  }
}

/** True when `err` is a database refusal that pushed data can cause (worth locating). */
export function isPushDataRefusal(err: unknown): boolean {
  return reasonOf(pgErrorCode(err)) !== null;
}

interface PgErrorFields {
  code?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

interface Located {
  detail: PushRejectionDetail;
  dialect: WireDialect;
}

/** One staged segment (consecutive rows of one table, op and column set), ordinals as text. */
interface StagedSegment {
  start_ordinal: string;
  end_ordinal: string;
  table_id: number;
  op_code: number;
  columns: string[];
}

/** Applies the staged rows of one segment (the commit's own statement), so the replay fails as the commit did. */
type ApplySegment = (tx: SqlSession, ctx: RuntimeContext, userId: string, pushId: string, seg: StagedSegment) => Promise<void>;

/** Thrown to roll the diagnosis transaction back once it has its answer. */
class Rollback extends Error {}

/**
 * The protocol error for a commit that `err` refused, or null when the refusal is not traced to a
 * pushed row (then it is the server's problem and stays a 500 without details). Contracts dialect:
 * `400 push_commit_invalid`; go-oversync 1f1118f sessions: its `500 push_session_commit_failed`.
 * Both carry `rejection` ({@link PushRejectionDetail}).
 */
export async function explainPushRejection(
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
  err: unknown,
  applySegment: ApplySegment,
): Promise<SyncServerError | null> {
  if (!isPushDataRefusal(err)) return null;
  let located: Located | null = null;
  try {
    await inUserTransaction(ctx.db, userId, async (tx) => {
      located = await locate(tx, ctx, userId, sourceId, pushId, applySegment);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  if (!located) return null;
  const { detail, dialect } = located as Located;
  const message = describe(detail);
  return dialect === 'go-json-numbers'
    ? new SyncServerError('push_session_commit_failed', message, { rejection: detail })
    : new SyncServerError('push_commit_invalid', message, { rejection: detail });
}

const REASON_TEXT: Record<PushRejectionReason, string> = {
  invalid_value: 'has a value the column type cannot hold',
  value_out_of_range: 'has a value out of range for the column type',
  value_too_long: 'has a value longer than the column allows',
  missing_value: 'has no value for a required column',
  missing_reference: 'references a row that does not exist',
  still_referenced: 'is still referenced by another row',
  unique_violation: 'duplicates the value of another row in a unique column',
  check_violation: 'breaks a rule (CHECK) of the table',
  rejected_by_rule: 'was refused by a rule (trigger) of the table',
};

function describe(d: PushRejectionDetail): string {
  const keyColumn = Object.keys(d.key)[0] ?? 'key';
  const keyText = d.key[keyColumn] ?? '';
  const shown = JSON.stringify(keyText.length > MAX_ECHOED_KEY ? `${keyText.slice(0, MAX_ECHOED_KEY)}…` : keyText);
  let text = `the bundle was refused: ${d.op} ${d.schema}.${d.table} ${keyColumn}=${shown} ${REASON_TEXT[d.reason]}`;
  if (d.columns.length > 0) text += ` (${d.columns.length === 1 ? 'column' : 'columns'} ${d.columns.join(', ')})`;
  if (d.references) {
    const refColumn = Object.keys(d.references.key)[0] ?? 'key';
    const ref = d.references.key[refColumn] ?? '';
    text += `: ${d.references.schema}.${d.references.table} ${refColumn}=${JSON.stringify(ref.length > MAX_ECHOED_KEY ? `${ref.slice(0, MAX_ECHOED_KEY)}…` : ref)}`;
  }
  return `${text}; fix or drop that change, retrying the same bundle cannot succeed`;
}

async function locate(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  sourceId: string,
  pushId: string,
  applySegment: ApplySegment,
): Promise<Located | null> {
  const session = (
    await tx.query<{ push_id: string; user_pk: string; source_bundle_id: string; wire_dialect: string | null }>(
      `SELECT p.push_id::text AS push_id, p.user_pk::text AS user_pk, p.source_bundle_id::text AS source_bundle_id, p.wire_dialect
         FROM sync.push_sessions p JOIN sync.user_state u ON u.user_pk = p.user_pk
        WHERE p.push_id = $1::uuid AND u.user_id = $2 AND p.source_id = $3`,
      [pushId.toLowerCase(), userId, sourceId],
    )
  ).rows[0];
  if (!session) return null;
  const dialect = storedDialect(session.wire_dialect);
  await tx.query('SET CONSTRAINTS ALL DEFERRED');
  await setBundleContext(tx, userId, session.user_pk, sourceId, Number(session.source_bundle_id));
  const segments = await tx.query<StagedSegment>(
    `SELECT s.start_ordinal::text AS start_ordinal, s.end_ordinal::text AS end_ordinal, s.table_id, s.op_code, s.columns
       FROM sync.push_session_segments s WHERE s.push_id = $1::uuid ORDER BY s.start_ordinal`,
    [session.push_id],
  );
  // Applies `seg`; the refusal, or null. `keep`: a segment that applies stays applied (later
  // segments build on it, as in the commit); probes are always undone.
  const attempt = async (seg: StagedSegment, keep: boolean): Promise<unknown> => {
    await tx.query('SAVEPOINT oversync_diagnose');
    let refusal: unknown = null;
    try {
      await applySegment(tx, ctx, userId, session.push_id, seg);
    } catch (err) {
      if (!isPushDataRefusal(err)) throw err;
      refusal = err;
    }
    if (refusal !== null || !keep) await tx.query('ROLLBACK TO SAVEPOINT oversync_diagnose');
    await tx.query('RELEASE SAVEPOINT oversync_diagnose');
    return refusal;
  };
  for (const seg of segments.rows) {
    if ((await attempt(seg, true)) === null) continue;
    // Halve the failing range until one row is left: the rows of a segment are independent (one
    // table and op, no key twice), so when the lower half applies the refusal is in the upper
    // half. About n rows applied in all, log2(n) statements.
    let lo = Number(seg.start_ordinal);
    let hi = Number(seg.end_ordinal);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await attempt({ ...seg, start_ordinal: String(lo), end_ordinal: String(mid) }, false)) !== null) hi = mid;
      else lo = mid + 1;
    }
    const rowErr = (await attempt({ ...seg, start_ordinal: String(hi), end_ordinal: String(hi) }, false)) as PgErrorFields | null;
    if (!rowErr) return null;
    return { dialect, detail: await rowDetail(tx, ctx, session.push_id, seg, hi, rowErr) };
  }
  // Every row applies on its own: the refusal is a deferred constraint, checked at the end (a
  // foreign key, or a DEFERRABLE unique constraint). The rows stay applied to be looked at.
  await tx.query('SAVEPOINT oversync_diagnose');
  try {
    await tx.query('SET CONSTRAINTS ALL IMMEDIATE');
    return null;
  } catch (err) {
    const code = pgErrorCode(err);
    if (code !== '23503' && code !== '23505') throw err;
    await tx.query('ROLLBACK TO SAVEPOINT oversync_diagnose');
    const fields = err as PgErrorFields;
    const detail =
      code === '23503'
        ? await foreignKeyDetail(tx, ctx, userId, session.push_id, fields)
        : await deferredUniqueDetail(tx, ctx, userId, session.push_id, fields);
    return detail ? { dialect, detail } : null;
  }
}

/**
 * The pushed row behind a DEFERRABLE unique constraint's refusal at the end: the first pushed
 * upsert of the table whose value in the constraint's columns another row of the user holds too
 * (both are in the table now, the commit's rows applied).
 */
async function deferredUniqueDetail(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  pushId: string,
  err: PgErrorFields,
): Promise<PushRejectionDetail | null> {
  const table = err.schema && err.table ? ctx.catalog.byName.get(`${err.schema}.${err.table}`) : undefined;
  if (!table || !err.constraint) return null;
  const columns = await constraintColumns(tx, table, err.constraint);
  if (columns.length === 0) return null;
  const scope = quoteIdent(SCOPE_COLUMN);
  const key = quoteIdent(table.keyColumn);
  const same = columns.map((c) => `o.${quoteIdent(c)} = t.${quoteIdent(c)}`).join(' AND ');
  const row = (
    await tx.query<{ key_text: string; op_code: number }>(
      `SELECT r.key_text, r.op_code
         FROM sync.push_session_rows r JOIN ${table.sqlName} t ON t.${scope} = $2 AND t.${key}::text = r.key_text
        WHERE r.push_id = $1::uuid AND r.table_id = $3 AND r.op_code <> 3
          AND EXISTS (SELECT 1 FROM ${table.sqlName} o WHERE o.${scope} = t.${scope} AND o.${key} <> t.${key} AND ${same})
        ORDER BY r.row_ordinal LIMIT 1`,
      [pushId, userId, table.tableId],
    )
  ).rows[0];
  if (!row) return null;
  return {
    schema: table.schema,
    table: table.table,
    key: { [table.keyColumn]: row.key_text },
    op: opName(row.op_code) as PushRejectionDetail['op'],
    columns,
    reason: 'unique_violation',
  };
}

async function stagedRow(tx: SqlSession, pushId: string, ordinal: number): Promise<{ key_text: string; op_code: number } | null> {
  const r = await tx.query<{ key_text: string; op_code: number }>(
    'SELECT key_text, op_code FROM sync.push_session_rows WHERE push_id = $1::uuid AND row_ordinal = $2',
    [pushId, ordinal],
  );
  return r.rows[0] ?? null;
}

async function rowDetail(
  tx: SqlSession,
  ctx: RuntimeContext,
  pushId: string,
  seg: StagedSegment,
  ordinal: number,
  err: PgErrorFields,
): Promise<PushRejectionDetail> {
  const table = ctx.catalog.byId.get(seg.table_id)!;
  const row = (await stagedRow(tx, pushId, ordinal))!;
  const reason = reasonOf(err.code)!;
  let columns: string[] = [];
  if (err.column && table.columnsByName.has(err.column)) columns = [err.column];
  else if (err.constraint && (reason === 'check_violation' || reason === 'unique_violation'))
    columns = await constraintColumns(tx, table, err.constraint);
  else if (err.code?.startsWith('22')) columns = await failingCastColumns(tx, table, seg, pushId, ordinal);
  return {
    schema: table.schema,
    table: table.table,
    key: { [table.keyColumn]: row.key_text },
    op: opName(row.op_code) as PushRejectionDetail['op'],
    columns,
    reason,
  };
}

/** The first column of the row whose value does not cast to its column type. */
async function failingCastColumns(
  tx: SqlSession,
  table: CatalogTable,
  seg: StagedSegment,
  pushId: string,
  ordinal: number,
): Promise<string[]> {
  for (const name of seg.columns) {
    const column = table.columnsByName.get(name);
    if (!column) continue;
    await tx.query('SAVEPOINT oversync_diagnose_cast');
    try {
      await tx.query(
        `SELECT ${decodeValueSql(column, 'r.payload')} FROM sync.push_session_rows r WHERE r.push_id = $1::uuid AND r.row_ordinal = $2`,
        [pushId, ordinal],
      );
      await tx.query('RELEASE SAVEPOINT oversync_diagnose_cast');
    } catch (err) {
      if (!pgErrorCode(err)?.startsWith('22')) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT oversync_diagnose_cast');
      await tx.query('RELEASE SAVEPOINT oversync_diagnose_cast');
      return [name];
    }
  }
  return [];
}

/** The business columns a table constraint (or unique index) covers, without the scope column. */
async function constraintColumns(tx: SqlSession, table: CatalogTable, constraint: string): Promise<string[]> {
  const r = await tx.query<{ name: string }>(
    `SELECT a.attname::text AS name
       FROM (SELECT c.conkey AS cols FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.conname = $2
             UNION ALL
             SELECT i.indkey::int2[] FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
              WHERE i.indrelid = $1::regclass AND ic.relname = $2 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = $1::regclass AND c.conname = $2)) k
       CROSS JOIN LATERAL unnest(k.cols) WITH ORDINALITY AS u(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = $1::regclass AND a.attnum = u.attnum
      ORDER BY u.ord`,
    [table.sqlName, constraint],
  );
  return r.rows.map((c) => c.name).filter((n) => n !== SCOPE_COLUMN);
}

/** The pushed row behind a deferred foreign-key refusal: a child whose parent is missing, or a deleted parent still referenced. */
async function foreignKeyDetail(
  tx: SqlSession,
  ctx: RuntimeContext,
  userId: string,
  pushId: string,
  err: PgErrorFields,
): Promise<PushRejectionDetail | null> {
  if (!err.constraint) return null;
  const fks = await tx.query<{
    child_schema: string;
    child_table: string;
    parent_schema: string;
    parent_table: string;
    child_cols: string[];
    parent_cols: string[];
  }>(
    `SELECT cn.nspname::text AS child_schema, cc.relname::text AS child_table, pn.nspname::text AS parent_schema, pc.relname::text AS parent_table,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS child_cols,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS parent_cols
       FROM pg_constraint c
       JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE c.contype = 'f' AND c.conname = $1`,
    [err.constraint],
  );
  for (const fk of fks.rows) {
    const child = ctx.catalog.byName.get(`${fk.child_schema}.${fk.child_table}`);
    const parent = ctx.catalog.byName.get(`${fk.parent_schema}.${fk.parent_table}`);
    if (!child || !parent) continue;
    const pairs = fk.child_cols.map((c, i) => [c, fk.parent_cols[i]!] as const).filter(([c]) => c !== SCOPE_COLUMN);
    if (pairs.length === 0) continue;
    const matches = pairs.map(([c, p]) => `p.${quoteIdent(p)} = c.${quoteIdent(c)}`).join(' AND ');
    const scope = quoteIdent(SCOPE_COLUMN);
    const refCol = pairs.find(([, p]) => p === parent.keyColumn)?.[0] ?? pairs[0]![0];
    // A pushed child row pointing at a parent that is not there.
    const orphan = await tx.query<{ key_text: string; op_code: number; ref: string | null }>(
      `SELECT r.key_text, r.op_code, c.${quoteIdent(refCol)}::text AS ref
         FROM sync.push_session_rows r JOIN ${child.sqlName} c ON c.${scope} = $2 AND c.${quoteIdent(child.keyColumn)}::text = r.key_text
        WHERE r.push_id = $1::uuid AND r.table_id = $3 AND r.op_code <> 3
          AND ${pairs.map(([c]) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ')}
          AND NOT EXISTS (SELECT 1 FROM ${parent.sqlName} p WHERE p.${scope} = c.${scope} AND ${matches})
        ORDER BY r.row_ordinal LIMIT 1`,
      [pushId, userId, child.tableId],
    );
    const o = orphan.rows[0];
    if (o) {
      return {
        schema: child.schema,
        table: child.table,
        key: { [child.keyColumn]: o.key_text },
        op: opName(o.op_code) as PushRejectionDetail['op'],
        columns: pairs.map(([c]) => c),
        reason: 'missing_reference',
        references: { schema: parent.schema, table: parent.table, key: { [parent.keyColumn]: o.ref ?? '' } },
      };
    }
    // A pushed parent DELETE (or key change) whose children remain.
    const referenced = await tx.query<{ key_text: string; op_code: number; child_key: string }>(
      `SELECT r.key_text, r.op_code, c.${quoteIdent(child.keyColumn)}::text AS child_key
         FROM sync.push_session_rows r
         JOIN ${child.sqlName} c ON c.${scope} = $2 AND c.${quoteIdent(refCol)}::text = r.key_text
        WHERE r.push_id = $1::uuid AND r.table_id = $3
          AND NOT EXISTS (SELECT 1 FROM ${parent.sqlName} p WHERE p.${scope} = c.${scope} AND ${matches})
        ORDER BY r.row_ordinal LIMIT 1`,
      [pushId, userId, parent.tableId],
    );
    const d = referenced.rows[0];
    if (d) {
      return {
        schema: parent.schema,
        table: parent.table,
        key: { [parent.keyColumn]: d.key_text },
        op: opName(d.op_code) as PushRejectionDetail['op'],
        columns: [],
        reason: 'still_referenced',
        references: { schema: child.schema, table: child.table, key: { [child.keyColumn]: d.child_key } },
      };
    }
  }
  return null;
}
