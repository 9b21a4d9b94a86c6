/**
 * Prepared statements of app SQL, kept per connection and reused by SQL text. Preparing is the
 * expensive part of a small statement: SQLite compiles the statement together with every trigger
 * it fires (the sync engine's capture triggers are three subqueries and an upsert per synced
 * table), and that compile costs more than running the write. Reuse is safe across schema
 * changes only if the cache notices them: SQLite would recompile a stale statement on its next
 * step, but after the caller has read its column names, and without telling the authorizer's
 * observers for later runs. So every acquire compares `PRAGMA schema_version` (one cached step) and
 * drops all statements when it moved.
 *
 * The authorizer reports the tables a statement may write only when it is compiled, so the cache
 * keeps that list with the statement and hands it to the {@link TableAccessMonitor} on every reuse
 * (the update hook alone misses WITHOUT ROWID tables).
 */
import type { Database, PreparedStatement } from '@sqlite.org/sqlite-wasm';
import type { TableAccessMonitor } from './table-access.ts';

interface Entry {
  stmt: PreparedStatement;
  writes: readonly string[];
  busy: boolean;
  /** Dropped from the cache while lent: finalized when given back. */
  dropped: boolean;
}

/** A statement lent by {@link StatementCache.acquire}; give it back with `release`. */
interface LentStatement {
  readonly stmt: PreparedStatement;
  release(): void;
}

/** Least-recently-used cache of prepared statements for one connection. */
export class StatementCache {
  readonly #entries = new Map<string, Entry>();
  #schemaVersionStmt: PreparedStatement | undefined;
  #schemaVersion = -1;

  readonly #db: Database;
  readonly #monitor: TableAccessMonitor;
  readonly #capacity: number;
  constructor(db: Database, monitor: TableAccessMonitor, capacity = 64) {
    this.#db = db;
    this.#monitor = monitor;
    this.#capacity = capacity;
  }

  /** A reset statement for `sql`: cached, or freshly prepared (and cached when there is room). */
  acquire(sql: string): LentStatement {
    const version = this.#currentSchemaVersion();
    if (version !== this.#schemaVersion) {
      this.#dropAll();
      this.#schemaVersion = version;
    }
    const hit = this.#entries.get(sql);
    if (hit && !hit.busy) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(sql);
      this.#entries.set(sql, hit);
      this.#monitor.noteWrites(hit.writes);
      hit.busy = true;
      return { stmt: hit.stmt, release: () => this.#giveBack(hit) };
    }
    const { stmt, writes } = this.#monitor.prepareTracked(sql);
    if (hit) {
      // The same SQL is running further up the stack: this one is not kept.
      return { stmt, release: () => stmt.finalize() };
    }
    const entry: Entry = { stmt, writes, busy: true, dropped: false };
    this.#entries.set(sql, entry);
    this.#evict();
    return { stmt, release: () => this.#giveBack(entry) };
  }

  /** Finalizes every cached statement (before the connection closes). */
  clear(): void {
    this.#dropAll();
    this.#schemaVersionStmt?.finalize();
    this.#schemaVersionStmt = undefined;
    this.#schemaVersion = -1;
  }

  #currentSchemaVersion(): number {
    this.#schemaVersionStmt ??= this.#db.prepare('PRAGMA schema_version');
    try {
      return this.#schemaVersionStmt.step() ? Number(this.#schemaVersionStmt.get(0)) : -1;
    } finally {
      this.#schemaVersionStmt.reset();
    }
  }

  #dropAll(): void {
    for (const entry of this.#entries.values()) {
      if (entry.busy) entry.dropped = true;
      else entry.stmt.finalize();
    }
    this.#entries.clear();
  }

  #giveBack(entry: Entry): void {
    entry.busy = false;
    if (entry.dropped) entry.stmt.finalize();
    else entry.stmt.reset(true);
  }

  #evict(): void {
    for (const [sql, entry] of this.#entries) {
      if (this.#entries.size <= this.#capacity) return;
      if (entry.busy) continue;
      this.#entries.delete(sql);
      entry.stmt.finalize();
    }
  }
}
