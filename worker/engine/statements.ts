/**
 * Prepared-statement cache for the engine's hot paths (capture-free applies of thousands of rows:
 * snapshot staging and apply, bundle replay). Preparing a statement costs far more than running
 * it, so each distinct SQL text is prepared once per connection. oo1 finalizes open statements
 * when the database closes; `finalizeStatements` releases them earlier (engine close).
 */
import type { Database, PreparedStatement } from '@sqlite.org/sqlite-wasm';

const caches = new WeakMap<Database, Map<string, PreparedStatement>>();

function cached(db: Database, sql: string): PreparedStatement {
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
  const stmt = cached(db, sql);
  try {
    if (bind.length) stmt.bind(bind as never);
    return stmt.step() ? stmt.get(0) : undefined;
  } finally {
    stmt.reset(true);
  }
}

/** The first row of `sql` as an array (undefined when there is no row), cached. */
export function selectRowCached(db: Database, sql: string, bind: readonly unknown[]): unknown[] | undefined {
  const stmt = cached(db, sql);
  try {
    if (bind.length) stmt.bind(bind as never);
    return stmt.step() ? (stmt.get([]) as unknown[]) : undefined;
  } finally {
    stmt.reset(true);
  }
}

/**
 * Runs `sql` with `bind` through a cached prepared statement (no result rows). The reset is in
 * `finally`: a step that fails on a constraint must leave the statement reusable.
 */
export function runCached(db: Database, sql: string, bind: readonly unknown[]): void {
  const stmt = cached(db, sql);
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
