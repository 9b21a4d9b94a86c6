/**
 * Transaction shapes of the runtime:
 * - user transactions: one per write operation, serialized per user with a transaction-level
 *   advisory lock (released by COMMIT/ROLLBACK, so it can never leak), retried on
 *   serialization failure / deadlock / lock-not-available;
 * - read snapshots: REPEATABLE READ READ ONLY, no lock.
 * Both render timestamps in UTC so captured payloads do not depend on a connection's TimeZone.
 */
import type { SqlDatabase, SqlSession } from '../database/types.ts';
import { quoteLiteral } from './catalog.ts';
import { isRetryablePgError } from './sync-error.ts';

const RETRY_DELAYS_MS = [25, 50];

async function inTransaction<T>(
  db: SqlDatabase,
  begin: string,
  setup: (tx: SqlSession) => Promise<void>,
  fn: (tx: SqlSession) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.withConnection(async (tx) => {
        // The BEGIN script is inside the try: a statement of it that fails (a lock wait cancelled
        // or timed out) leaves its transaction open, aborted, and the connection must not go back
        // to the pool so (every later statement on it would fail).
        try {
          await tx.query(begin);
          await setup(tx);
          const result = await fn(tx);
          await tx.query('COMMIT');
          return result;
        } catch (err) {
          await tx.query('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    } catch (err) {
      if (attempt >= RETRY_DELAYS_MS.length || !isRetryablePgError(err)) throw err;
      // Backoff before retrying a transaction PostgreSQL asked us to retry.
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
    }
  }
}

/**
 * Runs `fn` in a read-write transaction holding the user's advisory lock. `deferConstraints`
 * starts it with `SET CONSTRAINTS ALL DEFERRED`, and `savepoint` (a plain identifier) sets that
 * savepoint once the lock is held, both in the same round trip as BEGIN.
 */
export function inUserTransaction<T>(
  db: SqlDatabase,
  userId: string,
  fn: (tx: SqlSession) => Promise<T>,
  options: { deferConstraints?: boolean; savepoint?: string } = {},
): Promise<T> {
  if (options.savepoint !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.savepoint))
    throw new Error(`inUserTransaction: savepoint ${options.savepoint} is not a plain identifier`);
  // BEGIN, lock and settings in one round trip (a parameterless multi-statement script, so the
  // user id is inlined as a quoted literal).
  const begin =
    `BEGIN;${options.deferConstraints ? ' SET CONSTRAINTS ALL DEFERRED;' : ''} SELECT pg_advisory_xact_lock(hashtextextended(${quoteLiteral(userId)}, 0)), set_config('TimeZone', 'UTC', true)` +
    (options.savepoint ? `; SAVEPOINT ${options.savepoint}` : '');
  return inTransaction(db, begin, async () => {}, fn);
}

/** Runs `fn` in a consistent read-only snapshot. */
export function inReadSnapshot<T>(db: SqlDatabase, fn: (tx: SqlSession) => Promise<T>): Promise<T> {
  return inTransaction(
    db,
    `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config('TimeZone', 'UTC', true)`,
    async () => {},
    fn,
  );
}
