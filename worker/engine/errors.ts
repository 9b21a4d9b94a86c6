/**
 * The engine's one error type. `code` is stable and meant for programs to branch on: either a
 * protocol error code from the server's envelope (`push_conflict`, `history_pruned`, ...) or one
 * of the engine's own codes below. `status` is the HTTP status when the error came from the server.
 */
import type { SyncErrorInfo } from './types.ts';

/** Codes the engine raises itself (the server's codes come from `protocol/errors.ts`). */
export type EngineErrorCode =
  | 'config_invalid'
  | 'engine_closed'
  | 'not_attached'
  | 'attach_binding_conflict'
  | 'attach_user_mismatch'
  | 'lifecycle_unsupported'
  | 'protocol_version_mismatch'
  | 'table_contract_mismatch'
  | 'bad_server_response'
  | 'bundle_hash_mismatch'
  | 'source_sequence_mismatch'
  | 'rebuild_required'
  | 'auth_required'
  | 'token_unavailable'
  | 'network_error'
  | 'wire_value_invalid'
  // A value one side cannot carry exactly in the server's dialect (detail: table, key, column, value).
  | 'value_not_representable'
  | 'conflict_retry_exhausted'
  | 'conflict_needs_pull'
  | 'invalid_conflict_resolution'
  // The conflict resolver did not decide within `conflictResolverTimeoutMs` (changes stay pending).
  | 'conflict_resolver_timeout'
  | 'apply_failed'
  // The `_sync_*` tables were written by a newer build, or by a pre-release one (metadata.ts).
  | 'metadata_layout_too_new'
  | 'metadata_layout_unknown'
  | 'aborted';

/** A typed sync failure. */
export class SyncError extends Error {
  constructor(
    readonly code: EngineErrorCode | (string & {}),
    message: string,
    readonly status?: number,
    /** Extra structured detail (e.g. the server's `conflict` object). Plain data. */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'SyncError';
  }

  /** Plain-data form for status and events. */
  toInfo(): SyncErrorInfo {
    const info: SyncErrorInfo =
      this.status === undefined
        ? { code: this.code, message: this.message }
        : { code: this.code, message: this.message, status: this.status };
    const rejected = rejectedRow(this.detail);
    if (rejected) info.rejected = rejected;
    return info;
  }
}

/** The refused row of a push rejection's `rejection` object, when the answer carries a well-formed one. */
function rejectedRow(detail: unknown): SyncErrorInfo['rejected'] {
  const r = detail && typeof detail === 'object' ? (detail as { rejection?: unknown }).rejection : undefined;
  if (!r || typeof r !== 'object') return undefined;
  const { table, key, op, reason, columns } = r as Record<string, unknown>;
  const keyValues = key && typeof key === 'object' ? Object.values(key as Record<string, unknown>) : [];
  if (
    typeof table !== 'string' ||
    keyValues.length !== 1 ||
    typeof keyValues[0] !== 'string' ||
    typeof op !== 'string' ||
    typeof reason !== 'string'
  )
    return undefined;
  return {
    table,
    key: keyValues[0],
    op,
    reason,
    columns: Array.isArray(columns) ? columns.filter((c): c is string => typeof c === 'string') : [],
  };
}

/** Whether a response field is an integer a double holds exactly (not a number: false), at least `min`. */
export function isIntFrom(v: unknown, min: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min;
}

/** A server answer that does not match the protocol. Nothing is applied when this is thrown. */
export function badResponse(message: string): SyncError {
  return new SyncError('bad_server_response', `server response rejected: ${message}`);
}

/** Turns anything thrown into plain error info. */
export function toErrorInfo(error: unknown): SyncErrorInfo {
  if (error instanceof SyncError) return error.toInfo();
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return { code: (error as { code: string }).code, message: String((error as { message?: unknown }).message ?? error) };
  }
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}
