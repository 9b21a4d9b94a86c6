/**
 * Turning what the capture triggers staged in the current transaction into one committed bundle:
 * normalize per (table, key), allocate the user's next gapless bundle_seq, store the wire rows and
 * row versions, hash, log and apply retention (watchers are told after the commit, see
 * `announceCommitted` in context.ts). Everything runs in the caller's
 * transaction, so a rollback leaves no bundle and no sequence gap.
 */
import type { WireDialect } from '../../protocol/dialect.ts';
import type { CommittedBundleMeta } from '../../protocol/wire.ts';
import type { SqlQueryResult, SqlSession } from '../database/types.ts';
import { hashStoredRows } from './bundle-hash.ts';
import type { StoredRowText } from './bundle-hash.ts';
import type { Catalog } from './catalog.ts';
import { goJsonHashStoredRows } from './numbers-dialect.ts';
import { pgErrorCode } from './sync-error.ts';
import { NUMBERS_DIALECT, STRINGS_DIALECT } from './wire-dialect.ts';

/** Retention policy: keep `retainedBundlesPerUser` bundles, move the floor at most `pruneBatchSize` per commit. */
export interface RetentionPolicy {
  retainedBundlesPerUser: number;
  pruneBatchSize: number;
}

/**
 * Data-modifying CTEs (`name AS (statement), ...`) that run in the statement logging the bundle,
 * saving the caller a round trip; `sql` numbers its parameters from `first`.
 */
export interface LogStatementCtes {
  sql: (first: number) => string;
  params: readonly unknown[];
}

/** Identity of the bundle being finalized. */
interface BundleIdentity {
  userId: string;
  userPk: string;
  sourceId: string;
  sourceBundleId: number;
  canonicalRequestHash: string | null;
  /** Dialect of the pushing peer: `bundle_hash` is stored in its material (strings when absent). */
  dialect?: WireDialect;
}

/** Normalization when some key was touched more than once: first op, last op, last image per key. */
const NORMALIZE_REPEATED = `
  SELECT table_id, key_text,
         CASE WHEN op_code = 3 THEN 3 WHEN first_op = 1 THEN 1 ELSE 2 END AS op_code,
         CASE WHEN op_code = 3 THEN NULL ELSE payload END AS payload,
         (row_number() OVER (ORDER BY first_ord, table_id, key_text)) - 1 AS row_ordinal
    FROM (SELECT table_id, key_text, op_code, payload,
                 first_value(op_code) OVER (PARTITION BY table_id, key_text ORDER BY capture_ordinal) AS first_op,
                 min(capture_ordinal) OVER (PARTITION BY table_id, key_text) AS first_ord,
                 row_number() OVER (PARTITION BY table_id, key_text ORDER BY capture_ordinal DESC) AS rn
            FROM pg_temp.oversync_capture_stage) staged
   WHERE rn = 1 AND NOT (first_op = 1 AND op_code = 3)`;

/** Normalization when every key was touched once (the usual push): the captured rows as they are. */
const NORMALIZE_UNIQUE = `
  SELECT table_id, key_text, op_code, payload, (row_number() OVER (ORDER BY capture_ordinal)) - 1 AS row_ordinal
    FROM pg_temp.oversync_capture_stage`;

/** Row versions of the bundle's keys: any key may already have one. */
const UPSERT_ROW_STATE = `
  INSERT INTO sync.row_state (user_pk, table_id, key_text, bundle_seq, deleted)
  SELECT $1, n.table_id, n.key_text, seq.bundle_seq, n.op_code = 3 FROM norm n, seq
  ON CONFLICT (user_pk, table_id, key_text) DO UPDATE SET bundle_seq = EXCLUDED.bundle_seq, deleted = EXCLUDED.deleted`;

/**
 * Row versions of a bundle that only inserts rows, whose keys usually have none yet: a plain
 * INSERT costs about half of the upsert (no speculative insertion), and key order keeps the index
 * writes local. A key that has one (a tombstone) fails it with a unique violation, see
 * finalizeCapturedBundle.
 */
const INSERT_ROW_STATE = `
  INSERT INTO sync.row_state (user_pk, table_id, key_text, bundle_seq, deleted)
  SELECT $1, n.table_id, n.key_text, seq.bundle_seq, false FROM norm n, seq ORDER BY n.table_id, n.key_text`;

/**
 * One statement: normalize, allocate the bundle_seq, store bundle rows and row versions, empty
 * the stage, and return the rows with their payloads as stored text (hashed in Node from that
 * text, see hashStoredRows; no JSON is parsed for canonical payloads).
 */
function finalizeSql(normalize: string, rowState: string): string {
  return `
WITH norm AS MATERIALIZED (${normalize}
), seq AS (
  UPDATE sync.user_state SET next_bundle_seq = next_bundle_seq + 1
   WHERE user_pk = $1 AND EXISTS (SELECT 1 FROM norm)
  RETURNING next_bundle_seq - 1 AS bundle_seq
), ins AS (
  INSERT INTO sync.bundle_rows (user_pk, bundle_seq, row_ordinal, table_id, key_text, op_code, payload)
  SELECT $1, seq.bundle_seq, n.row_ordinal, n.table_id, n.key_text, n.op_code, n.payload FROM norm n, seq
), rs AS (${rowState}
), cleared AS (
  -- Also emptied at commit; cleared now so a second bundle in one transaction starts empty.
  DELETE FROM pg_temp.oversync_capture_stage
)
-- In norm's order, which is row_ordinal order (the caller checks): no second sort of the rows.
-- The bundle_seq comes once, with row 0.
SELECT CASE WHEN n.row_ordinal = 0 THEN seq.bundle_seq::text END AS bundle_seq, n.row_ordinal::int AS row_ordinal, n.table_id, n.key_text, n.op_code, n.payload::text AS payload
  FROM norm n, seq`;
}

const FINALIZE_UNIQUE_SQL = finalizeSql(NORMALIZE_UNIQUE, UPSERT_ROW_STATE);
const FINALIZE_INSERTS_SQL = finalizeSql(NORMALIZE_UNIQUE, INSERT_ROW_STATE);
const FINALIZE_REPEATED_SQL = finalizeSql(NORMALIZE_REPEATED, UPSERT_ROW_STATE);
// The finalize statement materializes, sorts and returns every captured row: below ~16 MB of
// work_mem a 10,000-row bundle spills them to temporary files. Only ever raised, per transaction,
// and before the savepoint, so a rollback to it keeps the setting.
// A stage of INSERTs only cannot repeat a key (each table's (scope, key) unique index, one user
// per bundle), so its key grouping is skipped (the InitPlan runs only when evaluated).
// The savepoint is set in the same round trip (a parameterless script answers with its last
// statement's rows): it serves a stage of INSERTs only (see finalizeCapturedBundle) and costs
// nothing otherwise.
const STAGE_SHAPE_SQL = `SELECT CASE WHEN pg_size_bytes(current_setting('work_mem')) < 16777216 THEN set_config('work_mem', '16MB', true) END;
  SAVEPOINT oversync_finalize; SELECT s.inserts_only,
  NOT s.inserts_only AND EXISTS (SELECT 1 FROM pg_temp.oversync_capture_stage GROUP BY table_id, key_text HAVING count(*) > 1) AS repeated
  FROM (SELECT NOT EXISTS (SELECT 1 FROM pg_temp.oversync_capture_stage WHERE op_code <> 1) AS inserts_only) s`;
const HAS_REPEATED_KEYS_SQL = `SELECT EXISTS (SELECT 1 FROM pg_temp.oversync_capture_stage GROUP BY table_id, key_text HAVING count(*) > 1) AS repeated`;

/** What a caller of {@link finalizeCapturedBundle} adds to it. */
export interface FinalizeHooks {
  /**
   * Runs (and may throw) before row versions are overwritten, only when some captured key may
   * already have one: a push that deferred its conflict check for inserted keys verifies them
   * there (see push-sessions.ts).
   */
  beforeRowStateUpsert?: () => Promise<void>;
  /** Issues a statement that does not depend on the hash; it runs in PostgreSQL while the rows are hashed in Node. */
  whileHashing?: () => Promise<unknown>;
  /** CTEs run in the statement logging the bundle. */
  alsoWhenLogged?: LogStatementCtes;
  /**
   * The caller checked the conflicts of every captured key that may have a row version (so
   * `beforeRowStateUpsert` is not needed) and raised work_mem as it needs: the stage is finalized
   * by one statement, without reading its shape first (for small bundles: the general statement
   * costs them no more than the one a shape would pick).
   */
  conflictsChecked?: boolean;
}

/**
 * Finalizes the captured bundle of the current transaction. Returns null (and clears the stage)
 * when the transaction captured no effective change.
 */
export async function finalizeCapturedBundle(
  tx: SqlSession,
  catalog: Catalog,
  id: BundleIdentity,
  retention: RetentionPolicy,
  { beforeRowStateUpsert, whileHashing, alsoWhenLogged, conflictsChecked }: FinalizeHooks = {},
): Promise<CommittedBundleMeta | null> {
  let r: SqlQueryResult<StoredRowText & { bundle_seq: string | null; row_ordinal: number }>;
  // (The normalization of repeated keys gives a stage without any the rows it has, in its order.)
  const shape = conflictsChecked ? null : (await tx.query<{ repeated: boolean; inserts_only: boolean }>(STAGE_SHAPE_SQL)).rows[0]!;
  if (shape === null) {
    r = await tx.query(FINALIZE_REPEATED_SQL, [id.userPk]);
  } else if (shape.repeated || !shape.inserts_only) {
    await beforeRowStateUpsert?.();
    r = await tx.query(shape.repeated ? FINALIZE_REPEATED_SQL : FINALIZE_UNIQUE_SQL, [id.userPk]);
  } else {
    // Inserted keys normally have no row version yet; the savepoint (set with the shape query)
    // takes the statement back when one has (a tombstone of an earlier delete), and the upsert
    // runs instead.
    try {
      r = await tx.query(FINALIZE_INSERTS_SQL, [id.userPk]);
    } catch (err) {
      if (
        pgErrorCode(err) !== '23505' ||
        !/row_state_pkey/.test(String((err as { constraint?: string }).constraint ?? (err as Error).message))
      )
        throw err;
      await tx.query('ROLLBACK TO SAVEPOINT oversync_finalize');
      await beforeRowStateUpsert?.();
      // (The shape check assumed no repeated key; checked here, where it costs nothing extra.)
      const repeated = (await tx.query<{ repeated: boolean }>(HAS_REPEATED_KEYS_SQL)).rows[0]!.repeated;
      r = await tx.query(repeated ? FINALIZE_REPEATED_SQL : FINALIZE_UNIQUE_SQL, [id.userPk]);
    }
  }
  if (r.rows.length === 0) return null;
  const rows = r.rows;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]!.row_ordinal !== i) {
      rows.sort((a, b) => a.row_ordinal - b.row_ordinal);
      break;
    }
  }
  if (rows[0]!.bundle_seq === null) throw new Error('finalize: the bundle has no row 0');
  const bundleSeq = Number(rows[0]!.bundle_seq);
  const rowCount = rows.length;
  // The caller's statement runs in PostgreSQL while Node hashes (its error, if any, is kept for after).
  const overlapped = whileHashing?.().then(
    () => null,
    (err: unknown) => ({ err }),
  );
  const dialect = id.dialect ?? STRINGS_DIALECT;
  const { bundleHash, byteCount } =
    dialect === NUMBERS_DIALECT ? goJsonHashStoredRows(catalog, rows, bundleSeq) : hashStoredRows(catalog, rows, bundleSeq);
  const failed = await overlapped;
  if (failed) throw failed.err;
  // Logged with the caller's CTEs in one statement. Watchers are not notified from this
  // transaction: a NOTIFY makes PostgreSQL serialize the commits of every notifying transaction
  // (of every database of the cluster) on one lock held through their WAL flush; the caller
  // announces the bundle once committed (RuntimeContext.announceCommitted).
  await tx.query(
    `WITH logged AS (
       INSERT INTO sync.bundle_log (user_pk, bundle_seq, source_id, source_bundle_id, row_count, byte_count, bundle_hash, canonical_request_hash, wire_dialect)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING bundle_seq
     )${alsoWhenLogged ? `, ${alsoWhenLogged.sql(10)}` : ''} SELECT bundle_seq FROM logged`,
    [
      id.userPk,
      bundleSeq,
      id.sourceId,
      id.sourceBundleId,
      rowCount,
      byteCount,
      bundleHash,
      id.canonicalRequestHash,
      dialect,
      ...(alsoWhenLogged?.params ?? []),
    ],
  );
  await applyRetention(tx, id.userPk, bundleSeq, retention);
  const meta: CommittedBundleMeta = {
    bundle_seq: bundleSeq,
    source_id: id.sourceId,
    source_bundle_id: id.sourceBundleId,
    row_count: rowCount,
    bundle_hash: bundleHash,
  };
  if (id.canonicalRequestHash) meta.canonical_request_hash = id.canonicalRequestHash;
  return meta;
}

/** Moves the retained floor toward `latest - retained` by at most one batch and deletes history at or below it. */
async function applyRetention(tx: SqlSession, userPk: string, latest: number, policy: RetentionPolicy): Promise<void> {
  const target = latest - policy.retainedBundlesPerUser;
  if (target <= 0) return;
  const r = await tx.query<{ floor: string }>(
    `UPDATE sync.user_state SET retained_bundle_floor = LEAST($2::bigint, retained_bundle_floor + $3::bigint)
      WHERE user_pk = $1 AND retained_bundle_floor < $2::bigint RETURNING retained_bundle_floor::text AS floor`,
    [userPk, target, policy.pruneBatchSize],
  );
  if (r.rows.length === 0) return;
  await deleteHistoryAtOrBelow(tx, userPk, Number(r.rows[0]!.floor));
}

/** Deletes retained bundles at or below `floor` (row versions and tombstones stay). */
async function deleteHistoryAtOrBelow(tx: SqlSession, userPk: string, floor: number): Promise<void> {
  await tx.query('DELETE FROM sync.bundle_rows WHERE user_pk = $1 AND bundle_seq <= $2', [userPk, floor]);
  await tx.query('DELETE FROM sync.bundle_log WHERE user_pk = $1 AND bundle_seq <= $2', [userPk, floor]);
}
