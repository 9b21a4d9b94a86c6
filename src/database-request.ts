/**
 * The calls a tab can make on a database, in a form that can be posted to the leader tab. The
 * leader runs them on its worker whether they came from its own tab or from a follower.
 */
import type { WriteUnit } from '../worker/database/group-commit.ts';
import type { SqlParams } from '../worker/database/types.ts';

/** Sync operations a tab can ask the leader to run. */
export type SyncMethod = 'attach' | 'detach' | 'syncThenDetach' | 'sync' | 'pushPending' | 'pullToStable' | 'hydrate' | 'status';

/** One database call. */
export type DatabaseRequest =
  | { readonly op: 'query'; readonly sql: string; readonly params?: SqlParams }
  | { readonly op: 'watchedQuery'; readonly sql: string; readonly params?: SqlParams }
  | { readonly op: 'write'; readonly unit: WriteUnit }
  | { readonly op: 'sync'; readonly method: SyncMethod; readonly args: readonly unknown[] }
  /** Opens interactive transaction `txId` (chosen by the calling tab). */
  | { readonly op: 'begin'; readonly txId: string; readonly leaseMs: number }
  /** One statement inside interactive transaction `txId`. */
  | { readonly op: 'txRun'; readonly txId: string; readonly sql: string; readonly params?: SqlParams }
  | { readonly op: 'commit'; readonly txId: string }
  | { readonly op: 'rollback'; readonly txId: string }
  /** Diagnostics: time a read inside the leader's worker. */
  | { readonly op: 'measureQuery'; readonly sql: string; readonly params?: SqlParams; readonly iterations: number }
  /** Diagnostics: the leader's group-commit counters. */
  | { readonly op: 'groupCommitStats' };
