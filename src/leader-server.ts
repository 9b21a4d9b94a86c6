/**
 * The leader tab's side of the BroadcastChannel: answers followers' calls with its worker,
 * announces itself, and relays every commit notice so that all tabs see every change.
 */
import type { CommitNotice } from '../worker/database/table-access.ts';
import type { Outcome } from '../worker/database/types.ts';
import type { DatabaseRequest } from './database-request.ts';
import type { TabMessage } from './tab-messages.ts';

/** Runs calls on the database (the leader's worker backend). */
export interface RequestHandler {
  /** Runs one call; `requestId` makes a write exactly-once across retries. */
  handle(request: DatabaseRequest, requestId?: string): Promise<Outcome<unknown>>;
}

/** Serves followers for one leader term. */
export class LeaderServer {
  // A call re-sent while its first copy is still running shares the first copy's answer.
  private readonly inFlight = new Map<string, Promise<Outcome<unknown>>>();
  private retired = false;

  constructor(
    private readonly post: (message: TabMessage) => void,
    /** Identifies this leader term (tab id plus term number). */
    readonly leaderId: string,
    private readonly backend: RequestHandler,
    private readonly schemaVersion: number,
  ) {}

  /** Tells every tab who leads. */
  announce(): void {
    this.post({ type: 'leader', leaderId: this.leaderId, schemaVersion: this.schemaVersion });
  }

  /** Relays a commit notice to the followers. */
  relayChange(notice: CommitNotice): void {
    this.post({ type: 'change', leaderId: this.leaderId, notice });
  }

  /** Relays a sync event to the followers. */
  relaySyncEvent(event: unknown): void {
    this.post({ type: 'sync-event', leaderId: this.leaderId, event });
  }

  /**
   * Ends this term without answering what is still running: its worker ended, so the answers
   * would be failures the followers need not see; they re-send the calls to the next leader.
   */
  retire(): void {
    this.retired = true;
  }

  /** Runs a follower's call and answers it. */
  serve(message: Extract<TabMessage, { type: 'request' }>): void {
    if (this.retired) return;
    let running = this.inFlight.get(message.id);
    if (running === undefined) {
      running = this.backend.handle(message.request, message.id);
      this.inFlight.set(message.id, running);
      void running.finally(() => this.inFlight.delete(message.id));
    }
    void running.then((outcome) => {
      if (!this.retired) this.post({ type: 'response', id: message.id, to: message.from, outcome });
      if (outcome.ok && message.request.op === 'begin') this.rollbackWhenCallerGoes(message.request.txId);
    });
  }

  /**
   * The follower holds the Web Lock {@link transactionLockName} of its open transaction until it
   * ends; the browser releases it when the follower's tab closes or crashes. Queuing for it here
   * means the grant comes when the transaction ended or its tab is gone: roll back (nothing
   * happens if it already ended), without waiting for the lease to run out.
   */
  private rollbackWhenCallerGoes(txId: string): void {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (locks === undefined) return;
    void locks
      .request(transactionLockName(txId), async () => {
        if (!this.retired) await this.backend.handle({ op: 'rollback', txId });
      })
      .catch(() => {});
  }
}

/** The Web Lock a tab holds while its interactive transaction `txId` is open. */
export function transactionLockName(txId: string): string {
  return `oversqlite-transaction:${txId}`;
}
