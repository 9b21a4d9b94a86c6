/**
 * A chaos device whose database is a real SQLite file (the `unix` VFS of sqlite-wasm, on
 * Emscripten's in-memory file system: a database file plus its rollback journal), so the device
 * survives its process: `reload()` closes the engine and opens a new one (an app restart);
 * `crash()` is a tab closed or a leader worker dying: the connection goes away at once, whatever
 * transaction is open (SQLite keeps only what committed, as journal recovery would after a real
 * crash), and the engine is dropped without `close()`; its in-flight calls fail on the closed
 * connection. `reopen()` then opens the file again and a new engine on it, as the next tab would.
 */
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../../worker/engine/index.ts';
import type { SyncEngineOptions, SyncEvent } from '../../../worker/engine/index.ts';

export class CrashableDevice {
  db: Database;
  engine: SyncEngine;
  /** True from `crash()` until `reopen()`. */
  crashed = false;
  private constructor(
    private readonly sqlite3: Sqlite3Static,
    private readonly path: string,
    private readonly options: Omit<SyncEngineOptions, 'db' | 'sqlite3'>,
    private readonly listeners: ((e: SyncEvent) => void)[],
    db: Database,
    engine: SyncEngine,
  ) {
    this.db = db;
    this.engine = engine;
  }

  /** A fresh database file at `path` (emptied first) with `schemaSql`, and an engine on it. */
  static async create(
    sqlite3: Sqlite3Static,
    path: string,
    schemaSql: string,
    options: Omit<SyncEngineOptions, 'db' | 'sqlite3'>,
    listeners: ((e: SyncEvent) => void)[],
  ): Promise<CrashableDevice> {
    sqlite3.capi.sqlite3_js_posix_create_file(path, new Uint8Array(0));
    const db = CrashableDevice.connect(sqlite3, path);
    db.exec(schemaSql);
    const engine = await SyncEngine.open({ ...options, sqlite3, db });
    for (const l of listeners) engine.subscribe(l);
    return new CrashableDevice(sqlite3, path, options, listeners, db, engine);
  }

  private static connect(sqlite3: Sqlite3Static, path: string): Database {
    const db = new sqlite3.oo1.DB(path, 'c');
    db.exec('PRAGMA foreign_keys = ON');
    return db;
  }

  /** An app restart: the engine closed cleanly and opened again on the same connection. */
  async reload(): Promise<void> {
    await this.engine.close();
    await this.openEngine();
  }

  /** The tab or worker dies now: the connection closes (open transaction lost), the engine is dropped. */
  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    this.db.close();
  }

  /** After a crash: the file opened again and a new engine on it. */
  async reopen(): Promise<void> {
    this.db = CrashableDevice.connect(this.sqlite3, this.path);
    this.crashed = false;
    await this.openEngine();
  }

  private async openEngine(): Promise<void> {
    this.engine = await SyncEngine.open({ ...this.options, sqlite3: this.sqlite3, db: this.db });
    for (const l of this.listeners) this.engine.subscribe(l);
  }

  /** Closes everything and empties the file (a long chaos job reuses the names). */
  async dispose(): Promise<void> {
    if (!this.crashed) {
      await this.engine.close().catch(() => undefined);
      this.db.close();
    }
    this.sqlite3.capi.sqlite3_js_posix_create_file(this.path, new Uint8Array(0));
  }
}
