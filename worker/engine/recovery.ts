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
  bindUser,
  countPending,
  CONNECT_OWED,
} from './metadata.ts';
import type { OutboxHeader } from './metadata.ts';
import { connectAs } from './lifecycle.ts';
import { pullToStable } from './pull.ts';
import { pushPending } from './push.ts';
import { rebuildFromSnapshot } from './snapshot.ts';
import type { PullResult, PushResult } from './types.ts';

const RECOVERY_CODES = new Set<string>(SOURCE_RECOVERY_CODES);
/** The server no longer sees this device's seed lease, or an initialized scope: connect again. */
const RECONNECT_CODES = new Set(['initialization_stale', 'initialization_expired', 'scope_uninitialized']);

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

/**
 * Connects again as the attached user, as attach() would, without the app: the seed lease lapsed
 * or was taken over (`initialization_stale` / `_expired`, or a create refused for carrying it once
 * the scope is initialized), the scope is not initialized although this device is attached (a
 * lease that lapsed before anything was seeded), or the lease has nothing left to seed (every
 * pending row cancelled out). Until the answer is acted on the device owes a connect
 * ({@link CONNECT_OWED}): a lost answer (the server may now hold a lease for this source that the
 * device does not know) or another device's lease brings its next push or pull back here first.
 * Pending rows are kept: as the seed (`initialize_local`), or as intent over another device's seed
 * (`remote_authoritative`). Another device holding the lease is `scope_initializing`, retried.
 */
async function reconnect(ctx: EngineContext, userId: string): Promise<void> {
  applyTransaction(ctx.db, () => {
    bindUser(ctx.db, userId, CONNECT_OWED);
    dropOutboxSeedLease(ctx.db);
  });
  const res = await connectAs(ctx, userId, 'keep');
  if (res.status === 'retry_later')
    throw new SyncError(
      'scope_initializing',
      `another device is uploading this account's first data; sync again in ${res.retryAfterSeconds} s`,
      409,
      { retry_after_seconds: res.retryAfterSeconds },
    );
}

/** Connects first when a connect is owed (see {@link reconnect}). */
async function payOwedConnect(ctx: EngineContext, userId: string): Promise<void> {
  if (readAttachment(ctx.db).pendingInitializationId === CONNECT_OWED) await reconnect(ctx, userId);
}

/** After a push with nothing to send: true when the seed lease has nothing left to seed (every pending row cancelled out). */
function idleSeedLease(ctx: EngineContext): boolean {
  return readAttachment(ctx.db).pendingInitializationId !== null && countPending(ctx.db) === 0;
}

/** Pushes pending changes for `userId` (capabilities known), recovering what a snapshot or a new source settles. */
export async function pushWithRecovery(ctx: EngineContext, userId: string): Promise<PushResult> {
  await payOwedConnect(ctx, userId);
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
    const out = await pushPending(ctx, userId);
    // A lease with no row to seed would hold the scope initializing (and every pull) until it expires.
    if (out.outcome === 'no_change' && idleSeedLease(ctx)) await reconnect(ctx, userId);
    return out;
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
    // A create still carrying a lease the scope no longer has (`push_session_invalid`, "must be
    // absent once initialized": our seed committed but its answer was lost, or another device
    // seeded meanwhile) is settled by connecting again too.
    if (RECONNECT_CODES.has(e.code) || (e.code === 'push_session_invalid' && readAttachment(ctx.db).pendingInitializationId !== null)) {
      await reconnect(ctx, userId);
      ctx.setPhase('pushing');
      return await pushPending(ctx, userId);
    }
    throw e;
  }
}

/** Pulls to the stable ceiling (capabilities known), rebuilding from a snapshot where a pull cannot go on. */
export async function pullWithRecovery(ctx: EngineContext, userId: string): Promise<PullResult> {
  await payOwedConnect(ctx, userId);
  try {
    return await pullOrRebuild(ctx);
  } catch (e) {
    if (!(e instanceof SyncError && e.code === 'scope_uninitialized')) throw e;
    // The scope lost its initialization (a seed lease that lapsed with nothing uploaded): connect
    // again; a new lease makes this device the one to seed before anything can be pulled.
    await reconnect(ctx, userId);
    if (readAttachment(ctx.db).pendingInitializationId !== null) await pushWithRecovery(ctx, userId);
    ctx.setPhase('pulling');
    return pullOrRebuild(ctx);
  }
}

async function pullOrRebuild(ctx: EngineContext): Promise<PullResult> {
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
