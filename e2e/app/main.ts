/**
 * The e2e test page: exposes the real oversqlite API on `window.harness` so Playwright specs can
 * drive it with `page.evaluate`, and records what live queries and events delivered.
 */
import { lastAttachedUser, openDatabase } from '../../src/index.ts';
import type {
  AppSchema,
  ConflictEventDetail,
  ConflictResolver,
  Database,
  LiveQuery,
  OpenDatabaseOptions,
  Row,
  SqlParams,
  SyncStatus,
} from '../../src/index.ts';

/** What the specs can call in the page. */
export interface Harness {
  open(options: OpenDatabaseOptions): Promise<{ role: string }>;
  /**
   * Opens a database that syncs table `items` with the e2e server (same origin, through the Vite proxy) as `token`'s user.
   * `autoSync`: true = debounce 50 ms, interval 60 s, watch on; `'no-watch'` = the same without the watch stream.
   */
  openSynced(
    name: string,
    schema: AppSchema,
    token: string,
    conflicts?: 'server-wins' | 'client-wins' | 'merge-bodies',
    autoSync?: boolean | 'no-watch',
    crashable?: boolean,
  ): Promise<{ role: string }>;
  /** Conflict events this tab received for database `name`. */
  conflicts(name: string): ConflictEventDetail[];
  /** Every sync status this tab saw for database `name`. */
  statusLog(name: string): SyncStatus[];
  db(name: string): Database;
  /** Starts a live query whose deliveries are recorded under `key`. */
  live(name: string, key: string, sql: string, params?: SqlParams): void;
  /** Every result delivered to live query `key`, in order. */
  liveResults(key: string): Row[][];
  /** Waits until live query `key` delivered a result matching `predicate` (given as a function body over `rows`). */
  waitForLive(key: string, predicateBody: string, timeoutMs?: number): Promise<Row[]>;
  errors: string[];
  /** Opens `name` with a worker that has no OPFS sync access handles; resolves to the error code. */
  openWithoutOpfs(name: string, schema: AppSchema): Promise<string>;
  /** Opens `name` (OPFS) with a worker that {@link Harness.crashWorker} can make die; returns the role. */
  openCrashable(name: string, schema: AppSchema): Promise<{ role: string }>;
  /** A `createWorker` for {@link Harness.open} whose workers {@link Harness.crashWorker} can make die (any options, e.g. sync). */
  crashableWorker(name: string): (workerName: string) => Worker;
  /** Makes this tab's worker of `name` (opened with openCrashable, while leading) end on its own. */
  crashWorker(name: string): void;
  /** The device's remembered last user of database `name` (IndexedDB). */
  lastAttachedUser(name: string): Promise<string | null>;
}

const databases = new Map<string, Database>();
const crashableWorkers = new Map<string, Worker>();

/** A worker factory whose workers {@link Harness.crashWorker} can make die. */
const crashableWorker =
  (name: string) =>
  (workerName: string): Worker => {
    const worker = new Worker(new URL('./crashable-worker.ts', import.meta.url), { type: 'module', name: `oversqlite:${workerName}` });
    crashableWorkers.set(name, worker);
    return worker;
  };
const lives = new Map<string, { query: LiveQuery; results: Row[][]; waiters: Array<() => void> }>();
const errors: string[] = [];
const statusLogs = new Map<string, SyncStatus[]>();
const conflictLogs = new Map<string, ConflictEventDetail[]>();

/** A custom resolver (runs here, on the main thread of the leader tab): keeps both bodies. */
const mergeBodies: ConflictResolver = (context) => ({
  row: {
    ...(context.serverRow ?? {}),
    ...(context.localRow ?? {}),
    body: `${String(context.serverRow?.body)}|${String(context.localRow?.body)}`,
  },
});

const harness: Harness = {
  async open(options) {
    const db = await openDatabase(options);
    databases.set(options.name, db);
    db.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    return { role: db.role };
  },
  async openSynced(name, schema, token, conflicts = 'server-wins', autoSync = false, crashable = false) {
    const result = await harness.open({
      name,
      schema,
      ...(crashable ? { createWorker: crashableWorker(name) } : {}),
      sync: {
        serverUrl: location.origin,
        remoteSchema: 'e2e',
        tables: [{ table: 'items', syncKey: 'id' }],
        getToken: async () => token,
        conflicts: conflicts === 'merge-bodies' ? mergeBodies : conflicts,
        autoSync: autoSync ? { debounceMs: 50, intervalMs: 60_000, watch: autoSync !== 'no-watch' } : false,
      },
    });
    const conflictLog: ConflictEventDetail[] = [];
    conflictLogs.set(name, conflictLog);
    harness.db(name).on('conflict', (c) => conflictLog.push(c));
    const log: SyncStatus[] = [];
    statusLogs.set(name, log);
    const db = harness.db(name);
    const current = db.sync.status.get();
    if (current !== null) log.push(current);
    db.sync.status.subscribe((status) => {
      if (status !== null) log.push(status);
    });
    return result;
  },
  conflicts(name) {
    return conflictLogs.get(name) ?? [];
  },
  statusLog(name) {
    return statusLogs.get(name) ?? [];
  },
  db(name) {
    const db = databases.get(name);
    if (db === undefined) throw new Error(`database ${name} is not open in this page`);
    return db;
  },
  live(name, key, sql, params) {
    const entry = { query: undefined as unknown as LiveQuery, results: [] as Row[][], waiters: [] as Array<() => void> };
    entry.query = harness.db(name).live(
      sql,
      params,
      (rows) => {
        entry.results.push(rows);
        for (const w of entry.waiters.splice(0)) w();
      },
      (e) => errors.push(`live ${key}: ${e.code}: ${e.message}`),
    );
    lives.set(key, entry);
  },
  liveResults(key) {
    return lives.get(key)?.results ?? [];
  },
  async waitForLive(key, predicateBody, timeoutMs = 10_000) {
    const entry = lives.get(key);
    if (entry === undefined) throw new Error(`no live query ${key}`);
    const predicate = new Function('rows', predicateBody) as (rows: Row[]) => boolean;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = entry.results.at(-1);
      if (last !== undefined && predicate(last)) return last;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `live ${key}: no matching result within ${timeoutMs} ms; last: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        entry.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  },
  async openWithoutOpfs(name, schema) {
    try {
      await harness.open({
        name,
        schema,
        createWorker: () => new Worker(new URL('./no-opfs-worker.ts', import.meta.url), { type: 'module' }),
      });
      return 'opened';
    } catch (e) {
      return (e as { code: string }).code;
    }
  },
  openCrashable(name, schema) {
    return harness.open({ name, schema, createWorker: crashableWorker(name) });
  },
  crashableWorker(name) {
    return crashableWorker(name);
  },
  crashWorker(name) {
    const worker = crashableWorkers.get(name);
    if (worker === undefined) throw new Error(`this tab never started a worker for ${name}`);
    worker.postMessage({ oversqliteTestCrash: true });
  },
  errors,
  lastAttachedUser,
};

(globalThis as unknown as { harness: Harness }).harness = harness;
document.getElementById('state')!.textContent = 'ready';
