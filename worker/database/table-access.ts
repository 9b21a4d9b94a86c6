/**
 * Watches one SQLite connection to learn which tables each commit changed and which tables a
 * query reads.
 *
 * Writes are seen twice on purpose: the update hook reports every row change at run time but
 * skips WITHOUT ROWID tables, and the authorizer reports the tables a statement (and the triggers
 * compiled into it) may write at prepare time. The union can over-report a table (a statement
 * that matched no row, a savepoint rolled back); it never under-reports one, which is what live
 * queries need. A full rollback discards everything collected since the last commit.
 *
 * A commit is announced from a microtask after the commit hook fires: by then SQLite has either
 * finished the commit or rolled it back (and the rollback hook cleared the set). Writers that are
 * not this module (the sync engine) therefore get announced too, as long as they never keep a
 * transaction open across an `await` (a rule the whole worker follows).
 */
import type { Database, PreparedStatement, Sqlite3Static, WasmPointer } from '@sqlite.org/sqlite-wasm';

/** One committed change: the app tables it touched and a sequence number that only grows. */
export interface CommitNotice {
  /** App tables touched by the commit, sorted. Internal tables (`_sync_*`, `_oversqlite_*`, `sqlite_*`) are left out. */
  readonly tables: readonly string[];
  /** Increases by one for every announced commit of this connection. */
  readonly seq: number;
}

// Authorizer action codes (sqlite3.h); the wasm build exposes them on capi too, but reading
// them once here keeps the hot callback free of property lookups.
const SQLITE_DELETE = 9;
const SQLITE_INSERT = 18;
const SQLITE_READ = 20;
const SQLITE_UPDATE = 23;

/** Whether a table belongs to the app (and so is worth announcing or watching). */
function isAppTable(table: string): boolean {
  const lower = table.toLowerCase();
  return !(lower.startsWith('_sync_') || lower.startsWith('_oversqlite_') || lower.startsWith('sqlite_'));
}

/** Hooks on one connection that produce {@link CommitNotice}s and read-table sets. */
export class TableAccessMonitor {
  readonly #pending = new Set<string>();
  #committed = false;
  #announceScheduled = false;
  #seq = 0;
  #readCapture: Set<string> | undefined;
  #writeCapture: Set<string> | undefined;
  readonly #listeners = new Set<(notice: CommitNotice) => void>();
  readonly #rowHook: WasmPointer;

  /** Installs the hooks on `db`. Only one monitor may own a connection's hooks. */
  readonly #sqlite3: Sqlite3Static;
  readonly #db: Database;
  constructor(sqlite3: Sqlite3Static, db: Database) {
    this.#sqlite3 = sqlite3;
    this.#db = db;
    const { capi } = sqlite3;
    capi.sqlite3_set_authorizer(
      db,
      (_ctx, action, arg1) => {
        if (typeof arg1 === 'string') {
          if (action === SQLITE_READ) this.#readCapture?.add(arg1);
          else if (action === SQLITE_INSERT || action === SQLITE_UPDATE || action === SQLITE_DELETE) {
            this.#pending.add(arg1);
            this.#writeCapture?.add(arg1);
          }
        }
        return 0;
      },
      0,
    );
    // Installed as a wasm function of our own (not through capi's adapter) so that
    // withoutRowHook can switch it off and on again cheaply.
    const { wasm } = sqlite3;
    // The last table's name and its UTF-8 bytes: a bulk write reports one table row after row, and
    // comparing a few bytes costs far less than decoding them (~0.5 us a row in Node). Compared,
    // not trusted by address: a table created after a drop may get the same one.
    const names = new TextDecoder();
    let lastName = '';
    let lastBytes = new Uint8Array(0);
    let lastPtr = 0;
    this.#rowHook = wasm.installFunction('v(pippj)', (_ctx: number, _op: number, _dbName: number, table: number) => {
      if (table === 0) return;
      const heap = wasm.heap8u();
      if (table === lastPtr && heap[table + lastBytes.length] === 0) {
        let i = 0;
        while (i < lastBytes.length && heap[table + i] === lastBytes[i]) i++;
        if (i === lastBytes.length) {
          this.#pending.add(lastName);
          return;
        }
      }
      let end = table;
      while (heap[end] !== 0) end++;
      lastBytes = heap.slice(table, end);
      lastName = names.decode(lastBytes);
      lastPtr = table;
      this.#pending.add(lastName);
    });
    this.#setRowHook(this.#rowHook);
    capi.sqlite3_commit_hook(
      db,
      () => {
        this.#committed = true;
        if (!this.#announceScheduled) {
          this.#announceScheduled = true;
          queueMicrotask(() => this.announce());
        }
        return 0;
      },
      0,
    );
    capi.sqlite3_rollback_hook(
      db,
      () => {
        this.#pending.clear();
        this.#committed = false;
        return 0;
      },
      0,
    );
  }

  /** Registers a listener for commit notices; returns the unsubscribe function. */
  onCommit(listener: (notice: CommitNotice) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Announces the pending commit now (the group commit calls this right after its COMMIT so the
   * notice goes out before the callers' promises settle). Safe to call when nothing is pending.
   */
  announce(): void {
    this.#announceScheduled = false;
    if (!this.#committed) return;
    this.#committed = false;
    // Statements prepared outside any transaction add tables before their autocommit; if the
    // connection is inside a transaction now, what is pending belongs to the next commit.
    const tables = [...this.#pending].filter(isAppTable).sort();
    this.#pending.clear();
    if (tables.length === 0) return;
    const notice: CommitNotice = { tables, seq: ++this.#seq };
    for (const listener of this.#listeners) listener(notice);
  }

  /** Prepares `sql` (without running it) and returns the app tables it reads. */
  tablesReadBy(sql: string): string[] {
    const capture = new Set<string>();
    this.#readCapture = capture;
    const writesBefore = new Set(this.#pending);
    try {
      const stmt = this.#db.prepare(sql);
      stmt.finalize();
    } finally {
      this.#readCapture = undefined;
      // Preparing a write statement here must not mark its tables as changed.
      for (const table of [...this.#pending]) if (!writesBefore.has(table)) this.#pending.delete(table);
    }
    return [...capture].filter(isAppTable).sort();
  }

  /**
   * Prepares `sql` and returns the statement with the tables the authorizer saw it may write
   * (they are pending for the next commit, as for any statement prepared here).
   */
  prepareTracked(sql: string): { stmt: PreparedStatement; writes: readonly string[] } {
    const writes = new Set<string>();
    this.#writeCapture = writes;
    try {
      const stmt = this.#db.prepare(sql);
      return { stmt, writes: [...writes] };
    } finally {
      this.#writeCapture = undefined;
    }
  }

  /** Marks `tables` as possibly written by the statement about to run (a reused prepared statement). */
  noteWrites(tables: readonly string[]): void {
    for (const table of tables) this.#pending.add(table);
  }

  /**
   * Runs `write` with the row-change hook off: for writes to internal tables only (never
   * announced), which then skip a call into JavaScript per row (~0.7 us in Node).
   */
  withoutRowHook<T>(write: () => T): T {
    this.#setRowHook(0);
    try {
      return write();
    } finally {
      this.#setRowHook(this.#rowHook);
    }
  }

  #setRowHook(hook: WasmPointer): void {
    (
      this.#sqlite3.wasm.exports as { sqlite3_update_hook: (db: WasmPointer, hook: WasmPointer, arg: number) => number }
    ).sqlite3_update_hook(this.#db.pointer!, hook, 0);
  }

  /** Removes the hooks (before the connection closes). */
  dispose(): void {
    const { capi } = this.#sqlite3;
    capi.sqlite3_set_authorizer(this.#db, 0 as never, 0);
    this.#setRowHook(0);
    this.#sqlite3.wasm.uninstallFunction(this.#rowHook);
    capi.sqlite3_commit_hook(this.#db, 0, 0);
    capi.sqlite3_rollback_hook(this.#db, 0, 0);
    this.#listeners.clear();
  }
}
