/**
 * Test-only endpoints of the reference server, mounted only when `OVERSQLITE_TEST_HOOKS=1`:
 *
 * - `POST /test/retention-floor {"user_id","retained_bundle_floor"}` raises a user's retained
 *   history floor (so clients meet `history_pruned`).
 * - `POST /test/server-write {"user_id","source_id"?,"changes":[…]}` applies a server-originated
 *   write as one bundle. Each change is `{"table":"tasks","op":"upsert","row":{…}}` (insert, or
 *   update the named columns of an existing row) or `{"table":"tasks","op":"delete","id":"…"}`.
 *   Answers `{"bundle": {bundle_seq, source_id, source_bundle_id, row_count, bundle_hash}}`.
 */
import { quoteIdent } from '../database/sql-identifiers.ts';
import type { SqlSession } from '../database/types.ts';
import type { SyncServer } from '../index.ts';
import { readBoundedText } from '../http/request-body.ts';
import { SyncServerError } from '../runtime/sync-error.ts';
import type { RegisteredTable } from '../runtime/options.ts';

/** The writer source id used when `/test/server-write` names none. */
const DEFAULT_TEST_WRITER_SOURCE_ID = 'server:reference-test';

/** Largest test-hook body read. */
const TEST_HOOK_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A malformed test-hook request (answered 400 invalid_request). */
class TestHookInputError extends Error {}

/** One change of `/test/server-write`, validated. */
type ServerWriteChange =
  { op: 'upsert'; table: RegisteredTable; row: Record<string, unknown> } | { op: 'delete'; table: RegisteredTable; id: string };

function qualified(table: RegisteredTable): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
}

function errorResponse(status: number, error: string, message: string, extra: Record<string, unknown> = {}): Response {
  return Response.json({ error, message, ...extra }, { status });
}

async function readObject(request: Request): Promise<Record<string, unknown>> {
  const text = await readBoundedText(request, TEST_HOOK_MAX_BODY_BYTES);
  if (text === null) throw new TestHookInputError(`The body exceeds ${TEST_HOOK_MAX_BODY_BYTES} bytes.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TestHookInputError('The body must be a JSON object.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TestHookInputError('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

function nonBlankString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TestHookInputError(`"${field}" must be a non-blank string.`);
  return value;
}

function parseChanges(value: unknown, tables: readonly RegisteredTable[]): ServerWriteChange[] {
  if (!Array.isArray(value) || value.length === 0) throw new TestHookInputError('"changes" must be a non-empty array.');
  return value.map((change: unknown, index) => {
    const at = `changes[${index}]`;
    if (typeof change !== 'object' || change === null) throw new TestHookInputError(`${at} must be an object.`);
    const { table: tableName, op, row, id } = change as Record<string, unknown>;
    const name = nonBlankString(tableName, `${at}.table`);
    const table = tables.find((t) => t.table === name || `${t.schema}.${t.table}` === name);
    if (!table) {
      throw new TestHookInputError(
        `${at}.table "${name}" is not a registered table (${tables.map((t) => `${t.schema}.${t.table}`).join(', ')}).`,
      );
    }
    if (op === 'upsert') {
      if (typeof row !== 'object' || row === null || Array.isArray(row))
        throw new TestHookInputError(`${at}.row must be an object of column values.`);
      const columns = Object.keys(row);
      if (!columns.includes(table.syncKey)) throw new TestHookInputError(`${at}.row must include the sync key "${table.syncKey}".`);
      if (columns.includes('_sync_scope_id')) throw new TestHookInputError(`${at}.row must not set _sync_scope_id; it is the user_id.`);
      return { op, table, row: row as Record<string, unknown> };
    }
    if (op === 'delete') return { op, table, id: nonBlankString(id, `${at}.id`) };
    throw new TestHookInputError(`${at}.op must be "upsert" or "delete".`);
  });
}

/** Applies one change; column values go through `jsonb_populate_record`, so JSON values take the column types. */
async function applyChange(tx: SqlSession, userId: string, change: ServerWriteChange): Promise<void> {
  const target = qualified(change.table);
  const key = quoteIdent(change.table.syncKey);
  if (change.op === 'delete') {
    const deleted = await tx.query(`delete from ${target} where _sync_scope_id = $1 and ${key}::text = $2`, [userId, change.id]);
    if (deleted.rowCount === 0)
      throw new TestHookInputError(`No ${change.table.table} row with ${change.table.syncKey} = ${change.id} for this user.`);
    return;
  }
  const columns = Object.keys(change.row).map(quoteIdent);
  const updates = columns.filter((column) => column !== key).map((column) => `${column} = excluded.${column}`);
  await tx.query(
    `insert into ${target} (_sync_scope_id, ${columns.join(', ')})
     select $1, ${columns.map((column) => `r.${column}`).join(', ')} from jsonb_populate_record(null::${target}, $2::jsonb) r
     on conflict (_sync_scope_id, ${key}) do ${updates.length > 0 ? `update set ${updates.join(', ')}` : 'nothing'}`,
    [userId, JSON.stringify(change.row)],
  );
}

/** SQLSTATE classes that mean the test's data was wrong (bad column, type, constraint), not the server. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}

function failure(err: unknown): Response {
  if (err instanceof TestHookInputError) return errorResponse(400, 'invalid_request', err.message);
  if (err instanceof SyncServerError) return errorResponse(err.status, err.code, err.message, err.extra);
  if (isDataError(err)) return errorResponse(400, 'invalid_request', `PostgreSQL rejected the write: ${(err as Error).message}`);
  throw err;
}

/** Serves `/test/*`; null for other paths. */
export async function serveTestHook(request: Request, sync: SyncServer, tables: readonly RegisteredTable[]): Promise<Response | null> {
  const path = new URL(request.url).pathname;
  if (path !== '/test/retention-floor' && path !== '/test/server-write') return null;
  if (request.method !== 'POST') return errorResponse(405, 'method_not_allowed', `Use POST ${path}.`);
  try {
    const body = await readObject(request);
    const userId = nonBlankString(body.user_id, 'user_id');
    if (path === '/test/retention-floor') {
      const floor = body.retained_bundle_floor;
      if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < 0) {
        throw new TestHookInputError('"retained_bundle_floor" must be a non-negative integer.');
      }
      await sync.pruneHistory(userId, floor);
      return Response.json({ user_id: userId, retained_bundle_floor: floor });
    }
    const sourceId = body.source_id === undefined ? DEFAULT_TEST_WRITER_SOURCE_ID : nonBlankString(body.source_id, 'source_id');
    const changes = parseChanges(body.changes, tables);
    const { bundle } = await sync.writeAs(userId, sourceId, async (tx) => {
      for (const change of changes) await applyChange(tx, userId, change);
    });
    return Response.json({ bundle });
  } catch (err) {
    return failure(err);
  }
}
