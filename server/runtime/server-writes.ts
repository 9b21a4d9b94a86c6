/**
 * Server-originated writes: the host changes registered tables inside `fn`, and every captured
 * effect becomes one bundle of the writer source, exactly like a pushed bundle.
 */
import type { CommittedBundleMeta } from '../../protocol/wire.ts';
import type { SqlSession } from '../database/types.ts';
import { finalizeCapturedBundle } from './bundle-finalize.ts';
import type { RuntimeContext } from './context.ts';
import { ScopeCode, ensureUserScope, markInitialized } from './scope-state.ts';
import { expectedSourceBundleId, readSourceState, recordSourceCommitSql, setBundleContext } from './source-state.ts';
import { SyncServerError } from './sync-error.ts';
import { inUserTransaction } from './transactions.ts';

/** Runs `fn` as one captured bundle of `writerSourceId` for `userId`; auto-initializes an uninitialized scope. */
export async function writeAsUser<T>(
  ctx: RuntimeContext,
  userId: string,
  writerSourceId: string,
  fn: (tx: SqlSession) => Promise<T>,
): Promise<{ result: T; bundle: CommittedBundleMeta }> {
  if (typeof userId !== 'string' || userId.trim() === '')
    throw new SyncServerError('invalid_request', 'writeAs: userId must be a non-empty string');
  if (typeof writerSourceId !== 'string' || writerSourceId.trim() === '')
    throw new SyncServerError('invalid_request', 'writeAs: writerSourceId must be a non-empty string');
  const written = await inUserTransaction(ctx.db, userId, async (tx) => {
    const scope = await ensureUserScope(tx, userId);
    if (scope.state === ScopeCode.initializing) {
      throw new SyncServerError(
        'scope_initializing',
        `scope of ${userId} is being initialized by source ${scope.initializerSourceId}; retry after the lease`,
      );
    }
    if (scope.state === ScopeCode.uninitialized) await markInitialized(tx, scope.userPk, writerSourceId);
    const sourceBundleId = expectedSourceBundleId(writerSourceId, await readSourceState(tx, scope.userPk, writerSourceId, true));
    await setBundleContext(tx, userId, scope.userPk, writerSourceId, sourceBundleId);
    await tx.query('SET CONSTRAINTS ALL DEFERRED');
    const result = await fn(tx);
    const bundle = await finalizeCapturedBundle(
      tx,
      ctx.catalog,
      { userId, userPk: scope.userPk, sourceId: writerSourceId, sourceBundleId, canonicalRequestHash: null },
      ctx.retention,
      {
        // The writer source's new watermark, in the statement logging the bundle (no dialect: kept).
        alsoWhenLogged: {
          sql: (first) => `recorded AS (${recordSourceCommitSql(first)})`,
          params: [scope.userPk, writerSourceId, sourceBundleId, null],
        },
      },
    );
    if (!bundle) throw new SyncServerError('push_commit_invalid', 'writeAs: the write captured no change to a registered table');
    return { result, bundle };
  });
  ctx.announceCommitted(userId, written.bundle);
  return written;
}

/** Raises a user's retained floor to `floor` (at most the latest bundle) and deletes history at or below it. */
export async function pruneUserHistory(ctx: RuntimeContext, userId: string, floor: number): Promise<void> {
  if (!Number.isSafeInteger(floor) || floor < 0)
    throw new SyncServerError('invalid_request', 'pruneHistory: floor must be a non-negative integer');
  await inUserTransaction(ctx.db, userId, async (tx) => {
    const scope = await ensureUserScope(tx, userId);
    if (floor > scope.latestBundleSeq) {
      throw new SyncServerError('invalid_request', `pruneHistory: floor ${floor} is above the latest bundle ${scope.latestBundleSeq}`);
    }
    if (floor <= scope.retainedFloor) return;
    await tx.query('UPDATE sync.user_state SET retained_bundle_floor = $2 WHERE user_pk = $1', [scope.userPk, floor]);
    await tx.query('DELETE FROM sync.bundle_rows WHERE user_pk = $1 AND bundle_seq <= $2', [scope.userPk, floor]);
    await tx.query('DELETE FROM sync.bundle_log WHERE user_pk = $1 AND bundle_seq <= $2', [scope.userPk, floor]);
  });
}
