/**
 * The leader tab's link to its database worker: spawns the module worker, opens the database in
 * it, and runs {@link DatabaseRequest}s there. Writes issued in the same microtask are sent as one
 * message, so they land in the same group commit.
 *
 * A worker can end while its tab lives (a crash, `self.close()`, the browser stopping it); its
 * calls would then never be answered. The worker holds a Web Lock for its whole life and this
 * side queues for the same lock: the grant means the worker is gone. Every call in flight then
 * settles with {@link WORKER_LOST}, and the owner is told so it can hand the database over.
 */
import * as Comlink from 'comlink';
import type { WriteOutcome, WriteUnit } from '../worker/database/group-commit.ts';
import type { Outcome } from '../worker/database/types.ts';
import type { WorkerCallbacks, WorkerOpenInfo, WorkerOpenOptions, WorkerService } from '../worker/database/worker-service.ts';
import type { DatabaseRequest } from './database-request.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import { failedOutcome, unwrapOutcome } from './outcome.ts';

/** Creates the database worker; apps that bundle differently can supply their own. */
export type WorkerFactory = (name: string) => Worker;

/** The default worker: the package's module worker script, resolved by the bundler. */
export const defaultWorkerFactory: WorkerFactory = (name) =>
  new Worker(new URL('../worker/worker-entry.ts', import.meta.url), { type: 'module', name: `oversqlite:${name}` });

/** Marks the failed outcome of a call that was in flight (or made) after the worker ended. */
export const WORKER_LOST = 'The database worker ended while this call was in flight';

/** Whether `outcome` is the answer of a call cut off by the worker's end (see {@link WORKER_LOST}). */
export function isWorkerLost(outcome: Outcome<unknown>): boolean {
  return !outcome.ok && outcome.error.code === 'leader_lost' && outcome.error.message.startsWith(WORKER_LOST);
}

const workerLost = <T>(): Outcome<T> =>
  failedOutcome<T>('leader_lost', `${WORKER_LOST}; it may or may not have been applied. Re-read before retrying a write.`);

interface PendingWrite {
  readonly unit: WriteUnit;
  readonly resolve: (outcome: WriteOutcome) => void;
}

/** A spawned worker with an open database. */
export class WorkerBackend {
  private batch: PendingWrite[] = [];
  private closed = false;
  private ended = false;
  private readonly watchAbort = new AbortController();
  private readonly endedSignal: Promise<Outcome<never>>;
  private signalEnded: () => void = () => {};

  private constructor(
    private readonly worker: Worker,
    private readonly remote: Comlink.Remote<WorkerService>,
    /** What the open reported. */
    readonly info: WorkerOpenInfo,
  ) {
    this.endedSignal = new Promise((resolve) => {
      this.signalEnded = () => resolve(workerLost());
    });
  }

  /**
   * Spawns a worker and opens the database in it; rejects with the worker's typed error.
   * `callbacks` receive every commit notice and sync event of the worker, and serve its token
   * and conflict-resolver requests.
   */
  static async start(
    factory: WorkerFactory,
    options: WorkerOpenOptions,
    callbacks: WorkerCallbacks,
    onWorkerEnded?: () => void,
  ): Promise<WorkerBackend> {
    const worker = factory(options.name);
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    const lifeLock =
      onWorkerEnded !== undefined && locks !== undefined ? `oversqlite-worker:${options.name}:${crypto.randomUUID()}` : undefined;
    if (lifeLock !== undefined) options = { ...options, lifeLock };
    const remote = Comlink.wrap<WorkerService>(worker);
    // A worker script that fails to load or crashes never answers; without this, open would hang.
    let onFailure: (event: Event) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      onFailure = (event) =>
        reject(
          new OversqliteError(
            'internal',
            `The database worker failed to start: ${(event as ErrorEvent).message || event.type}. ` +
              'Check that the bundler serves the worker script (see createWorker in docs/client.md).',
          ),
        );
      worker.addEventListener('error', onFailure);
      worker.addEventListener('messageerror', onFailure);
    });
    try {
      const info = unwrapOutcome(await Promise.race([remote.open(options, Comlink.proxy(callbacks)), failed]));
      worker.removeEventListener('error', onFailure);
      worker.removeEventListener('messageerror', onFailure);
      const backend = new WorkerBackend(worker, remote, info);
      // The worker took the lock before its open answered, so this request waits for its end.
      if (lifeLock !== undefined) {
        locks!
          .request(lifeLock, { signal: backend.watchAbort.signal }, () => {
            if (!backend.closed) backend.workerGone(onWorkerEnded!);
          })
          .catch(() => {}); // aborted by close()
      }
      return backend;
    } catch (error) {
      worker.terminate();
      throw error;
    }
  }

  /** Runs one request. `requestId` makes a write exactly-once across retries (follower calls). */
  handle(request: DatabaseRequest, requestId?: string): Promise<Outcome<unknown>> {
    if (this.ended) return Promise.resolve(workerLost());
    if (this.closed) return Promise.resolve(failedOutcome('closed', 'The database is closed.'));
    return Promise.race([this.run(request, requestId), this.endedSignal]);
  }

  private run(request: DatabaseRequest, requestId: string | undefined): Promise<Outcome<unknown>> {
    switch (request.op) {
      case 'query':
        return this.remote.query(request.sql, request.params);
      case 'watchedQuery':
        return this.remote.watchedQuery(request.sql, request.params);
      case 'write':
        return this.write(requestId === undefined ? request.unit : { ...request.unit, requestId });
      case 'sync':
        return this.remote.sync(request.method, request.args);
      case 'begin':
        return this.remote.beginTransaction(request.txId, request.leaseMs);
      case 'txRun':
        return this.remote.runInTransaction(request.txId, request.sql, request.params);
      case 'commit':
        return this.remote.commitTransaction(request.txId);
      case 'rollback':
        return this.remote.rollbackTransaction(request.txId);
      case 'measureQuery':
        return this.remote.measureQuery(request.sql, request.params, request.iterations);
      case 'groupCommitStats':
        return this.remote.groupCommitStats().then((stats) => ({ ok: true, value: stats ?? null }));
    }
  }

  /** Asks the worker's sync engine for a run now (the tab came back to the foreground). */
  requestSync(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return this.remote.requestSync();
  }

  /** Tells the worker's sync engine about connectivity. */
  setOnline(online: boolean): Promise<void> {
    if (this.ended) return Promise.resolve();
    return this.remote.setOnline(online);
  }

  /** Commits what is queued, closes the file (releasing OPFS) and ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.watchAbort.abort();
    this.closed = true;
    if (this.ended) {
      this.worker.terminate();
      return;
    }
    this.sendBatch();
    try {
      await this.remote.close();
    } finally {
      this.remote[Comlink.releaseProxy]();
      this.worker.terminate();
    }
  }

  /** The worker ended on its own: tell the owner first (so it routes new calls elsewhere), then cut off every call in flight. */
  private workerGone(onWorkerEnded: () => void): void {
    this.ended = true;
    this.worker.terminate(); // it is gone already; make sure nothing of it lingers
    try {
      onWorkerEnded();
    } finally {
      this.signalEnded();
    }
  }

  private write(unit: WriteUnit): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      this.batch.push({ unit, resolve });
      if (this.batch.length === 1) queueMicrotask(() => this.sendBatch());
    });
  }

  private sendBatch(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.remote.write(batch.map((p) => p.unit)).then(
      (outcomes) => batch.forEach((p, i) => p.resolve(outcomes[i]!)),
      (error: unknown) => {
        const shape = failedOutcome<never>('internal', `The database worker failed: ${String(error)}`);
        batch.forEach((p) => p.resolve(shape));
      },
    );
  }
}
