/**
 * Process-local fan-out of bundle-change events. Commits in any process `pg_notify` the channel;
 * each process LISTENs on one dedicated connection (reconnecting with backoff) and hands events
 * to the watch streams of the affected user. After a reconnect every subscribed user gets a
 * catch-up event with its latest bundle_seq, since notifications sent while disconnected are lost.
 */
import type { WatchBundleEvent } from '../../protocol/wire.ts';
import type { SqlDatabase } from '../database/types.ts';

type Listener = (event: WatchBundleEvent) => void;

/** Per-process hub of watch subscribers keyed by user id. */
export class BundleChangeHub {
  private readonly subscribers = new Map<string, Set<Listener>>();
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private backoffMs = 100;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly db: SqlDatabase,
    private readonly channel: string,
  ) {}

  /** Starts listening; resolves once LISTEN is active. */
  async start(): Promise<void> {
    this.unlisten = await this.db.listen(
      this.channel,
      (payload) => this.onNotify(payload),
      () => this.scheduleReconnect(),
    );
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.unlisten = null;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      try {
        await this.start();
      } catch {
        this.scheduleReconnect();
        return;
      }
      if (this.stopped) {
        await this.stop();
        return;
      }
      this.backoffMs = 100;
      // Listening again: a failed catch-up read must not start a second listener, so it is
      // retried on its own (streams still get every later NOTIFY meanwhile).
      await this.catchUpUntilDone();
    }, delay);
  }

  private async catchUpUntilDone(): Promise<void> {
    for (let delay = 100; !this.stopped; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.publishCatchUp();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async publishCatchUp(): Promise<void> {
    const users = [...this.subscribers.keys()];
    if (users.length === 0) return;
    const r = await this.db.query<{ user_id: string; latest: string }>(
      'SELECT user_id, (next_bundle_seq - 1)::text AS latest FROM sync.user_state WHERE user_id = ANY($1::text[])',
      [users],
    );
    for (const row of r.rows) if (Number(row.latest) > 0) this.publish(row.user_id, { bundle_seq: Number(row.latest) });
  }

  private onNotify(payload: string): void {
    let msg: { user_id?: unknown; bundle_seq?: unknown; source_id?: unknown; source_bundle_id?: unknown };
    try {
      msg = JSON.parse(payload);
    } catch {
      return; // not ours
    }
    if (typeof msg.user_id !== 'string' || typeof msg.bundle_seq !== 'number') return;
    const event: WatchBundleEvent = { bundle_seq: msg.bundle_seq };
    if (typeof msg.source_id === 'string') event.source_id = msg.source_id;
    if (typeof msg.source_bundle_id === 'number') event.source_bundle_id = msg.source_bundle_id;
    this.publish(msg.user_id, event);
  }

  /** Delivers an event to every subscriber of `userId` in this process. */
  publish(userId: string, event: WatchBundleEvent): void {
    const set = this.subscribers.get(userId);
    if (!set) return;
    for (const listener of [...set]) listener(event);
  }

  /** Subscribes to a user's events; returns the unsubscribe function. */
  subscribe(userId: string, listener: Listener): () => void {
    let set = this.subscribers.get(userId);
    if (!set) this.subscribers.set(userId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.subscribers.get(userId) === set) this.subscribers.delete(userId);
    };
  }

  /** Number of active subscribers of `userId` in this process (go-oversync: bundleChangeSubscriberCount). */
  subscriberCountOf(userId: string): number {
    return this.subscribers.get(userId)?.size ?? 0;
  }

  /** Number of active subscribers (all users). */
  get subscriberCount(): number {
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const u = this.unlisten;
    this.unlisten = null;
    if (u) await u();
  }
}
