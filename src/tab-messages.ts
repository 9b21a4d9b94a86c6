/**
 * Messages between the tabs of one database on its BroadcastChannel. Followers send requests and
 * a hello; the leader answers, and announces itself, every commit and the sync status.
 */
import type { CommitNotice } from '../worker/database/table-access.ts';
import type { Outcome } from '../worker/database/types.ts';
import type { DatabaseRequest } from './database-request.ts';

/** The channel (and Web Lock) name of a database. */
export function coordinationName(databaseName: string): string {
  return `oversqlite:${databaseName}`;
}

/** Every message on a database's channel. */
export type TabMessage =
  /** A tab asks who the leader is. */
  | { readonly type: 'hello'; readonly from: string }
  /** The leader announces itself (after it opened the file, and in answer to a hello). */
  | { readonly type: 'leader'; readonly leaderId: string; readonly schemaVersion: number }
  /** A follower's call; `id` is unique per call and reused when the call is retried. */
  | { readonly type: 'request'; readonly id: string; readonly from: string; readonly request: DatabaseRequest }
  /** The leader's answer to one request. */
  | { readonly type: 'response'; readonly id: string; readonly to: string; readonly outcome: Outcome<unknown> }
  /** A commit happened on the leader. */
  | { readonly type: 'change'; readonly leaderId: string; readonly notice: CommitNotice }
  /** A sync event (status, conflict, error) relayed by the leader. */
  | { readonly type: 'sync-event'; readonly leaderId: string; readonly event: unknown }
  /**
   * Several messages posted in the same microtask, sent as one. Many concurrent calls from a
   * follower then reach the leader in one task, and so the same group commit.
   */
  | { readonly type: 'batch'; readonly messages: readonly TabMessage[] };
