/**
 * The engine's one prepared-statement cache, for its hot paths (capture-free applies of thousands
 * of rows: bundle apply, snapshot staging and apply, bundle replay). Preparing a statement costs
 * far more than running it, so each distinct SQL text is prepared once per connection. Every
 * statement the engine prepares lives here, so `finalizeStatements` (engine close) leaves none
 * open on the connection. Each run resets its statement in `finally`: a step that fails on a
 * constraint must leave the statement reusable (a later bind would fail with SQLITE_MISUSE).
 */
import type { Database, PreparedStatement } from '@sqlite.org/sqlite-wasm';

const caches = new WeakMap<Database, Map<string, PreparedStatement>>();

/** The statement of `sql` from the cache (prepared once), for a caller that binds and steps it itself and resets it in `finally`. */
export function cachedStatement(db: Database, sql: string): PreparedStatement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

/** The first column of the first row of `sql` (undefined when there is no row), cached. An empty `bind` binds nothing. */
export function selectCached(db: Database, sql: string, bind: readonly unknown[]): unknown {
  const stmt = cachedStatement(db, sql);
  try {
    if (bind.length) stmt.bind(bind as never);
    return stmt.step() ? stmt.get(0) : undefined;
  } finally {
    stmt.reset(true);
  }
}

/** The first row of `sql` as an array (undefined when there is no row), cached. */
export function selectRowCached(db: Database, sql: string, bind: readonly unknown[]): unknown[] | undefined {
  const stmt = cachedStatement(db, sql);
  try {
    if (bind.length) stmt.bind(bind as never);
    return stmt.step() ? (stmt.get([]) as unknown[]) : undefined;
  } finally {
    stmt.reset(true);
  }
}

/** All result rows of `sql` as arrays, cached. */
export function selectRowsCached(db: Database, sql: string, bind: readonly unknown[]): unknown[][] {
  const stmt = cachedStatement(db, sql);
  const out: unknown[][] = [];
  try {
    if (bind.length) stmt.bind(bind as never);
    while (stmt.step()) out.push(stmt.get([]) as unknown[]);
  } finally {
    stmt.reset(true);
  }
  return out;
}

/** Runs `sql` with `bind` through a cached prepared statement (no result rows). */
export function runCached(db: Database, sql: string, bind: readonly unknown[]): void {
  const stmt = cachedStatement(db, sql);
  try {
    if (bind.length) stmt.bind(bind as never);
    stmt.step();
  } finally {
    stmt.reset(true);
  }
}

/** Finalizes every cached statement of `db`. */
export function finalizeStatements(db: Database): void {
  const cache = caches.get(db);
  if (!cache) return;
  for (const stmt of cache.values()) {
    try {
      stmt.finalize();
    } catch {
      // already finalized by a database close
    }
  }
  caches.delete(db);
}
