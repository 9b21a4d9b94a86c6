/**
 * A follower tab's calls to the leader over the BroadcastChannel: request ids, timeouts, and
 * retries when a new leader announces itself. Retrying is safe because the leader records the
 * ids of the writes it applied in the same transaction as the write (see
 * worker/database/request-ledger.ts): a retried write that was applied returns its recorded
 * result instead of being applied again.
 */
import type { Outcome } from '../worker/database/types.ts';
import type { DatabaseRequest } from './database-request.ts';
import { failedOutcome } from './outcome.ts';
import type { TabMessage } from './tab-messages.ts';

/** How many times one call is re-sent to a newly announced leader before it fails. */
const MAX_RESENDS = 2;

/**
 * Sync operations (attach, hydrate, sync) legitimately run for a long time on the leader: a
 * hydrate of 10,000 rows took up to 30 s on the test machine. A dead leader is noticed through
 * the lock hand-over (the call is then re-sent), so the timeout only guards against a leader that
 * is alive but unresponsive, and can be long.
 */
const SYNC_CALL_TIMEOUT_MS = 10 * 60 * 1000;

/** A call waiting for the leader's answer. */
interface PendingCall {
  /** Request id (unique per call, kept across retries). */
  readonly id: string;
  /** The call. */
  readonly request: DatabaseRequest;
  /** Settles the caller's promise. */
  readonly settle: (outcome: Outcome<unknown>) => void;
}

interface PendingEntry extends PendingCall {
  resends: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Sends a follower's calls to whichever tab leads. */
export class FollowerLink {
  private readonly pending = new Map<string, PendingEntry>();
  private counter = 0;

  constructor(
    private readonly post: (message: TabMessage) => void,
    private readonly tabId: string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends a call to the leader; settles with its answer, or with `leader_timeout` / `leader_lost`. */
  send(request: DatabaseRequest): Promise<Outcome<unknown>> {
    return new Promise((resolve) => {
      const id = `${this.tabId}:${++this.counter}`;
      // A begin waits for a sync step or another tab's transaction in progress, as long as those take.
      const long = request.op === 'sync' || request.op === 'begin';
      const timeoutMs = long ? Math.max(this.timeoutMs, SYNC_CALL_TIMEOUT_MS) : this.timeoutMs;
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        resolve(
          failedOutcome(
            'leader_timeout',
            `No leader tab answered within ${timeoutMs} ms. ` +
              (request.op === 'write'
                ? 'The write may still be applied when a leader comes back; re-read before retrying it.'
                : 'Retry the call.'),
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { id, request, settle: resolve, resends: 0, timer });
      this.post({ type: 'request', id, from: this.tabId, request });
    });
  }

  /** Settles the call a response belongs to (responses to other tabs are ignored). */
  onResponse(message: Extract<TabMessage, { type: 'response' }>): void {
    if (message.to !== this.tabId) return;
    const entry = this.pending.get(message.id);
    if (entry === undefined) return; // a duplicate answer to a retried call
    this.pending.delete(message.id);
    clearTimeout(entry.timer);
    entry.settle(message.outcome);
  }

  /** A (new) leader announced itself: re-send every unanswered call to it. */
  onNewLeader(): void {
    for (const entry of this.pending.values()) {
      if (entry.resends >= MAX_RESENDS) {
        this.pending.delete(entry.id);
        clearTimeout(entry.timer);
        entry.settle(
          failedOutcome(
            'leader_lost',
            'The leader tab changed several times while this call was in flight; it was not confirmed. Re-read before retrying.',
          ),
        );
        continue;
      }
      entry.resends++;
      this.post({ type: 'request', id: entry.id, from: this.tabId, request: entry.request });
    }
  }

  /** Hands every unanswered call over (this tab became the leader and runs them itself). */
  takeAll(): PendingCall[] {
    const calls = [...this.pending.values()];
    for (const entry of calls) clearTimeout(entry.timer);
    this.pending.clear();
    return calls.map(({ id, request, settle }) => ({ id, request, settle }));
  }

  /** Fails every unanswered call (the tab is closing). */
  failAll(code: 'closed', message: string): void {
    for (const call of this.takeAll()) call.settle(failedOutcome(code, message));
  }
}
