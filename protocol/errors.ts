/**
 * Error codes of the oversync protocol and the HTTP status each one travels with.
 *
 * The error envelope is `{"error": <code>, "message": <text>}`; `push_conflict` adds `conflict`
 * and `source_retired` adds `source_id` / `replaced_by_source_id`.
 */
import type { PushConflictDetail } from './wire.ts';

/** Every error code a v1 server may answer with, mapped to its HTTP status. */
const WIRE_ERROR_STATUS = {
  authentication_failed: 401,
  invalid_request: 400,
  method_not_allowed: 405,
  not_found: 404,
  service_unavailable: 503,
  /** oversqlite: the server lost (or could not get) its database connection; retry after `Retry-After`. */
  database_unavailable: 503,
  /** oversqlite: the database kept refusing the transaction (serialization, deadlock, lock); retry after `Retry-After`. */
  database_busy: 503,
  connect_invalid: 400,
  connect_failed: 500,
  push_session_invalid: 400,
  push_session_create_failed: 500,
  /** oversqlite: the user holds too many open push sessions / planned rows; retry after `Retry-After`. */
  push_session_capacity: 429,
  scope_uninitialized: 409,
  scope_initializing: 409,
  initialization_stale: 409,
  initialization_expired: 410,
  history_pruned: 409,
  checkpoint_ahead: 409,
  source_sequence_out_of_order: 409,
  source_sequence_changed: 409,
  source_retired: 409,
  push_chunk_invalid: 400,
  push_chunk_out_of_order: 409,
  push_session_not_found: 404,
  push_session_expired: 410,
  push_session_forbidden: 403,
  push_chunk_failed: 500,
  push_commit_invalid: 400,
  push_conflict: 409,
  push_session_commit_failed: 500,
  push_session_delete_failed: 500,
  committed_bundle_chunk_invalid: 400,
  committed_bundle_not_found: 404,
  committed_bundle_rows_failed: 500,
  pull_failed: 500,
  bundle_change_watch_forbidden: 403,
  /** oversqlite: the user holds too many watch streams in this server process; retry after `Retry-After`. */
  bundle_change_watch_capacity: 429,
  bundle_change_watch_disabled: 503,
  bundle_change_watch_failed: 500,
  snapshot_session_invalid: 400,
  source_replacement_invalid: 409,
  snapshot_session_create_failed: 500,
  snapshot_build_capacity: 503,
  snapshot_chunk_capacity: 503,
  snapshot_chunk_invalid: 400,
  snapshot_session_not_found: 404,
  snapshot_session_expired: 410,
  snapshot_session_forbidden: 403,
  snapshot_chunk_failed: 500,
  snapshot_session_delete_failed: 500,
  status_failed: 500,
  health_failed: 500,
} as const;

/** A protocol error code. */
export type WireErrorCode = keyof typeof WIRE_ERROR_STATUS;

/** Plain error envelope. */
export interface ErrorResponse {
  error: WireErrorCode | string;
  message: string;
}

/** `409 push_conflict` envelope. */
export interface PushConflictResponse extends ErrorResponse {
  error: 'push_conflict';
  conflict: PushConflictDetail;
}

/** Why the database refused a pushed row (oversqlite; see docs/protocol-differences.md "Rejections of pushed data"). */
export type PushRejectionReason =
  | 'invalid_value'
  | 'value_out_of_range'
  | 'value_too_long'
  | 'missing_value'
  | 'missing_reference'
  | 'still_referenced'
  | 'unique_violation'
  | 'check_violation'
  | 'rejected_by_rule';

/** The pushed row a commit was refused for, in protocol terms (no SQL, relation or constraint names). */
export interface PushRejectionDetail {
  schema: string;
  table: string;
  key: Record<string, string>;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  /** The offending column(s), when the database says which. */
  columns: string[];
  reason: PushRejectionReason;
  /** For `missing_reference` / `still_referenced`: the other row, as `{schema, table, key}`. */
  references?: { schema: string; table: string; key: Record<string, string> };
}

/**
 * A commit refused because of the pushed data: `400 push_commit_invalid` with `rejection` for
 * contracts-dialect sessions; `500 push_session_commit_failed` (go-oversync 1f1118f's answer)
 * with the same `rejection` for go-oversync sessions. Final for that bundle: retrying it cannot
 * succeed.
 */
export interface PushRejectedResponse extends ErrorResponse {
  error: 'push_commit_invalid' | 'push_session_commit_failed';
  rejection: PushRejectionDetail;
}

/** `409 source_retired` envelope. */
export interface SourceRetiredResponse extends ErrorResponse {
  error: 'source_retired';
  source_id: string;
  replaced_by_source_id?: string;
}

/** Error codes that put a client into durable source recovery (rotated rebuild). */
export const SOURCE_RECOVERY_CODES = [
  'history_pruned',
  'source_sequence_out_of_order',
  'source_sequence_changed',
  'source_retired',
] as const;

/** True when `code` is a known protocol error code. */
export function isWireErrorCode(code: unknown): code is WireErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(WIRE_ERROR_STATUS, code);
}

/** The HTTP status for a protocol error code (500 for unknown codes). */
export function statusForWireError(code: string): number {
  return isWireErrorCode(code) ? WIRE_ERROR_STATUS[code] : 500;
}
