/**
 * Sync events on their way to the tab, sent at the end of the worker's current task rather than
 * the moment the engine emits them: each crossing costs ~0.5–1 ms of the worker's time on a busy
 * device, and a push or pull emits status events right before its request goes out and right
 * after its apply commits. Sent later in the same order, they no longer delay the request or the
 * commit notice that live queries wait for.
 */
import type { SyncEvent } from '../engine/types.ts';
import { nextTaskScheduler } from './next-task.ts';

/** Queues sync events and delivers them in order at the end of the current task (or on `flush`). */
export class SyncEventRelay {
  #queue: SyncEvent[] = [];
  #scheduled = false;

  readonly #deliver: (event: SyncEvent) => void;
  readonly #schedule: (fn: () => void) => void;

  constructor(deliver: (event: SyncEvent) => void, schedule: (fn: () => void) => void = nextTaskScheduler()) {
    this.#deliver = deliver;
    this.#schedule = schedule;
  }

  /** Queues `event`. */
  push(event: SyncEvent): void {
    this.#queue.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Delivers everything queued now (before a sync call answers, so its events arrive first). */
  flush(): void {
    const events = this.#queue;
    if (events.length === 0) return;
    this.#queue = [];
    for (const event of events) this.#deliver(event);
  }
}
