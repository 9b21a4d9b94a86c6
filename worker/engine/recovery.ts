/**
 * Recovery routing around the push and pull steps: which failure or durable flag leads to which
 * transition (metadata.ts) and snapshot rebuild. A pending source recovery is finished first; a
 * required rebuild runs before anything else is pushed or pulled; push and pull errors that a
 * snapshot settles are turned into one here, and the rest go back to the caller.
 */
import { SOURCE_RECOVERY_CODES } from '../../protocol/index.ts';
import type { SourceReplacementReason } from '../../protocol/index.ts';
import { applyTransaction } from './capture.ts';
import type { EngineContext } from './context.ts';
import { SyncError } from './errors.ts';
import {
  advanceNextSourceBundleId,
  clearOutbox,
  dropOutboxSeedLease,
  readAttachment,
  readOperation,
  readOutboxHeader,
  requireRebuild,
  startSourceRecovery,
  unbindAfterSeedLeaseLost,
} from './metadata.ts';
import type { OutboxHeader } from './metadata.ts';
import { pullToStable } from './pull.ts';
import { pushPending } from './push.ts';
import { rebuildFromSnapshot } from './snapshot.ts';
import type { PullResult, PushResult } from './types.ts';

const RECOVERY_CODES = new Set<string>(SOURCE_RECOVERY_CODES);

/** Rebuilds the synced tables from a snapshot, keeping the source id and pending local changes. */
export async function rebuildKeepingSource(ctx: EngineContext): Promise<PullResult> {
  ctx.setPhase('hydrating');
  const out = await rebuildFromSnapshot(ctx, { localIntents: 'keep' });
  return { outcome: 'applied_snapshot', checkpoint: out.snapshotBundleSeq, bundlesApplied: 0, rowsApplied: out.rowCount };
}

/** Finishes a durable source recovery (rotated rebuild) if one is pending. */
export async function resumeSourceRecovery(ctx: EngineContext): Promise<void> {
  const op = readOperation(ctx.db);
  if (op.kind !== 'source_recovery') return;
  ctx.setPhase('recovering');
  await rebuildFromSnapshot(ctx, {
    localIntents: 'keep',
    replacement: {
      newSourceId: op.replacementSourceId ?? ctx.newSourceId(),
      reason: (op.reason ?? 'source_retired') as SourceReplacementReason,
    },
  });
}

/** Our committed bundle is not replayed: move past its source bundle id and empty the outbox. */
function skipCommittedBundle(ctx: EngineContext, header: OutboxHeader, rebuild: boolean): void {
  applyTransaction(ctx.db, () => {
    advanceNextSourceBundleId(ctx.db, header.sourceId, header.userId, header.sourceBundleId + 1);
    clearOutbox(ctx.db);
    if (rebuild) requireRebuild(ctx.db);
  });
}

/** Pushes pending changes for `userId` (capabilities known), recovering what a snapshot or a new source settles. */
export async function pushWithRecovery(ctx: EngineContext, userId: string): Promise<PushResult> {
  await resumeSourceRecovery(ctx);
  if (readAttachment(ctx.db).rebuildRequired) {
    const header = readOutboxHeader(ctx.db);
    // The server committed our bundle but we must not replay it (it is not provably ours):
    // take the server's state from a snapshot instead and move past that source bundle id.
    if (header.state === 'committed_remote') skipCommittedBundle(ctx, header, false);
    await rebuildKeepingSource(ctx);
  }
  ctx.setPhase('pushing');
  try {
    return await pushPending(ctx, userId);
  } catch (e) {
    if (!(e instanceof SyncError)) throw e;
    const header = readOutboxHeader(ctx.db);
    if (e.code === 'history_pruned' && header.state === 'committed_remote') {
      // Our bundle committed but its replay rows are gone: skip past it and rebuild.
      skipCommittedBundle(ctx, header, true);
      await rebuildKeepingSource(ctx);
      return { outcome: 'committed', bundleSeq: header.remoteBundleSeq, rowCount: header.rowCount, conflicts: 0 };
    }
    if (RECOVERY_CODES.has(e.code)) {
      const replacedBy = (e.detail as { replaced_by_source_id?: unknown } | undefined)?.replaced_by_source_id;
      startSourceRecovery(ctx.db, userId, e.code, typeof replacedBy === 'string' && replacedBy ? replacedBy : ctx.newSourceId());
      await resumeSourceRecovery(ctx);
      return await pushPending(ctx, userId);
    }
    if (e.code === 'initialization_stale' || e.code === 'initialization_expired') {
      // The seed lease is gone: become anonymous again (data and outbox kept); attach again.
      unbindAfterSeedLeaseLost(ctx.db);
      dropOutboxSeedLease(ctx.db);
      throw new SyncError('initialization_lease_invalid', `${e.message}; call attach() again`, e.status);
    }
    throw e;
  }
}

/** Pulls to the stable ceiling (capabilities known), rebuilding from a snapshot where a pull cannot go on. */
export async function pullWithRecovery(ctx: EngineContext): Promise<PullResult> {
  await resumeSourceRecovery(ctx);
  if (readAttachment(ctx.db).rebuildRequired) {
    ctx.setPhase('pulling');
    return rebuildKeepingSource(ctx);
  }
  try {
    // The first page's request goes out within this call; the phase (paying an owed status) after it.
    const pulling = pullToStable(ctx);
    ctx.setPhase('pulling');
    const out = await pulling;
    // A pulled child refused a pending local delete (RESTRICT): the snapshot brings the parent back.
    if (readAttachment(ctx.db).rebuildRequired) return rebuildKeepingSource(ctx);
    return {
      outcome: out.bundles > 0 ? 'applied_incremental' : 'already_at_target',
      checkpoint: out.checkpoint,
      bundlesApplied: out.bundles,
      rowsApplied: out.rows,
    };
  } catch (e) {
    if (e instanceof SyncError && (e.code === 'history_pruned' || e.code === 'checkpoint_ahead')) {
      requireRebuild(ctx.db);
      return rebuildKeepingSource(ctx);
    }
    throw e;
  }
}
