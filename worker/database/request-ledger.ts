/**
 * Durable record of the write requests a leader applied, keyed by the caller's request id and
 * written in the same transaction as the write itself. When a tab retries a call after a leader
 * hand-over, the new leader finds the id and returns the recorded result instead of applying the
 * write a second time: a write is applied exactly once whether or not its answer got through.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { ExecResult } from './types.ts';

/** Ledger entries older than this are pruned when a database opens. */
const RETENTION_MS = 24 * 60 * 60 * 1000;

/** Creates the ledger table if needed and prunes expired entries. */
export function installRequestLedger(db: Database, now = Date.now()): void {
  db.exec(`CREATE TABLE IF NOT EXISTS _oversqlite_requests (
    request_id TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
  db.exec({ sql: 'DELETE FROM _oversqlite_requests WHERE applied_at < ?', bind: [now - RETENTION_MS] });
}

// bigint and bytes do not survive JSON; tag them so a replayed result is identical to the original.
function encode(results: readonly ExecResult[]): string {
  return JSON.stringify(results, (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return { $bytes: Array.from(value) };
    return value;
  });
}

function decode(text: string): ExecResult[] {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object') {
      const tagged = value as { $bigint?: string; $bytes?: number[] };
      if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint);
      if (Array.isArray(tagged.$bytes)) return Uint8Array.from(tagged.$bytes);
    }
    return value;
  }) as ExecResult[];
}

/** The recorded results of request `requestId`, or undefined if it was never applied. */
export function findAppliedRequest(db: Database, requestId: string): ExecResult[] | undefined {
  const text = db.selectValue('SELECT result FROM _oversqlite_requests WHERE request_id = ?', [requestId]);
  return typeof text === 'string' ? decode(text) : undefined;
}

/** Records that `requestId` was applied with `results` (call inside the write's transaction). */
export function recordAppliedRequest(db: Database, requestId: string, results: readonly ExecResult[], now = Date.now()): void {
  db.exec({
    sql: 'INSERT INTO _oversqlite_requests (request_id, result, applied_at) VALUES (?, ?, ?)',
    bind: [requestId, encode(results), now],
  });
}
