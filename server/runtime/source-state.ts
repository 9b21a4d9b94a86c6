/**
 * Per-(user, source) state: the contiguity watermark of `source_bundle_id` and rotation lineage.
 */
import type { SqlSession } from '../database/types.ts';
import { SyncServerError } from './sync-error.ts';

/** A source's stored state. */
interface SourceState {
  state: 'active' | 'reserved' | 'retired';
  maxCommittedSourceBundleId: number;
  replacedBySourceId: string;
}

/** Reads a source's state (null when never seen). `forUpdate` locks the row. */
export async function readSourceState(tx: SqlSession, userPk: string, sourceId: string, forUpdate = false): Promise<SourceState | null> {
  const r = await tx.query<{ state: SourceState['state']; max: string; replaced_by_source_id: string }>(
    `SELECT state, max_committed_source_bundle_id::text AS max, replaced_by_source_id
       FROM sync.source_state WHERE user_pk = $1 AND source_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [userPk, sourceId],
  );
  const row = r.rows[0];
  return row ? { state: row.state, maxCommittedSourceBundleId: Number(row.max), replacedBySourceId: row.replaced_by_source_id } : null;
}

/** Columns of `sync.source_state` aliased `alias`, for a statement that reads it on the way (see {@link sourceStateOfRow}). */
export function sourceStateColumns(alias: string): string {
  return `${alias}.state AS source_state, ${alias}.max_committed_source_bundle_id::text AS source_max, ${alias}.replaced_by_source_id AS source_replaced_by`;
}

/** The row shape {@link sourceStateColumns} reads (all null when the source has no state). */
export interface SourceStateColumns {
  source_state: SourceState['state'] | null;
  source_max: string | null;
  source_replaced_by: string | null;
}

/** The source's state from {@link sourceStateColumns} (null when never seen). */
export function sourceStateOfRow(row: SourceStateColumns): SourceState | null {
  return row.source_state === null
    ? null
    : { state: row.source_state, maxCommittedSourceBundleId: Number(row.source_max), replacedBySourceId: row.source_replaced_by ?? '' };
}

/** `409 source_retired` with the structured fields. */
function sourceRetiredError(sourceId: string, state: SourceState): SyncServerError {
  const extra: Record<string, unknown> = { source_id: sourceId };
  if (state.replacedBySourceId) extra.replaced_by_source_id = state.replacedBySourceId;
  return new SyncServerError(
    'source_retired',
    `source ${sourceId} is retired${state.replacedBySourceId ? ` and replaced by ${state.replacedBySourceId}` : ''}`,
    extra,
  );
}

/** The next `source_bundle_id` a source must use; throws `source_retired` for a retired source. */
export function expectedSourceBundleId(sourceId: string, state: SourceState | null): number {
  if (!state) return 1;
  if (state.state === 'retired') throw sourceRetiredError(sourceId, state);
  return state.maxCommittedSourceBundleId + 1;
}

/**
 * Records a committed bundle of the source (activating a reserved or new source): a statement
 * usable as a data-modifying CTE of a larger one, its parameters numbered from `$first`: user_pk,
 * source_id, source_bundle_id, and the source's wire dialect (what its pulls and snapshots are
 * served in), or null to leave it as it was (server-originated writes).
 */
export function recordSourceCommitSql(first: number): string {
  const [userPk, sourceId, sourceBundleId, dialect] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  return `INSERT INTO sync.source_state (user_pk, source_id, state, max_committed_source_bundle_id, wire_dialect) VALUES (${userPk}, ${sourceId}, 'active', ${sourceBundleId}, ${dialect})
     ON CONFLICT (user_pk, source_id) DO UPDATE SET state = 'active', max_committed_source_bundle_id = EXCLUDED.max_committed_source_bundle_id,
       wire_dialect = coalesce(EXCLUDED.wire_dialect, sync.source_state.wire_dialect)`;
}

/** Sets the transaction-local bundle context the capture triggers require. */
export async function setBundleContext(
  tx: SqlSession,
  userId: string,
  userPk: string,
  sourceId: string,
  sourceBundleId: number,
): Promise<void> {
  await tx.query(`SELECT ${bundleContextSql(1)}`, bundleContextParams(userId, userPk, sourceId, sourceBundleId));
}

/**
 * The select list that sets the bundle context, its parameters numbered from `$first` (see
 * {@link bundleContextParams}), for a statement that does it on the way.
 */
export function bundleContextSql(first: number): string {
  return bundleContextSqlOf(`$${first}`, `$${first + 1}`, `$${first + 2}`, `$${first + 3}`);
}

/** The select list that sets the bundle context from SQL text expressions (user id, user_pk, source id, source_bundle_id). */
export function bundleContextSqlOf(userId: string, userPk: string, sourceId: string, sourceBundleId: string): string {
  return `set_config('oversync.bundle_user_id', ${userId}, true), set_config('oversync.bundle_user_pk', ${userPk}, true),
            set_config('oversync.bundle_source_id', ${sourceId}, true), set_config('oversync.bundle_source_bundle_id', ${sourceBundleId}, true),
            sync.ensure_capture_stage()`;
}

/** The parameters of {@link bundleContextSql}, in order. */
export function bundleContextParams(userId: string, userPk: string, sourceId: string, sourceBundleId: number): string[] {
  return [userId, userPk, sourceId, String(sourceBundleId)];
}
