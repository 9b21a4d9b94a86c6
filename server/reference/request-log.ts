/** One log line per request: `method path status ms user`. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the log line needs to learn while the request runs. */
interface RequestLogRecord {
  userId: string | null;
}

const current = new AsyncLocalStorage<RequestLogRecord>();

/** Records the authenticated user of the request being served (shown in its log line). */
export function noteAuthenticatedUser(userId: string | null): void {
  const record = current.getStore();
  if (record) record.userId = userId;
}

/**
 * A field of a log line as printed: plain printable ASCII as is, anything else JSON-quoted with
 * every control, DEL/C1 and line/paragraph separator escaped and cut at 200 characters, so no
 * input (a path, a user id) can forge a line or flood the log.
 */
export function logField(value: string): string {
  if (/^[\x21-\x7e]{1,200}$/.test(value)) return value;
  const cut = value.length > 200 ? `${value.slice(0, 200)}…` : value;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Runs `serve` for one request and writes its log line when the response is done (or the client
 * went away, e.g. a closed watch stream): `GET /sync/pull 200 12.3ms user=alice`.
 */
export function withRequestLog(req: IncomingMessage, res: ServerResponse, log: (line: string) => void, serve: () => void): void {
  const started = performance.now();
  const record: RequestLogRecord = { userId: null };
  res.once('close', () => {
    const path = (req.url ?? '/').split('?')[0];
    const ms = (performance.now() - started).toFixed(1);
    const status = res.writableFinished ? String(res.statusCode) : `${res.statusCode}(closed)`;
    log(
      `${logField(req.method ?? '-')} ${logField(path ?? '/')} ${status} ${ms}ms user=${record.userId === null ? '-' : logField(record.userId)}`,
    );
  });
  current.run(record, serve);
}
