/**
 * Database failures that are nobody's mistake in the request: a lost or refused connection, or a
 * transaction PostgreSQL kept refusing under contention. They are answered `503` with
 * `Retry-After` and a stable code, never with the database's text, so clients retry instead of
 * giving up (and never retry a 5xx that would fail again).
 */
import { isConnectionFault } from '../database/connection-faults.ts';
import { isRetryablePgError, retryLaterError } from './sync-error.ts';
import type { SyncServerError } from './sync-error.ts';

/** Seconds a client should wait before retrying a request that met a database fault. */
const DATABASE_RETRY_AFTER_SECONDS = 1;

/**
 * The protocol answer for a transient database fault, or null when `err` is something else.
 * `database_unavailable`: the connection was lost, refused or timed out (restart, failover, admin
 * kill). `database_busy`: serialization failure / deadlock / lock timeout after the runtime's own
 * retries. Either way the request's transaction did not commit, except that a connection lost
 * during COMMIT may have committed it: the protocol's idempotency (push commit answers
 * `push_session_not_found`, the recreated session `already_committed`) covers that.
 */
export function transientDatabaseFault(err: unknown): SyncServerError | null {
  if (isConnectionFault(err)) {
    return retryLaterError(
      'database_unavailable',
      'the database connection was lost or is unavailable; retry the request',
      DATABASE_RETRY_AFTER_SECONDS,
    );
  }
  if (isRetryablePgError(err)) {
    return retryLaterError('database_busy', 'the database is busy with conflicting work; retry the request', DATABASE_RETRY_AFTER_SECONDS);
  }
  return null;
}
