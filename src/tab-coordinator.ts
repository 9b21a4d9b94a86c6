/**
 * Decides which tab owns a database and routes every call to it.
 *
 * Per database name, the tab holding the Web Lock `oversqlite:<name>` is the leader: its worker
 * owns the OPFS file. Every other tab is a follower that sends its calls to the leader over the
 * BroadcastChannel of the same name, and queues for the lock. When the leader's tab closes,
 * reloads or crashes, the browser releases its lock, the next queued tab becomes leader (its
 * worker retries the open until the old handles are gone), announces itself, and the followers
 * re-send their unanswered calls to it. A leader whose worker ends while the tab lives (see
 * worker-backend.ts) hands over the same way: it releases the lock, becomes a follower queued for
 * it again, and re-sends its own calls that were in flight (writes excepted: without a request id
 * they fail with `leader_lost`). An in-memory database is private to its tab.
 */
import type { CommitNotice } from '../worker/database/table-access.ts';
import type { AppSchema, Outcome } from '../worker/database/types.ts';
import type { StorageKind } from '../worker/database/storage-kinds.ts';
import { storageDescriptor } from '../worker/database/storage-kinds.ts';
import type { WorkerSyncOptions } from '../worker/database/worker-service.ts';
import type { ConflictContext, ConflictResolution, SyncEvent } from '../worker/engine/types.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import type { DatabaseRequest } from './database-request.ts';
import { FollowerLink } from './follower-link.ts';
import { LeaderServer } from './leader-server.ts';
import { failedOutcome } from './outcome.ts';
import { coordinationName } from './tab-messages.ts';
import type { TabMessage } from './tab-messages.ts';
import { WorkerBackend, isWorkerLost } from './worker-backend.ts';
import type { WorkerFactory } from './worker-backend.ts';

/** Whether this tab owns the database or proxies to the owner. */
export type TabRole = 'leader' | 'follower';

/** Options of {@link TabCoordinator.open}. */
interface TabCoordinatorOptions {
  readonly name: string;
  readonly schema: AppSchema;
  readonly storage: StorageKind;
  readonly workerFactory: WorkerFactory;
  /** How long a follower's call (and a follower's open) waits for a leader. */
  readonly requestTimeoutMs: number;
  /** Sync configuration for the worker, and the tab-side functions it calls back. */
  readonly sync?: {
    readonly options: WorkerSyncOptions;
    readonly getToken: () => Promise<string | null>;
    readonly resolveConflict?: (context: ConflictContext) => Promise<ConflictResolution>;
  };
}

/** What the coordinator reports to the database facade. */
interface CoordinatorListeners {
  /** A commit happened (in this tab's worker or relayed from the leader). */
  onChange(notice: CommitNotice): void;
  /** A (new) leader started serving: data may have changed while no one was serving. */
  onLeaderChange(leaderId: string): void;
  /** A sync event relayed from the leader. */
  onSyncEvent(event: unknown): void;
  /** This tab's own worker ended while the tab lives (the database is handed over). */
  onWorkerEnded?(): void;
}

/** Routes one tab's calls for one database to its leader. */
export class TabCoordinator {
  private readonly tabId = crypto.randomUUID();
  private readonly channel: BroadcastChannel | undefined;
  private readonly follower: FollowerLink | undefined;
  private readonly lockAbort = new AbortController();
  private releaseLock: () => void = () => {};
  private backend: WorkerBackend | undefined;
  private server: LeaderServer | undefined;
  private term = 0;
  private currentLeader: string | undefined;
  private leaderSeen: (() => void) | undefined;
  private leaderSchemaVersion: number | undefined;
  private closed = false;

  private constructor(
    private readonly options: TabCoordinatorOptions,
    private readonly listeners: CoordinatorListeners,
  ) {
    if (storageDescriptor(options.storage).sharedAcrossTabs) {
      this.channel = new BroadcastChannel(coordinationName(options.name));
      this.channel.onmessage = (event: MessageEvent<TabMessage>) => this.dispatch(event.data);
      this.follower = new FollowerLink((m) => this.post(m), this.tabId, options.requestTimeoutMs);
    }
  }

  /** Joins the tabs of a database: becomes its leader or a follower of the current one. */
  static async open(options: TabCoordinatorOptions, listeners: CoordinatorListeners): Promise<TabCoordinator> {
    const coordinator = new TabCoordinator(options, listeners);
    try {
      await coordinator.join();
      return coordinator;
    } catch (error) {
      await coordinator.close();
      throw error;
    }
  }

  /** This tab's current role. */
  get role(): TabRole {
    return this.backend !== undefined ? 'leader' : 'follower';
  }

  /** Runs a call on the leader (this tab's worker if it leads). */
  call(request: DatabaseRequest): Promise<Outcome<unknown>> {
    if (this.closed) return Promise.resolve(failedOutcome('closed', 'The database is closed; open it again to continue.'));
    if (this.backend !== undefined) return this.callOwnWorker(this.backend, request);
    return this.follower!.send(request);
  }

  /**
   * A call from this tab to its own worker. If the worker ends under it, a call that is safe to
   * repeat goes to whichever tab leads next; a write is not (this tab's writes carry no request
   * id, which keeps the ledger off the hot path), so it fails with `leader_lost`.
   */
  private async callOwnWorker(backend: WorkerBackend, request: DatabaseRequest): Promise<Outcome<unknown>> {
    const outcome = await backend.handle(request);
    if (!isWorkerLost(outcome) || request.op === 'write' || this.closed || !storageDescriptor(this.options.storage).sharedAcrossTabs)
      return outcome;
    return this.call(request);
  }

  /**
   * This tab came back to the foreground: when it leads, asks its engine for a sync now. A
   * follower forwards nothing (the leader's engine schedules its own runs). Returns whether the
   * request went to an engine.
   */
  requestSync(): boolean {
    if (this.backend === undefined) return false;
    void this.backend.requestSync();
    return true;
  }

  /** Passes the tab's connectivity to the sync engine (when this tab leads). */
  setOnline(online: boolean): void {
    void this.backend?.setOnline(online);
  }

  /** Leaves: a leader commits what is queued and releases the file and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lockAbort.abort();
    this.follower?.failAll('closed', 'The database was closed while this call was waiting for the leader tab.');
    const backend = this.backend;
    this.backend = undefined;
    this.server = undefined;
    try {
      await backend?.close();
    } finally {
      this.flushOutbox();
      this.releaseLock();
      this.channel?.close();
    }
  }

  private async join(): Promise<void> {
    if (!storageDescriptor(this.options.storage).sharedAcrossTabs) {
      await this.becomeLeader();
      return;
    }
    const lockName = coordinationName(this.options.name);
    if (await this.acquireLock(lockName, true)) {
      await this.becomeLeader();
      return;
    }
    // Follower: queue for the lock (taking over when the leader goes) and find the leader.
    void this.acquireLock(lockName, false).then((granted) => {
      if (granted && !this.closed) void this.takeOver();
    });
    const seen = new Promise<void>((resolve) => {
      this.leaderSeen = resolve;
    });
    this.post({ type: 'hello', from: this.tabId });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new OversqliteError(
              'leader_timeout',
              `Another tab holds "${this.options.name}" but did not answer within ${this.options.requestTimeoutMs} ms. ` +
                'It may be frozen in the background; focus it or close it, then retry.',
            ),
          ),
        this.options.requestTimeoutMs,
      );
    });
    try {
      await Promise.race([seen, timeout]);
    } finally {
      clearTimeout(timer);
    }
    const theirs = this.leaderSchemaVersion;
    if (this.backend === undefined && theirs !== undefined && theirs !== this.options.schema.version) {
      throw new OversqliteError(
        'schema_mismatch',
        `Another tab serves "${this.options.name}" with schema version ${theirs}, but this page expects version ${this.options.schema.version}. ` +
          'Two builds of the app are open: reload the other tabs (or this one) so that all run the same build.',
      );
    }
  }

  /** Resolves true once the lock is held (it is then held until close), false if `ifAvailable` found it taken. */
  private acquireLock(lockName: string, ifAvailable: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const held = new Promise<void>((release) => {
        this.releaseLock = release;
      });
      const options: LockOptions = ifAvailable ? { ifAvailable: true } : { signal: this.lockAbort.signal };
      navigator.locks
        .request(lockName, options, (lock) => {
          if (lock === null) {
            resolve(false);
            return undefined;
          }
          resolve(true);
          return held;
        })
        .catch(() => resolve(false)); // aborted by close()
    });
  }

  /**
   * This tab's worker ended while the tab lives: hand the database over as a closing leader would.
   * The lock goes to the next tab in the queue (or back to this one), which announces itself; the
   * followers, this tab included, re-send their unanswered calls to it.
   */
  private workerEnded(): void {
    if (this.closed) return;
    this.backend = undefined;
    this.server?.retire();
    this.server = undefined;
    this.currentLeader = undefined;
    this.listeners.onWorkerEnded?.();
    if (!storageDescriptor(this.options.storage).durable) {
      this.closed = true; // the data died with the worker; never serve a blank one
      return;
    }
    this.releaseLock();
    void this.acquireLock(coordinationName(this.options.name), false).then((granted) => {
      if (granted && !this.closed) void this.takeOver();
    });
  }

  private async becomeLeader(): Promise<void> {
    const sync = this.options.sync;
    const backend = await WorkerBackend.start(
      this.options.workerFactory,
      {
        name: this.options.name,
        schema: this.options.schema,
        storage: this.options.storage,
        ...(sync !== undefined ? { sync: sync.options, online: navigator.onLine } : {}),
      },
      {
        onCommit: (notice) => {
          this.listeners.onChange(notice);
          this.server?.relayChange(notice);
        },
        onSyncEvent: (event: SyncEvent) => {
          this.listeners.onSyncEvent(event);
          this.server?.relaySyncEvent(event);
        },
        ...(sync !== undefined ? { getToken: sync.getToken } : {}),
        ...(sync?.resolveConflict !== undefined ? { resolveConflict: sync.resolveConflict } : {}),
      },
      () => this.workerEnded(),
    );
    if (this.closed) {
      await backend.close();
      return;
    }
    this.backend = backend;
    const leaderId = `${this.tabId}#${++this.term}`;
    this.currentLeader = leaderId;
    if (this.channel !== undefined) {
      this.server = new LeaderServer((m) => this.post(m), leaderId, backend, this.options.schema.version);
      this.server.announce();
    }
    this.leaderSeen?.();
  }

  /** The lock came to this follower: open the file, serve, and run this tab's own waiting calls. */
  private async takeOver(): Promise<void> {
    try {
      await this.becomeLeader();
    } catch (error) {
      // This tab holds the lock but cannot open the file: fail its waiting calls clearly and
      // give the lock to the next tab rather than leaving every tab without a leader.
      const typed = error instanceof OversqliteError ? error : new OversqliteError('internal', String(error));
      for (const call of this.follower!.takeAll()) call.settle({ ok: false, error: typed.toShape() });
      this.releaseLock();
      return;
    }
    const backend = this.backend;
    if (backend === undefined) return;
    for (const call of this.follower!.takeAll()) void backend.handle(call.request, call.id).then(call.settle);
    this.listeners.onLeaderChange(this.currentLeader!);
  }

  private outbox: TabMessage[] = [];

  private post(message: TabMessage): void {
    if (this.channel === undefined) return;
    this.outbox.push(message);
    if (this.outbox.length === 1) queueMicrotask(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const messages = this.outbox;
    this.outbox = [];
    if (messages.length === 0 || this.channel === undefined) return;
    try {
      this.channel.postMessage(messages.length === 1 ? messages[0] : { type: 'batch', messages });
    } catch {
      // The channel was closed while messages were queued (the tab is closing); followers
      // re-send unanswered calls to the next leader.
    }
  }

  private dispatch(message: TabMessage): void {
    if (this.closed) return;
    switch (message.type) {
      case 'batch':
        for (const inner of message.messages) this.dispatch(inner);
        break;
      case 'hello':
        this.server?.announce();
        break;
      case 'request':
        this.server?.serve(message);
        break;
      case 'response':
        this.follower?.onResponse(message);
        break;
      case 'leader':
        if (this.backend === undefined) this.leaderSchemaVersion = message.schemaVersion;
        if (this.backend !== undefined || message.leaderId === this.currentLeader) {
          this.leaderSeen?.();
          break;
        }
        this.currentLeader = message.leaderId;
        this.follower?.onNewLeader();
        this.leaderSeen?.();
        this.listeners.onLeaderChange(message.leaderId);
        break;
      case 'change':
        if (this.backend === undefined) this.listeners.onChange(message.notice);
        break;
      case 'sync-event':
        if (this.backend === undefined) this.listeners.onSyncEvent(message.event);
        break;
    }
  }
}
