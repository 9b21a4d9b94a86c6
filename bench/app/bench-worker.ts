/**
 * The benchmark's database worker. It is the real {@link WorkerService} (so the facade can run on
 * it through `createWorker`), plus measurement methods that run *inside* the worker: the local
 * write cost with and without capture, point queries without any message hop, direct inserts
 * (the local limit of a hydrate), and "devices" — a LocalDatabase with the real SyncEngine next
 * to it — that attach, pull and hydrate.
 */
import * as Comlink from 'comlink';
import { LocalDatabase } from '../../worker/database/local-database.ts';
import { WorkerService } from '../../worker/database/worker-service.ts';
import type { WorkerCallbacks, WorkerOpenInfo, WorkerOpenOptions } from '../../worker/database/worker-service.ts';
import type { Outcome, SqlStatement } from '../../worker/database/types.ts';
import type { StorageKind } from '../../worker/database/storage-kinds.ts';
import { SyncEngine } from '../../worker/engine/index.ts';
import type { AttachResult, PullResult } from '../../worker/engine/types.ts';
import { itemBody, itemKey, itemsSchema, itemsSyncTables, remoteSchema } from './schema.ts';

/** Timings (ms) of one write-cost repeat. */
export interface WriteCostSample {
  insertBulkMs: number;
  updateBulkMs: number;
  insertSingleMs: number;
  updateSingleMs: number;
}

/** A device: a database plus (when synced) the engine. */
interface Device {
  readonly db: LocalDatabase;
  readonly engine: SyncEngine | undefined;
}

/** Sync engine options every bench device uses. */
function engineFor(db: LocalDatabase, serverUrl: string, token: string | null, watch: boolean): Promise<SyncEngine> {
  return SyncEngine.open({
    sqlite3: db.sqlite3,
    db: db.connection,
    remoteSchema,
    tables: itemsSyncTables.map((t) => ({ ...t })),
    serverUrl,
    getToken: async () => token,
    autoSync: watch ? { debounceMs: 0, intervalMs: 3_600_000, watch: true } : false,
  });
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

async function writeOrThrow(db: LocalDatabase, statements: SqlStatement[]): Promise<void> {
  unwrap(await db.write({ statements }));
}

/** Where a snapshot hydrate's time went (ms): until the server's session exists, download + staging, final apply. */
export interface SnapshotPhases {
  untilSessionMs: number;
  downloadStageMs: number;
  finalApplyMs: number;
}

/** The service: WorkerService for the facade, plus the in-worker measurements. */
export class BenchWorkerService extends WorkerService {
  private readonly devices = new Map<string, Device>();

  /**
   * The facade cannot configure sync yet; a database whose name starts with `synced-` gets the
   * engine (capture triggers, never attached) so the facade's write path includes capture.
   */
  override async open(options: WorkerOpenOptions, callbacks: WorkerCallbacks): Promise<Outcome<WorkerOpenInfo>> {
    if (!options.name.startsWith('synced-') || options.sync !== undefined) return super.open(options, callbacks);
    const sync = { serverUrl: 'http://127.0.0.1:9', remoteSchema, tables: itemsSyncTables, conflicts: 'server-wins' as const };
    return super.open({ ...options, sync }, { onCommit: (notice) => callbacks.onCommit(notice), getToken: async () => null });
  }

  /** Point queries through the service's own query method: the facade's path minus the message hops. */
  async timePointQueries(keys: string[]): Promise<number[]> {
    const times: number[] = [];
    for (const key of keys) {
      const t0 = performance.now();
      unwrap(await this.query('SELECT id, n, body FROM items WHERE id = ?', [key]));
      times.push(performance.now() - t0);
    }
    return times;
  }

  /**
   * One repeat of the local write cost on a fresh OPFS database `name`, with or without the sync
   * engine's capture triggers: 10,000 rows inserted then updated in one write unit (one
   * transaction), and 1,000 rows inserted then updated one awaited write unit (one durable
   * commit) each — the app's write path inside the worker.
   */
  async writeCost(
    name: string,
    synced: boolean,
    bulkRows: number,
    singleRows: number,
    variantSql?: string,
    // false: no bulk update (a probe pricing the bulk insert alone by CPU time).
    withBulkUpdate = true,
  ): Promise<WriteCostSample> {
    const db = await LocalDatabase.open({ name, schema: itemsSchema, storage: 'opfs' });
    const engine = synced ? await engineFor(db, 'http://127.0.0.1:9', null, false) : undefined;
    // bench/probes/capture-browser.ts: other capture triggers (or layout) in place of the engine's.
    if (engine && variantSql) db.connection.exec(variantSql);
    try {
      const bulkInsert = Array.from({ length: bulkRows }, (_, i) => ({
        sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)',
        params: [itemKey('b', i), i, itemBody(i)],
      }));
      const bulkUpdate = Array.from({ length: bulkRows }, (_, i) => ({
        sql: 'UPDATE items SET n = n + 1, body = ? WHERE id = ?',
        params: [itemBody(i + 1), itemKey('b', i)],
      }));
      let t0 = performance.now();
      await writeOrThrow(db, bulkInsert);
      const insertBulkMs = performance.now() - t0;
      t0 = performance.now();
      if (withBulkUpdate) await writeOrThrow(db, bulkUpdate);
      const updateBulkMs = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < singleRows; i++)
        await writeOrThrow(db, [{ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', params: [itemKey('s', i), i, itemBody(i)] }]);
      const insertSingleMs = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < singleRows; i++)
        await writeOrThrow(db, [{ sql: 'UPDATE items SET n = n + 1 WHERE id = ?', params: [itemKey('s', i)] }]);
      const updateSingleMs = performance.now() - t0;
      // A variant may capture differently (or not at all, to price a part of the trigger).
      if (synced && !variantSql) {
        const dirty = db.connection.selectValue('SELECT count(*) FROM _sync_dirty_rows');
        if (Number(dirty) !== bulkRows + singleRows)
          throw new Error(`capture recorded ${String(dirty)} dirty rows, expected ${bulkRows + singleRows}`);
      }
      return { insertBulkMs, updateBulkMs, insertSingleMs, updateSingleMs };
    } finally {
      await engine?.close();
      db.close();
    }
  }

  /**
   * Commit-path diagnostics on a fresh OPFS database, `rows` awaited single-row INSERTs each:
   * through the database layer as shipped (group commit flushed by `setTimeout(0)`), through the
   * same layer with the flush scheduled by a MessageChannel message instead, and as bare SQLite
   * autocommit INSERTs on the same connection (the floor). Returns ms per commit for each.
   */
  async commitPaths(name: string, rows: number): Promise<{ shipped: number; messageChannel: number; rawSqlite: number }> {
    const channel = new MessageChannel();
    const queued: Array<() => void> = [];
    channel.port1.onmessage = () => queued.shift()?.();
    const viaMessage = (flush: () => void) => {
      queued.push(flush);
      channel.port2.postMessage(0);
    };
    const run = async (db: LocalDatabase, prefix: string) => {
      const t0 = performance.now();
      for (let i = 0; i < rows; i++)
        await writeOrThrow(db, [{ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', params: [itemKey(prefix, i), i, itemBody(i)] }]);
      return (performance.now() - t0) / rows;
    };
    let db = await LocalDatabase.open({ name, schema: itemsSchema, storage: 'opfs' });
    let shipped: number;
    let rawSqlite: number;
    try {
      shipped = await run(db, 'shipped');
      const conn = db.connection;
      const t0 = performance.now();
      for (let i = 0; i < rows; i++)
        conn.exec({ sql: 'INSERT INTO items (id, n, body) VALUES (?, ?, ?)', bind: [itemKey('raw', i), i, itemBody(i)] });
      rawSqlite = (performance.now() - t0) / rows;
    } finally {
      db.close();
    }
    db = await LocalDatabase.open({ name, schema: itemsSchema, storage: 'opfs', scheduleFlush: viaMessage });
    try {
      return { shipped, messageChannel: await run(db, 'mc'), rawSqlite };
    } finally {
      db.close();
      channel.port1.close();
    }
  }

  /** The local limit of hydrate: `rows` inserted with one prepared statement in one transaction, ms. */
  async insertDirect(name: string, rows: number, prefix: string): Promise<number> {
    const db = await LocalDatabase.open({ name, schema: itemsSchema, storage: 'opfs' });
    try {
      const conn = db.connection;
      const t0 = performance.now();
      conn.transaction(() => {
        const stmt = conn.prepare('INSERT INTO items (id, n, body) VALUES (?, ?, ?)');
        try {
          for (let i = 0; i < rows; i++) stmt.bind([itemKey(prefix, i), i, itemBody(i)]).stepReset();
        } finally {
          stmt.finalize();
        }
      });
      return performance.now() - t0;
    } finally {
      db.close();
    }
  }

  // --- devices (database + real sync engine) -------------------------------------------------

  /** Opens a device; `serverUrl` defaults to this page's origin (the bench Vite server proxies /sync). */
  async openDevice(name: string, storage: StorageKind, token: string, watch = false, serverUrl = self.location.origin): Promise<void> {
    if (this.devices.has(name)) throw new Error(`device ${name} is already open`);
    const db = await LocalDatabase.open({ name, schema: itemsSchema, storage });
    try {
      const engine = await engineFor(db, serverUrl, token, watch);
      this.devices.set(name, { db, engine });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Attaches a device to `userId`; returns the result and the time it took (a snapshot on a fresh device with remote data). */
  async attach(name: string, userId: string): Promise<{ result: AttachResult; ms: number; phases: SnapshotPhases | null }> {
    const engine = this.engineOf(name);
    // Phases of a snapshot hydrate, from the engine's hydrating progress events: the first one
    // comes once the server created the session (done 0), the last when every row is staged.
    let first = 0;
    let last = 0;
    const unsubscribe = engine.subscribe((ev) => {
      if (ev.type !== 'status' || ev.status.phase !== 'hydrating' || !ev.status.progress) return;
      const now = performance.now();
      if (!first) first = now;
      if (ev.status.progress.done === ev.status.progress.total) last = now;
    });
    const t0 = performance.now();
    try {
      const result = await engine.attach(userId);
      const t1 = performance.now();
      const phases = first && last ? { untilSessionMs: first - t0, downloadStageMs: last - first, finalApplyMs: t1 - last } : null;
      return { result, ms: t1 - t0, phases };
    } finally {
      unsubscribe();
    }
  }

  /** Pulls to the stable ceiling; returns the result and ms. */
  async pull(name: string): Promise<{ result: PullResult; ms: number }> {
    const t0 = performance.now();
    const result = await this.engineOf(name).pullToStable();
    return { result, ms: performance.now() - t0 };
  }

  /** Rebuilds from a snapshot; returns the result and ms. */
  async hydrate(name: string): Promise<{ result: PullResult; ms: number }> {
    const t0 = performance.now();
    const result = await this.engineOf(name).hydrate();
    return { result, ms: performance.now() - t0 };
  }

  /** Row count of `items` on a device. */
  async countRows(name: string): Promise<number> {
    return Number(this.deviceOf(name).db.connection.selectValue('SELECT count(*) FROM items'));
  }

  /** Closes a device and releases its file. */
  async closeDevice(name: string): Promise<void> {
    const device = this.devices.get(name);
    if (device === undefined) return;
    this.devices.delete(name);
    await device.engine?.close();
    device.db.close();
  }

  private deviceOf(name: string): Device {
    const device = this.devices.get(name);
    if (device === undefined) throw new Error(`no device ${name}`);
    return device;
  }

  private engineOf(name: string): SyncEngine {
    const engine = this.deviceOf(name).engine;
    if (engine === undefined) throw new Error(`device ${name} has no engine`);
    return engine;
  }
}

Comlink.expose(new BenchWorkerService());
