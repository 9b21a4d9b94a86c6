/**
 * The benchmark page: exposes `window.bench` for the Node runner (Playwright `page.evaluate`). It
 * drives the real facade (`openDatabase`) on the bench worker, standalone bench workers (for the
 * in-worker measurements and sync devices), and a long-task observer for the main thread.
 */
import * as Comlink from 'comlink';
import { openDatabase } from '../../src/index.ts';
import type { Database } from '../../src/index.ts';
import type { BenchWorkerService } from './bench-worker.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from './schema.ts';

function newBenchWorker(name: string): Worker {
  return new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module', name: `bench:${name}` });
}

const databases = new Map<string, Database>();
/** The facade's worker in this tab (leader tabs only), wrapped a second time for in-worker timings. */
const facadeWorkers = new Map<string, Comlink.Remote<BenchWorkerService>>();
const workers = new Map<string, { worker: Worker; remote: Comlink.Remote<BenchWorkerService> }>();
let longTasks: number[] = [];
let observer: PerformanceObserver | undefined;

const bench = {
  /** Opens `name` through the facade on the bench worker; returns the tab's role and the open time. */
  async openFacade(name: string): Promise<{ role: string; ms: number }> {
    const t0 = performance.now();
    const db = await openDatabase({
      name,
      schema: itemsSchema,
      requestPersistence: false,
      createWorker: (n) => {
        const worker = newBenchWorker(n);
        facadeWorkers.set(name, Comlink.wrap<BenchWorkerService>(worker));
        return worker;
      },
    });
    databases.set(name, db);
    return { role: db.role, ms: performance.now() - t0 };
  },
  /**
   * Opens `name` through the facade with sync, as an app does: to `serverUrl` (the sync server
   * itself, another origin: CORS) or, without it, to this page's origin (proxied to the sync
   * server); `watch` turns on auto-sync driven by the server's watch stream.
   */
  async openSynced(name: string, token: string, watch: boolean, serverUrl?: string): Promise<void> {
    const db = await openDatabase({
      name,
      schema: itemsSchema,
      requestPersistence: false,
      createWorker: (n) => newBenchWorker(n),
      sync: {
        serverUrl: serverUrl ?? location.origin,
        remoteSchema,
        tables: itemsSyncTables,
        getToken: async () => token,
        autoSync: watch ? { debounceMs: 0, intervalMs: 3_600_000, watch: true } : false,
      },
    });
    databases.set(name, db);
  },
  async attachSynced(name: string, userId: string): Promise<string> {
    const result = await databaseOf(name).sync.attach(userId);
    return result.status === 'connected' ? result.outcome : result.status;
  },
  /**
   * Propagation through the facade: a live query on `b` for `key` is started and its first (empty)
   * result awaited; then the clock starts, `a` inserts the row and pushes it, and the clock stops
   * when `b`'s live query delivers the row.
   */
  async propagateFacade(a: string, b: string, key: string, n: number): Promise<{ totalMs: number; pushMs: number }> {
    const dbA = databaseOf(a);
    const dbB = databaseOf(b);
    let first: () => void = () => {};
    let arrived: () => void = () => {};
    const firstResult = new Promise<void>((resolve) => {
      first = resolve;
    });
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const live = dbB.live<{ c: number }>('SELECT count(*) AS c FROM items WHERE id = ?', [key], (rows) => {
      first();
      if (rows[0]?.c === 1) arrived();
    });
    try {
      await firstResult;
      const t0 = performance.now();
      await dbA.exec('INSERT INTO items (id, n, body) VALUES (?, ?, ?)', [key, n, itemBody(n)]);
      await dbA.sync.pushPending();
      const pushMs = performance.now() - t0;
      await arrival;
      return { totalMs: performance.now() - t0, pushMs };
    } finally {
      live.close();
    }
  },
  role(name: string): string {
    return databaseOf(name).role;
  },
  /** Inserts `rows` items through the facade in transactions of 1,000 statements. */
  async seed(name: string, rows: number, prefix: string): Promise<void> {
    const db = databaseOf(name);
    for (let start = 0; start < rows; start += 1000) {
      const statements = [];
      for (let i = start; i < Math.min(rows, start + 1000); i++)
        statements.push({ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', params: [itemKey(prefix, i), i, itemBody(i)] });
      await db.transaction(statements);
    }
  },
  /** Awaited point queries through the facade, one at a time; ms each. */
  async timeFacadeQueries(name: string, keys: string[]): Promise<number[]> {
    const db = databaseOf(name);
    const times: number[] = [];
    for (const key of keys) {
      const t0 = performance.now();
      const rows = await db.query('SELECT id, n, body FROM items WHERE id = ?', [key]);
      times.push(performance.now() - t0);
      if (rows.length !== 1) throw new Error(`point query for ${key} returned ${rows.length} rows`);
    }
    return times;
  },
  /** The same point queries inside this tab's facade worker (leader only); ms each. */
  async timeInWorkerQueries(name: string, keys: string[]): Promise<number[]> {
    const remote = facadeWorkers.get(name);
    if (remote === undefined) throw new Error(`this tab has no worker for ${name} (not the leader?)`);
    return remote.timePointQueries(keys);
  },
  /**
   * `calls` single-row INSERTs issued at once through the facade (one call per row, as an app's
   * event handlers do); returns the total ms and each call's latency.
   */
  async concurrentWrites(name: string, calls: number, prefix: string): Promise<{ totalMs: number; latencies: number[] }> {
    const db = databaseOf(name);
    const latencies = new Array<number>(calls);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const started = performance.now();
        await db.exec('INSERT INTO items (id, n, body) VALUES (?, ?, ?)', [itemKey(prefix, i), i, itemBody(i)]);
        latencies[i] = performance.now() - started;
      }),
    );
    return { totalMs: performance.now() - t0, latencies };
  },
  /**
   * `count` read-then-write units on seeded items, awaited one after another: `interactive` runs
   * each as `db.transaction(async (tx) => ...)` (read a row, update it and one more); otherwise as
   * the batch `db.transaction([update, update])` (the atomic form without a read in between).
   * Returns each unit's ms.
   */
  async transactionUnits(name: string, count: number, interactive: boolean, prefix: string, seeded: number): Promise<number[]> {
    const db = databaseOf(name);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const a = itemKey(prefix, i % seeded);
      const b = itemKey(prefix, (i + 1) % seeded);
      const t0 = performance.now();
      if (interactive) {
        await db.transaction(async (tx) => {
          const [row] = await tx.query<{ n: number }>('SELECT n FROM items WHERE id = ?', [a]);
          await tx.exec('UPDATE items SET n = ? WHERE id = ?', [row!.n + 1, a]);
          await tx.exec('UPDATE items SET n = n - 1 WHERE id = ?', [b]);
        });
      } else {
        await db.transaction([
          { sql: 'UPDATE items SET n = n + 1 WHERE id = ?', params: [a] },
          { sql: 'UPDATE items SET n = n - 1 WHERE id = ?', params: [b] },
        ]);
      }
      times.push(performance.now() - t0);
    }
    return times;
  },
  /** Retries a point query until it succeeds; returns the epoch ms when it first did. */
  async waitServing(name: string, key: string, timeoutMs = 30_000): Promise<number> {
    const db = databaseOf(name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await db.query('SELECT id FROM items WHERE id = ?', [key]);
        return performance.timeOrigin + performance.now();
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  },
  async closeFacade(name: string): Promise<void> {
    await databaseOf(name).close();
    databases.delete(name);
    facadeWorkers.delete(name);
  },

  // --- standalone bench workers -----------------------------------------------------------------
  spawn(id: string): void {
    const worker = newBenchWorker(id);
    workers.set(id, { worker, remote: Comlink.wrap<BenchWorkerService>(worker) });
  },
  /** Calls a method of standalone worker `id`. */
  async call(id: string, method: string, args: unknown[]): Promise<unknown> {
    const entry = workers.get(id);
    if (entry === undefined) throw new Error(`no worker ${id}`);
    const fn = (entry.remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
    return fn(...args);
  },
  terminate(id: string): void {
    workers.get(id)?.worker.terminate();
    workers.delete(id);
  },

  // --- main-thread responsiveness ---------------------------------------------------------------
  startLongTasks(): void {
    longTasks = [];
    observer?.disconnect();
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: 'longtask', buffered: false });
  },
  stopLongTasks(): { count: number; longestMs: number } {
    observer?.disconnect();
    observer = undefined;
    return { count: longTasks.length, longestMs: longTasks.length ? Math.max(...longTasks) : 0 };
  },
};

function databaseOf(name: string): Database {
  const db = databases.get(name);
  if (db === undefined) throw new Error(`database ${name} is not open in this tab`);
  return db;
}

export type Bench = typeof bench;
(globalThis as unknown as { bench: Bench }).bench = bench;
document.getElementById('state')!.textContent = 'ready';
