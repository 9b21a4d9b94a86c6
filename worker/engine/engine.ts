/**
 * `SyncEngine`: the client sync engine that runs next to SQLite (in the dedicated worker, or in
 * Node on the in-memory VFS). It owns the `_sync_*` metadata and capture triggers, and drives
 * lifecycle, push, pull, snapshot, recovery and scheduling. Operations are serialized (one at a
 * time); concurrent `sync()` calls share one run. Network work happens first, and every local
 * change is applied in one synchronous transaction, never held open across an `await`.
 */
import { AuthTokenSource, subjectOf } from './auth-token.ts';
import { checkCallbackTimeout, GET_TOKEN_TIMEOUT_MS } from './callback-deadline.ts';
import { captureExistingRows, installCaptureFunction, installTriggers } from './capture.ts';
import type { EngineContext } from './context.ts';
import { SyncError, toErrorInfo } from './errors.ts';
import { attach as attachLifecycle, detach as detachLifecycle, fetchCapabilities } from './lifecycle.ts';
import { countPending, installMetadata, readAttachment } from './metadata.ts';
import { pushPending as pushLoop } from './push.ts';
import { pullWithRecovery, pushWithRecovery, rebuildKeepingSource } from './recovery.ts';
import { SyncScheduler } from './scheduler.ts';
import { loadSchemaModel } from './table-config.ts';
import { SyncTransport } from './transport.ts';
import type {
  AttachResult,
  DetachOptions,
  DetachResult,
  PullResult,
  PushResult,
  SyncEngineOptions,
  SyncErrorInfo,
  SyncEvent,
  SyncPhase,
  SyncResult,
  SyncStatus,
  SyncThenDetachResult,
} from './types.ts';
import { finalizeStatements } from './statements.ts';
import {
  clearFailureStreak,
  holdPendingChanges,
  noteFailure,
  isDataFailure,
  isolateRefusedChanges,
  requeueRejectedOutbox,
  restoreHeldChanges,
} from './self-heal.ts';
import { WatchLoop } from './watch-loop.ts';
import { discardRowsWrittenInPlace } from './snapshot.ts';
import { systemClock } from './system-clock.ts';

// At most this many sync rounds in syncThenDetach (as go-oversync's client and the contract fixtures).
const SYNC_THEN_DETACH_ROUNDS = 3;

// Push failures that a pull can settle: after pulling, one more push is attempted.
const COMMIT_REJECTED = new Set(['push_session_commit_failed', 'push_commit_invalid', 'conflict_needs_pull']);
const PULL_AFTER_PUSH_FAILURE = new Set([
  'conflict_needs_pull',
  'push_session_commit_failed',
  'push_commit_invalid',
  'conflict_retry_exhausted',
  'invalid_conflict_resolution',
  'wire_value_invalid',
]);

function threshold(selfHealAfter: number | undefined): number {
  return selfHealAfter ?? 3;
}

/** The client sync engine. Create with {@link SyncEngine.open}. */
export class SyncEngine {
  private readonly ctx: EngineContext;
  readonly #tokens: AuthTokenSource;
  readonly #listeners = new Set<(event: SyncEvent) => void>();
  #phase: SyncPhase = 'idle';
  #progress: { done: number; total: number } | null = null;
  #online = true;
  #lastSyncAt: number | null = null;
  #lastError: SyncErrorInfo | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #syncInflight: Promise<SyncResult> | null = null;
  /** The run queued behind `syncInflight` for writes that run can no longer include. */
  #syncFollowUp: Promise<SyncResult> | null = null;
  /** Local writes noted so far, and how many the in-flight run had seen when it started. */
  #localWriteSeq = 0;
  #inflightWriteSeq = 0;
  /** Watch wake-ups so far, and at the start of the sync in flight (see `sync()`). */
  #remoteChangeSeq = 0;
  #inflightRemoteChangeSeq = 0;
  #closed = false;
  #authBlocked = false;
  #scheduler: SyncScheduler | null = null;
  readonly #watch: WatchLoop;
  /** The sync step running, for the failure streak (self-heal.ts `noteFailure`). */
  #failingStep: 'push' | 'pull' = 'push';
  #lostReported = 0;
  /** A local write's status event is owed (sent after the write's answer, see `notifyLocalWrite`). */
  #statusOwed = false;

  private constructor(options: SyncEngineOptions) {
    const clock = options.clock ?? systemClock;
    this.#tokens = new AuthTokenSource(
      options.getToken,
      clock,
      (err) => this.#onAuthRequired(err),
      options.getTokenTimeoutMs ?? GET_TOKEN_TIMEOUT_MS,
    );
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    const db = options.db;
    const transport = new SyncTransport(
      options.serverUrl,
      () => readAttachment(db).currentSourceId,
      this.#tokens,
      fetchFn,
      clock,
      {
        attempts: options.retry?.attempts ?? 3,
        initialDelayMs: options.retry?.initialDelayMs ?? 100,
        maxDelayMs: options.retry?.maxDelayMs ?? 1000,
        jitter: 0.2,
      },
      undefined,
      (err) => this.#onAuthRequired(err),
    );
    const model = loadSchemaModel(db, options.tables);
    this.ctx = {
      db,
      schema: options.remoteSchema,
      model,
      transport,
      clock,
      options,
      capabilities: null,
      setPhase: (phase, progress = null) => {
        // Nothing new to tell (a step re-stating the phase its operation set): each status event
        // reads the database and crosses to the tab, ~1 ms on a busy device.
        if (phase === this.#phase && progress === null && this.#progress === null) return;
        this.#payStatus(); // the owed one reports the phase before this one
        this.#phase = phase;
        this.#progress = progress;
        // Owed too: the step's request goes out before its status is read (see `#owesStatus`).
        this.#owesStatus();
      },
      applied: (tables) => {
        const list = [...new Set(tables)].sort();
        if (list.length) this.#emit({ type: 'applied', tables: list });
      },
      conflict: (detail) => this.#emit({ type: 'conflict', conflict: detail }),
      rowsLost: (details) => {
        this.#lostReported += details.length;
        for (const lost of details) this.#emit({ type: 'lost', lost });
      },
      newSourceId: () => globalThis.crypto.randomUUID(),
    };
    this.#watch = new WatchLoop(this.ctx, {
      mayWatch: () => !this.#authBlocked,
      remoteChange: () => this.notifyRemoteChange(),
      catchUp: async () => {
        if (this.#scheduler?.canRunNow()) await this.sync().catch(() => undefined);
      },
    });
  }

  /**
   * Opens the engine over an open database: validates the synced tables, installs the `_sync_*`
   * metadata and capture triggers, and on the very first open captures rows that already exist.
   * No network. Throws `SyncError('config_invalid')` before writing anything when the config or
   * schema is wrong.
   */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    if (!options || !options.db || !options.sqlite3) throw new SyncError('config_invalid', 'SyncEngine.open needs sqlite3 and db');
    if (typeof options.remoteSchema !== 'string' || !/^[a-z0-9_]+$/.test(options.remoteSchema)) {
      throw new SyncError('config_invalid', `remoteSchema ${JSON.stringify(options.remoteSchema)} must match [a-z0-9_]+`);
    }
    if (typeof options.serverUrl !== 'string' || !/^https?:\/\//.test(options.serverUrl)) {
      throw new SyncError('config_invalid', `serverUrl ${JSON.stringify(options.serverUrl)} must be an http(s) URL`);
    }
    if (typeof options.getToken !== 'function') throw new SyncError('config_invalid', 'getToken must be a function');
    checkCallbackTimeout('getTokenTimeoutMs', options.getTokenTimeoutMs);
    checkCallbackTimeout('conflictResolverTimeoutMs', options.conflictResolverTimeoutMs);
    const engine = new SyncEngine(options); // validates the schema (throws before any write)
    const { db } = options;
    installCaptureFunction(options.sqlite3, db);
    // One transaction: a layout step may change what the triggers write (layout 5 needs their
    // ordinal), so no commit may leave the new layout under the old triggers.
    db.savepoint(() => {
      const first = installMetadata(db, () => globalThis.crypto.randomUUID(), options.remoteSchema);
      installTriggers(db, options.remoteSchema, engine.ctx.model);
      if (first) captureExistingRows(db, options.remoteSchema, engine.ctx.model);
    });
    // Changes a self-heal had set aside when the process stopped are pending again.
    restoreHeldChanges(engine.ctx);
    // A hydrate written in place that the process did not finish: its rows come out again.
    discardRowsWrittenInPlace(engine.ctx);
    engine.#startAutoSync();
    return engine;
  }

  /** Current status (plain data). */
  get status(): SyncStatus {
    let att: ReturnType<typeof readAttachment> | null = null;
    let pending = 0;
    if (!this.#closed) {
      try {
        att = readAttachment(this.ctx.db);
        pending = countPending(this.ctx.db);
      } catch {
        // the database was closed under us: report what is known in memory
      }
    }
    return {
      online: this.#online,
      phase: this.#closed ? 'closed' : this.#authBlocked ? 'auth_required' : this.#phase,
      userId: att?.bindingState === 'attached' ? att.attachedUserId : null,
      pendingCount: pending,
      lastSyncAt: this.#lastSyncAt,
      lastError: this.#lastError,
      progress: this.#progress,
      sourceId: att?.currentSourceId ?? '',
      checkpoint: att?.lastBundleSeqSeen ?? 0,
    };
  }

  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: SyncEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Binds the database to a user (capabilities + connect), or resumes the same user offline. */
  attach(userId: string): Promise<AttachResult> {
    return this.#exclusive('attaching', async () => {
      // The server scopes data by the token's user; attaching the database to a different user id
      // would bind one user's local data to another's account. JWTs say who they are: check.
      const att = readAttachment(this.ctx.db);
      if (!(att.bindingState === 'attached' && att.attachedUserId === userId)) {
        let sub = subjectOf(await this.#tokens.current());
        // A token kept from an earlier sign-in attempt may be another user's: ask again first.
        if (sub !== null && sub !== userId) sub = subjectOf(await this.#tokens.refresh());
        if (sub !== null && sub !== userId) {
          throw new SyncError('attach_user_mismatch', `attach(${JSON.stringify(userId)}) but the token belongs to ${JSON.stringify(sub)}`);
        }
      }
      const before = this.ctx.transport.completedExchanges;
      const res = await attachLifecycle(this.ctx, userId);
      // Taking the server's state from a snapshot is a pull; connecting alone (or resuming the
      // same user offline) is not.
      if (res.status === 'connected' && res.outcome === 'used_remote_state') this.#noteExchange(before);
      if (res.status === 'connected') this.#startWatch();
      return res;
    });
  }

  /** Unbinds the user and wipes their synced data (blocked while changes are unsynced unless forced). */
  detach(options?: DetachOptions): Promise<DetachResult> {
    return this.#exclusive('detaching', async () => {
      const res = detachLifecycle(this.ctx, options?.force === true);
      if (res.outcome === 'detached') {
        this.#stopWatch();
        this.#tokens.clear();
      }
      return res;
    });
  }

  /**
   * Signs out after sending everything: sync, then detach; when app writes made during the sync
   * block the detach, sync again, at most {@link SYNC_THEN_DETACH_ROUNDS} rounds and only while the
   * pending count keeps falling (writes that keep coming would never let it finish). A sync that
   * fails throws and leaves the device attached with its changes. Not detached is a result, not
   * an error: `detach.outcome` says `blocked_unsynced_data` and the device stays attached.
   */
  async syncThenDetach(): Promise<SyncThenDetachResult> {
    let previousPending = Infinity;
    for (let round = 1; ; round++) {
      const lastSync = await this.sync();
      const detach = await this.detach();
      if (detach.outcome === 'detached') return { lastSync, detach, syncRounds: round, remainingPendingCount: 0 };
      const pending = detach.pendingCount;
      if (round === SYNC_THEN_DETACH_ROUNDS || pending >= previousPending) {
        return { lastSync, detach, syncRounds: round, remainingPendingCount: pending };
      }
      previousPending = pending;
    }
  }

  /**
   * Push then pull. Concurrent calls share one run — unless local writes were noted after that run
   * started (its push may already be frozen without them) or a watch wake-up came (its pull may
   * already have passed the announced bundle): then they share one follow-up run.
   */
  sync(): Promise<SyncResult> {
    if (this.#syncInflight) {
      // A wake-up since the run started may announce a bundle its pull already passed: likewise.
      if (this.#localWriteSeq === this.#inflightWriteSeq && this.#remoteChangeSeq === this.#inflightRemoteChangeSeq)
        return this.#syncInflight;
      const after = this.#syncInflight.then(
        () => undefined,
        () => undefined,
      );
      this.#syncFollowUp ??= after.then(() => {
        this.#syncFollowUp = null;
        return this.sync();
      });
      return this.#syncFollowUp;
    }
    this.#inflightWriteSeq = this.#localWriteSeq;
    this.#inflightRemoteChangeSeq = this.#remoteChangeSeq;
    const run = this.#exclusive('pushing', async () => {
      try {
        const out = await this.#syncOnce();
        clearFailureStreak(this.ctx);
        return out;
      } catch (e) {
        const after = threshold(this.ctx.options.selfHealAfter);
        if (after <= 0 || !isDataFailure(e) || noteFailure(this.ctx, this.#failingStep, e) < after) throw e;
        return await this.#selfHeal(e);
      }
    });
    this.#syncInflight = run;
    const clear = (): void => {
      if (this.#syncInflight === run) this.#syncInflight = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** One push then pull, with the pull-settles-the-push retry. */
  async #syncOnce(): Promise<SyncResult> {
    let push: PushResult;
    this.#failingStep = 'push';
    try {
      push = await this.#pushStep();
    } catch (e) {
      // A push the server rejected for a business reason must not stop the pull: the pull is
      // often what settles it (e.g. it brings the deletion that made the bundle invalid).
      if (!(e instanceof SyncError) || !(PULL_AFTER_PUSH_FAILURE.has(e.code) || isDataFailure(e))) throw e;
      // A rejected bundle can never commit as frozen: back to the dirty set, re-formed after the pull.
      requeueRejectedOutbox(this.ctx);
      this.#failingStep = 'pull';
      await this.#pullStep();
      // After the pull settled it, one more push usually goes through.
      if (!COMMIT_REJECTED.has(e.code) && !isDataFailure(e)) throw e;
      this.#failingStep = 'push';
      push = await this.#pushStep();
    }
    this.#failingStep = 'pull';
    const pull = await this.#pullStep();
    return { push, pull };
  }

  /**
   * The last resort (self-heal.ts): the same step failed `selfHealAfter` times in a row with the
   * same data-caused error. Rebuild from a snapshot keeping pending changes, sync; if the push is
   * still refused, push the changes in parts and drop the ones refused on their own (each a `lost`
   * event), then take the server's state. The app gets a `self_heal` event either way.
   */
  async #selfHeal(cause: SyncError): Promise<SyncResult> {
    const step = this.#failingStep;
    const failures = threshold(this.ctx.options.selfHealAfter);
    const lostBefore = this.#lostReported;
    clearFailureStreak(this.ctx);
    this.ctx.setPhase('recovering');
    requeueRejectedOutbox(this.ctx);
    let result: SyncResult;
    try {
      await rebuildKeepingSource(this.ctx);
      result = await this.#syncOnce();
    } catch (e) {
      if (!isDataFailure(e)) throw e;
      const userId = this.#requireAttached();
      // The server's state alone first (a pending change that cannot be re-applied on top of it
      // must not block the rebuild), then the changes go up in parts; the refused ones are dropped.
      holdPendingChanges(this.ctx);
      try {
        await rebuildKeepingSource(this.ctx);
      } finally {
        restoreHeldChanges(this.ctx);
      }
      const dropped = await isolateRefusedChanges(this.ctx, () => this.#exchange(() => pushLoop(this.ctx, userId)));
      this.ctx.rowsLost(dropped);
      // Rows whose changes were dropped still show them locally: take the server's state.
      await rebuildKeepingSource(this.ctx);
      result = await this.#syncOnce();
    }
    this.#emit({
      type: 'self_heal',
      selfHeal: { cause: cause.toInfo(), step, failures, droppedChanges: this.#lostReported - lostBefore },
    });
    return result;
  }

  /** Pushes pending local changes (one bundle). */
  pushPending(): Promise<PushResult> {
    return this.#exclusive('pushing', () => this.#pushStep());
  }

  /** Pulls remote bundles up to a stable ceiling. */
  pullToStable(): Promise<PullResult> {
    return this.#exclusive('pulling', () => this.#pullStep());
  }

  /** Rebuilds the synced tables from a server snapshot (pending local changes are kept on top). */
  hydrate(): Promise<PullResult> {
    return this.#exclusive('hydrating', async () => {
      this.#requireAttached();
      await this.#ensureCapabilities();
      return this.#exchange(() => rebuildKeepingSource(this.ctx));
    });
  }

  /**
   * A watch wake-up announced a new bundle: runs a sync as soon as possible (auto-sync). A sync
   * already in flight is not enough (its pull may have passed the bundle): see `sync()`.
   * @internal
   */
  notifyRemoteChange(): void {
    this.#remoteChangeSeq++;
    this.#scheduler?.trigger();
  }

  /** The runtime calls this after app writes commit: schedules a debounced push (auto-sync). */
  notifyLocalWrite(): void {
    this.#localWriteSeq++;
    this.#owesStatus();
    this.#scheduler?.notifyWrite();
  }

  /**
   * The app came back to the foreground (the page became visible or got focus): with `autoSync`,
   * asks the scheduler for a run now, subject to the usual conditions (attached, online, not
   * `auth_required`). Without `autoSync` it does nothing: the app then syncs only explicitly.
   */
  requestSync(): void {
    this.#scheduler?.trigger();
  }

  /** Connectivity changed (e.g. `online`/`offline` events). Going online triggers a sync. */
  setOnline(online: boolean): void {
    const was = this.#online;
    this.#online = online;
    this.#emitStatus();
    if (online && !was) {
      this.#scheduler?.trigger();
      this.#startWatch();
    }
    if (!online) this.#stopWatch();
  }

  /** Stops timers and the watch stream, waits for the running operation, then refuses new ones. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#scheduler?.stop();
    this.#stopWatch();
    try {
      await this.#queue;
    } catch {
      // the failure was already reported to its caller
    }
    this.#closed = true;
    finalizeStatements(this.ctx.db);
    this.#emit({ type: 'status', status: this.status });
  }

  // ------------------------------------------------------------------------------------------

  async #pushStep(): Promise<PushResult> {
    const userId = this.#requireAttached();
    await this.#ensureCapabilities();
    return this.#exchange(() => pushWithRecovery(this.ctx, userId));
  }

  async #pullStep(): Promise<PullResult> {
    const userId = this.#requireAttached();
    await this.#ensureCapabilities();
    return this.#exchange(() => pullWithRecovery(this.ctx, userId));
  }

  /**
   * Runs one push or pull step; when it succeeds after at least one protocol request answered by
   * the server, that is a successful exchange: `lastSyncAt` moves. Steps that needed no request
   * (nothing to push, or offline-only work) leave it alone.
   */
  async #exchange<T>(step: () => Promise<T>): Promise<T> {
    const before = this.ctx.transport.completedExchanges;
    const result = await step();
    this.#noteExchange(before);
    return result;
  }

  #noteExchange(before: number): void {
    if (this.ctx.transport.completedExchanges > before) this.#lastSyncAt = this.ctx.clock.now();
  }

  async #ensureCapabilities(): Promise<void> {
    if (!this.ctx.capabilities) await fetchCapabilities(this.ctx);
  }

  #requireAttached(): string {
    const att = readAttachment(this.ctx.db);
    if (att.bindingState !== 'attached' || !att.attachedUserId) throw new SyncError('not_attached', 'attach(userId) first');
    return att.attachedUserId;
  }

  /** Runs operations one at a time, tracking phase, status and errors. */
  #exclusive<T>(phase: SyncPhase, fn: () => Promise<T>): Promise<T> {
    const closed = (): SyncError => new SyncError('engine_closed', 'the sync engine is closed');
    if (this.#closed) return Promise.reject(closed());
    const run = this.#queue.then(async () => {
      if (this.#closed) throw closed();
      const release = await this.ctx.options.writerLock?.();
      if (this.#closed) {
        release?.();
        throw closed();
      }
      this.ctx.setPhase(phase);
      try {
        const result = await fn();
        this.#lastError = null;
        this.#authBlocked = false;
        return result;
      } catch (e) {
        this.#lastError = toErrorInfo(e);
        this.#emit({ type: 'error', error: this.#lastError });
        throw e;
      } finally {
        this.#payStatus();
        this.#phase = 'idle';
        this.#progress = null;
        release?.();
        this.#emitStatus();
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #onAuthRequired(err: SyncError): void {
    this.#authBlocked = true;
    this.#lastError = err.toInfo();
    this.#emitStatus();
  }

  #startAutoSync(): void {
    const auto = this.ctx.options.autoSync;
    if (!auto) return;
    this.#scheduler = new SyncScheduler(
      this.ctx.clock,
      () => this.sync(),
      () => !this.#closed && this.#online && !this.#authBlocked && readAttachment(this.ctx.db).bindingState === 'attached',
      { debounceMs: auto.debounceMs ?? 500, intervalMs: auto.intervalMs ?? 60_000, backoffMinMs: 1000, backoffMaxMs: 60_000 },
      () => !this.#watch.healthy || countPending(this.ctx.db) > 0,
    );
    this.#scheduler.start();
    if (readAttachment(this.ctx.db).bindingState === 'attached') {
      // At launch: send what was written offline (or before a crash) and catch up, right away.
      this.#scheduler.trigger();
      this.#startWatch();
    }
  }

  /** Starts the watch loop (watch-loop.ts) when auto-sync asks for it and the engine is online. */
  #startWatch(): void {
    const auto = this.ctx.options.autoSync;
    if (!auto || !auto.watch || this.#closed || !this.#online) return;
    this.#watch.start();
  }

  #stopWatch(): void {
    this.#watch.stop();
  }

  #emitStatus(): void {
    if (this.#listeners.size) this.#emit({ type: 'status', status: this.status });
  }

  /**
   * A write's or a phase's status event is owed, not sent at once: reading the status is two
   * queries, ~0.5 ms on a busy device, that the write's answer or the step's request would wait
   * for. It goes out in the next task, or before any other event or phase (so every phase is still
   * reported, in order); writes in between share one.
   */
  #owesStatus(): void {
    if (this.#statusOwed || !this.#listeners.size) return;
    this.#statusOwed = true;
    this.ctx.clock.setTimeout(() => this.#payStatus(), 0);
  }

  /** Sends the owed status event now, if one is owed. */
  #payStatus(): void {
    if (!this.#statusOwed) return;
    this.#statusOwed = false;
    this.#emitStatus();
  }

  #emit(event: SyncEvent): void {
    // A status sent now stands for the owed one; any other event follows it.
    if (event.type === 'status') this.#statusOwed = false;
    else this.#payStatus();
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure must not break sync
      }
    }
  }
}
