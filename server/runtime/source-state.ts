/**
 * Per-(user, source) state: the contiguity watermark of `source_bundle_id` and rotation lineage.
 */
import type { WireDialect } from '../../protocol/dialect.ts';
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

/** `409 source_retired` with the structured fields. */
function sourceRetiredError(sourceId: string, state: SourceState): SyncServerError {
  const extra: Record<string, unknown> = { source_id: sourceId };
  if (state.replacedBySourceId) extra.replaced_by_source_id = state.replacedBySourceId;
  return new SyncServerError('source_retired', `source ${sourceId} is retired${state.replacedBySourceId ? ` and replaced by ${state.replacedBySourceId}` : ''}`, extra);
}

/** The next `source_bundle_id` a source must use; throws `source_retired` for a retired source. */
export function expectedSourceBundleId(sourceId: string, state: SourceState | null): number {
  if (!state) return 1;
  if (state.state === 'retired') throw sourceRetiredError(sourceId, state);
  return state.maxCommittedSourceBundleId + 1;
}

/**
 * Records a committed bundle of the source (activating a reserved or new source). `dialect`, when
 * given, is remembered as the source's wire dialect (what its pulls and snapshots are served in);
 * server-originated writes pass none and leave it as it was.
 */
export async function recordSourceCommit(tx: SqlSession, userPk: string, sourceId: string, sourceBundleId: number, dialect?: WireDialect): Promise<void> {
  await tx.query(
    `INSERT INTO sync.source_state (user_pk, source_id, state, max_committed_source_bundle_id, wire_dialect) VALUES ($1, $2, 'active', $3, $4)
     ON CONFLICT (user_pk, source_id) DO UPDATE SET state = 'active', max_committed_source_bundle_id = EXCLUDED.max_committed_source_bundle_id,
       wire_dialect = coalesce(EXCLUDED.wire_dialect, sync.source_state.wire_dialect)`,
    [userPk, sourceId, sourceBundleId, dialect ?? null],
  );
}

/** Sets the transaction-local bundle context the capture triggers require. */
export async function setBundleContext(tx: SqlSession, userId: string, userPk: string, sourceId: string, sourceBundleId: number): Promise<void> {
  await tx.query(
    `SELECT set_config('oversync.bundle_user_id', $1, true), set_config('oversync.bundle_user_pk', $2, true),
            set_config('oversync.bundle_source_id', $3, true), set_config('oversync.bundle_source_bundle_id', $4, true),
            sync.ensure_capture_stage()`,
    [userId, userPk, sourceId, String(sourceBundleId)],
  );
}
