/**
 * Workaround for an engine gap: `sync()` joins a run already in flight, even when that run has
 * pushed already, so a write committed during a sync stays pending until the next periodic run
 * (30 s here). This watches the status and, when a sync has finished successfully yet changes
 * are still pending, asks for one more sync. It gives up after a few rounds that make no
 * progress (a failing push is the engine's backoff's business, not this loop's).
 */
import type { Database, SyncStatus } from '../../src/index.ts';

const FOLLOW_UP_DELAY_MS = 200;
const MAX_ROUNDS_WITHOUT_PROGRESS = 3;

/** Starts the follow-up; returns the function that stops it. */
export function syncPendingAfterEachRun(db: Database): () => void {
  let lastSyncSeen: number | null = null;
  let pendingAtLastFollowUp = Infinity;
  let roundsWithoutProgress = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const consider = (status: SyncStatus | null): void => {
    if (status === null || db.role !== 'leader' || timer !== null) return;
    const finishedNewRun = status.lastSyncAt !== null && status.lastSyncAt !== lastSyncSeen;
    if (!finishedNewRun || status.phase !== 'idle' || !status.online || status.userId === null || status.lastError !== null) return;
    lastSyncSeen = status.lastSyncAt;
    if (status.pendingCount === 0) {
      pendingAtLastFollowUp = Infinity;
      roundsWithoutProgress = 0;
      return;
    }
    roundsWithoutProgress = status.pendingCount < pendingAtLastFollowUp ? 0 : roundsWithoutProgress + 1;
    pendingAtLastFollowUp = status.pendingCount;
    if (roundsWithoutProgress >= MAX_ROUNDS_WITHOUT_PROGRESS) return;
    timer = setTimeout(() => {
      timer = null;
      db.sync.sync().catch(() => undefined); // failures are in the status and the error event
    }, FOLLOW_UP_DELAY_MS);
  };
  return db.sync.status.subscribe(consider);
}
