/**
 * Which errors mean "the connection to PostgreSQL is gone or cannot be had" (as opposed to an SQL
 * error on a healthy connection). Such a connection must never go back to the pool, and the
 * request that used it is worth retrying once the database is back.
 */

/**
 * SQLSTATEs that end or refuse a session: class 08 (connection exception), the server shutting
 * down or starting up (57P01–57P03), a session timeout (25P03 idle in transaction, 57P05 idle
 * session), too many connections (53300).
 */
const CONNECTION_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1235]|25P03|53300)$/;

/** Socket-level failures Node reports with a `code`. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** What `pg` / `pg-pool` say (without a code) when a connection dies or cannot be opened. */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect|Query read timeout|Connection ended)/i;

/** True when `err` reports a lost, refused or timed-out PostgreSQL connection. */
export function isConnectionFault(err: unknown): boolean {
  return connectionFaultDepth(err, 0);
}

function connectionFaultDepth(err: unknown, depth: number): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message)) return true;
  // Node reports a refused multi-address connect (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (Array.isArray(errors)) return errors.some((e) => connectionFaultDepth(e, depth + 1));
  return false;
}
